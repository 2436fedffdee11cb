-- Why: the analytics read the executions from fct_execution_outcomes, so each dated execution of each account's fct_executions (one with an enrolment, an end or a goal) is in exactly one of its rows, with its duration and goal value (over the days whose detail retention kept: before them the outcomes keep what the purge deleted).
-- Shown in Dagster as a check of the mart it guards (it reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'fct_execution_outcomes'}}}) }}
with executions as (

    select
        account_id,
        count(*) as executions,
        count(duration_seconds) as durations,
        coalesce(sum(duration_seconds::float8), 0) as duration_sum,
        coalesce(sum(goal_value_usd), 0) as goal_value_usd
    from {{ ref('fct_executions') }}
    where {{ wfa_execution_last_moment() }} is not null
        and {{ wfa_detail_kept(wfa_execution_last_moment(), is_time=true) }}
    group by 1

),

durations as (

    select account_id, sum(d) as duration_sum
    from {{ ref('fct_execution_outcomes') }}, unnest(durations) as d
    where {{ wfa_detail_kept('date') }}
    group by 1

),

outcomes as (

    select
        account_id,
        coalesce(sum(executions), 0) as executions,
        coalesce(sum(cardinality(durations)), 0) as durations,
        coalesce(sum(goal_value_usd), 0) as goal_value_usd
    from {{ ref('fct_execution_outcomes') }}
    where {{ wfa_detail_kept('date') }}
    group by 1

)

select
    coalesce(executions.account_id, outcomes.account_id) as account_id,
    executions.executions, outcomes.executions as outcome_executions
from executions
full join outcomes on executions.account_id = outcomes.account_id
left join durations on durations.account_id = coalesce(executions.account_id, outcomes.account_id)
where coalesce(executions.executions, 0) <> coalesce(outcomes.executions, 0)
    or coalesce(executions.durations, 0) <> coalesce(outcomes.durations, 0)
    or abs(coalesce(executions.duration_sum, 0) - coalesce(durations.duration_sum, 0))
        > 1e-6 * (1 + coalesce(executions.duration_sum, 0))
    or coalesce(executions.goal_value_usd, 0) <> coalesce(outcomes.goal_value_usd, 0)
