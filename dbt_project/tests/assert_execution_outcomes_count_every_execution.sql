-- Why: the analytics read the executions from fct_execution_outcomes, so each execution of fct_executions is in exactly one of its rows, with its duration and goal value (over the days whose detail retention kept: before them the outcomes keep what the purge deleted).
-- Shown in Dagster as a check of the mart it guards (it reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'fct_execution_outcomes'}}}) }}
with executions as (

    select
        count(*) as executions,
        count(duration_seconds) as durations,
        coalesce(sum(duration_seconds::float8), 0) as duration_sum,
        coalesce(sum(goal_value_usd), 0) as goal_value_usd
    from {{ ref('fct_executions') }}
    where {{ wfa_detail_kept(wfa_execution_last_moment(), is_time=true) }}

),

outcomes as (

    select
        coalesce(sum(executions), 0) as executions,
        coalesce(sum(cardinality(durations)), 0) as durations,
        coalesce((select sum(d) from {{ ref('fct_execution_outcomes') }}, unnest(durations) as d
                  where {{ wfa_detail_kept('date') }}), 0) as duration_sum,
        coalesce(sum(goal_value_usd), 0) as goal_value_usd
    from {{ ref('fct_execution_outcomes') }}
    where {{ wfa_detail_kept('date') }}

)

select *
from executions, outcomes
where executions.executions <> outcomes.executions
    or executions.durations <> outcomes.durations
    or abs(executions.duration_sum - outcomes.duration_sum) > 1e-6 * (1 + executions.duration_sum)
    or executions.goal_value_usd <> outcomes.goal_value_usd
