-- Why: each step.failed is one error and an execution.failed counts only in an execution without any step.failed, so the errors mart holds exactly that many errors (over the days whose detail retention kept).
-- Shown in Dagster as a check of the mart it guards (it reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'fct_errors_daily'}}}) }}
with expected as (

    select
        (
            select count(*)
            from {{ ref('int_step_outcomes_extracted') }}
            where is_failure and {{ wfa_detail_kept('occurred_date') }}
        )
        + (
            select count(*)
            from {{ ref('int_executions_summarised') }} as executions
            where failed_at is not null
                and {{ wfa_detail_kept('failed_at', is_time=true) }}
                and not exists (
                    select 1
                    from {{ ref('int_step_outcomes_extracted') }} as outcomes
                    where outcomes.is_failure and outcomes.execution_id = executions.execution_id
                )
        ) as errors

)

select expected.errors, actual.errors
from expected
cross join (
    select coalesce(sum(errors), 0) as errors
    from {{ ref('fct_errors_daily') }}
    where {{ wfa_detail_kept('date') }}
) as actual
where expected.errors <> actual.errors
