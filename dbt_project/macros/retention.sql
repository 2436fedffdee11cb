{#- The retention horizon (warehouse/retention.py): the first UTC day whose raw events
    are still there after the latest purge, as an ISO date string; none before any purge (or
    in a warehouse without the platform's migrations). -#}
{% macro wfa_retention_horizon() -%}
    {%- set exists = run_query("select to_regclass('platform.retention_runs') is not null").rows[0][0] -%}
    {%- if not exists -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query("select max(detail_before)::text from platform.retention_runs").rows -%}
    {{ return(found[0][0] if found and found[0][0] else none) }}
{%- endmacro %}

{#- on-run-start: once a purge has run, a full refresh would rebuild the daily and monthly
    marts from the raw events that are left and lose every purged day. It refuses unless
    forced: `dbt run --full-refresh --vars '{wfa_force_full_refresh: true}'` (or `wfa dbt ...`). -#}
{% macro wfa_guard_full_refresh() -%}
    {%- if execute and flags.FULL_REFRESH and not var('wfa_force_full_refresh', false) -%}
        {%- set horizon = wfa_retention_horizon() -%}
        {%- if horizon is not none -%}
            {{ exceptions.raise_compiler_error(
                "refusing --full-refresh: the retention job purged the raw events before "
                ~ horizon ~ ", so a full refresh would erase the daily and monthly history of "
                ~ "those days. Force it with --vars '{wfa_force_full_refresh: true}'.") }}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}

{#- A predicate keeping what the latest purge left of the detail: a date column (or, with
    is_time, a timestamptz taken at UTC midnight) not before the retention horizon; `true`
    before any purge. The checks that compare the marts with the detail compare only these
    days: before the horizon the daily marts keep figures whose detail is gone. -#}
{% macro wfa_detail_kept(column, is_time=false) -%}
    {%- set horizon = wfa_retention_horizon() if execute else none -%}
    {%- if horizon is none -%}
        true
    {%- elif is_time -%}
        ({{ column }} >= timestamp '{{ horizon }}' at time zone 'UTC')
    {%- else -%}
        ({{ column }} >= date '{{ horizon }}')
    {%- endif -%}
{%- endmacro %}

{#- An execution's last dated moment in fct_executions: the later of its end and its goal (a
    goal can come after a completion), else its enrolment. The retention of fct_executions goes
    by it (warehouse/retention.py, POLICY), and so does fct_execution_outcomes. -#}
{% macro wfa_execution_last_moment() -%}
    coalesce(greatest(ended_at, goal_achieved_at), enrolled_at)
{%- endmacro %}
