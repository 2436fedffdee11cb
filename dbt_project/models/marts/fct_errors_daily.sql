-- Errors by workflow, step, error type and UTC day; a row only where there were errors.
-- Each step.failed event is one error of its step. An execution.failed in an execution
-- without any step.failed is one error with a null step_id (its earliest execution.failed).
-- Nothing is counted twice; each error is dated by the UTC day of the event counted.
-- Incremental: a window run rewrites the window's days (macros/window.sql).
{{ wfa_incremental_window_replace(window_column='date') }}

with step_errors as (

    select
        account_id,
        workflow_id,
        step_id,
        error_type,
        occurred_date as date,
        action_type,
        failed_execution_id as execution_id,
        failures as errors,
        sample_error_message as error_message
    from {{ ref('int_step_outcomes_aggregated') }}
    where failures > 0
        and {{ wfa_when_incremental(wfa_in_window_dates('occurred_date')) }}

),

execution_errors as (

    select
        account_id,
        workflow_id,
        null::text as step_id,
        failure_error_type as error_type,
        {{ utc_date('failed_at') }} as date,
        null::text as action_type,
        execution_id,
        1 as errors,
        failure_error_message as error_message
    from {{ ref('int_executions_summarised') }} as executions
    where failed_at is not null
    {% if is_incremental() %}
        and {{ wfa_since_window_start('last_event_at') }}
        and {{ wfa_in_window_times('failed_at') }}
    {% endif %}
        and not exists (
            select 1
            from {{ ref('int_step_outcomes_aggregated') }} as step_failures
            where step_failures.failed_execution_id = executions.execution_id
        )

),

errors as (

    select * from step_errors
    union all
    select * from execution_errors

)

select
    account_id,
    workflow_id,
    step_id,
    error_type,
    date,
    min(action_type) as action_type,
    sum(errors)::bigint as errors,
    count(distinct execution_id) as affected_executions,
    min(error_message) as sample_error_message
from errors
group by account_id, workflow_id, step_id, error_type, date
