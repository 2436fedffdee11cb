{{ config(
    materialized='incremental',
    incremental_strategy='window_replace',
    window_column='date',
    indexes=[{'columns': ['date']}]
) }}

-- The funnel's counts before the executions' final status is known: the execution steps
-- (int_step_entries) counted per step of a workflow version, UTC day (of entry, or of the
-- first step.skipped for a step never entered) and outcome. The executions that entered a
-- step without completing it are kept one per row (unfinished_execution_id), because whether
-- they are in progress, converted or dropped off depends on their final status, which the
-- funnel mart looks up; every other row has a null unfinished_execution_id and counts many
-- execution steps. Incremental: a window run re-counts the window's days.
with aggregated as (

    select
        account_id,
        workflow_id,
        workflow_version,
        step_id,
        date,
        flags,
        case when flags & 5 = 0 then execution_id end as unfinished_execution_id,
        count(*) as step_executions,
        sum(duration_ms) as duration_ms,
        count(duration_ms) as timed
    from {{ ref('int_step_entries') }}
    where {{ wfa_when_incremental(wfa_in_window_dates('date')) }}
    group by 1, 2, 3, 4, 5, 6, 7

)

select
    account_id,
    workflow_id,
    workflow_version,
    step_id,
    date,
    flags & 4 = 0 as is_entered,
    flags & 1 = 1 as has_completed,
    flags & 2 = 2 as has_failed,
    unfinished_execution_id,
    step_executions,
    duration_ms,
    timed
from aggregated
