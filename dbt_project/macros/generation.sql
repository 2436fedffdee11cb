{#- on-run-end: the marts may have changed, so answers cached from them are out of date
    (platform.marts_generation, api/infra/response_cache.py). A warehouse without the platform's
    migrations has no counter: nothing to bump. -#}
{% macro wfa_bump_marts_generation() -%}
    do $$
    begin
        if to_regclass('platform.marts_generation') is not null then
            update platform.marts_generation set generation = generation + 1, changed_at = now();
        end if;
    end
    $$
{%- endmacro %}
