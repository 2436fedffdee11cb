-- Why: each step.failed is one error and an execution.failed counts only in an execution without any step.failed, so each account's errors mart holds exactly that many errors (over the days whose detail retention kept).
-- Shown in Dagster as a check of the mart it guards (it reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'fct_errors_daily'}}}) }}
with expected as (

    select account_id, count(*) as errors
    from (
        select account_id
        from {{ ref('int_step_outcomes_extracted') }}
        where is_failure and {{ wfa_detail_kept('occurred_date') }}
        union all
        select account_id
        from {{ ref('int_executions_summarised') }} as executions
        where failed_at is not null
            and {{ wfa_detail_kept('failed_at', is_time=true) }}
            and not exists (
                select 1
                from {{ ref('int_step_outcomes_extracted') }} as outcomes
                where outcomes.is_failure and outcomes.execution_id = executions.execution_id
            )
    ) as errors
    group by 1

),

actual as (

    select account_id, sum(errors) as errors
    from {{ ref('fct_errors_daily') }}
    where {{ wfa_detail_kept('date') }}
    group by 1

)

select
    coalesce(expected.account_id, actual.account_id) as account_id,
    expected.errors as expected_errors,
    actual.errors as actual_errors
from expected
full join actual on expected.account_id = actual.account_id
where coalesce(expected.errors, 0) <> coalesce(actual.errors, 0)
