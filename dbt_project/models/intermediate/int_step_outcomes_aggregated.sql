-- Step outcomes (step.completed / step.failed events) per step of a workflow version, UTC day
-- of the event and error type: the event-dated counts, durations and costs the daily marts add
-- up. Failures are kept apart per execution (failed_execution_id) so that fct_errors_daily can
-- count the executions an error affected; every other row has a null failed_execution_id. The
-- step's type and action type come from its version's definition.
{{ config(
    prefer_hash_aggregates=true,
    materialized='incremental',
    incremental_strategy='window_replace',
    window_column='occurred_date',
    indexes=[{'columns': ['occurred_date']}, {'columns': ['failed_execution_id']}]
) }}

with aggregated as (

    select
        account_id,
        workflow_id,
        workflow_version,
        step_id,
        occurred_date,
        error_type,
        case when is_failure then execution_id end as failed_execution_id,
        count(*) as outcomes,
        count(*) filter (where is_failure) as failures,
        sum(duration_ms) as duration_ms,
        count(duration_ms) as durations,
        sum(credits) as credits,
        sum(cost_usd) as cost_usd,
        min(error_message) as sample_error_message
    from {{ ref('int_step_outcomes_extracted') }}
    where {{ wfa_when_incremental(wfa_in_window_dates('occurred_date')) }}
    group by 1, 2, 3, 4, 5, 6, 7

),

definitions as (

    select workflow_id, workflow_version, step_id, step_type, action_type
    from {{ ref('stg_raw__workflow_steps') }}

)

select
    aggregated.account_id,
    aggregated.workflow_id,
    aggregated.workflow_version,
    aggregated.step_id,
    aggregated.occurred_date,
    definitions.step_type,
    definitions.action_type,
    aggregated.error_type,
    aggregated.failed_execution_id,
    aggregated.outcomes,
    aggregated.failures,
    aggregated.duration_ms,
    aggregated.durations,
    aggregated.credits,
    aggregated.cost_usd,
    aggregated.sample_error_message
from aggregated
left join definitions
    on aggregated.workflow_id = definitions.workflow_id
    and aggregated.workflow_version = definitions.workflow_version
    and aggregated.step_id = definitions.step_id
