{#- Per-model session settings, run as a pre-hook inside the model's transaction (`set local`
    lasts until its commit). Models tagged `heavy` aggregate millions of rows into large hash
    tables and get more memory (var wfa_heavy_work_mem). JIT compilation costs more than it
    saves on these plans. Parallel workers are off: dbt already runs several models at once,
    and a parallel partial aggregation by execution does not shrink the rows it passes on (an
    execution's events are spread over all workers), so it only adds work. -#}
{% macro wfa_session_settings() -%}
    {%- set heavy = 'heavy' in (model.config.get('tags') or []) -%}
    {%- set work_mem = var('wfa_heavy_work_mem') if heavy else var('wfa_work_mem') -%}
    set local jit = off;
    set local max_parallel_workers_per_gather = 0;
    set local work_mem = '{{ work_mem }}'
{%- endmacro %}
