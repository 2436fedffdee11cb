{{ config(
    tags=['heavy'],
    materialized='incremental',
    incremental_strategy='window_replace',
    window_column='date',
    indexes=[{'columns': ['date']}]
) }}

-- The funnel's counts before the executions' final status is known: execution steps counted
-- per step of a workflow version, UTC day (of entry, or of the first step.skipped for a step
-- never entered) and outcome. The executions that entered a step without completing it are
-- kept one per row (unfinished_execution_id), because whether they are in progress, converted
-- or dropped off depends on their final status, which the funnel mart looks up; every other
-- row has a null unfinished_execution_id and counts many execution steps.
--
-- Two levels in one query. First, one pass over the step.* events gives one row per execution
-- and step it reached or skipped (the funnel's unit): entered_at is the earliest of
-- step.started / step.completed / step.failed (a step entered without its step.started, e.g.
-- when that event is lost, still counts as entered), skipped_at the earliest step.skipped.
-- That group-by has a group per execution step, the largest of the project, so it keeps to
-- cheap by-value aggregates over values computed once per event (amounts and error details
-- come from int_step_outcomes_extracted). Then those rows are counted as they come: writing a
-- row per execution step to read it once would cost far more.
with step_events as (

    select
        execution_id,
        step_id,
        account_id,
        workflow_id,
        workflow_version,
        occurred_at,
        event_type = 'step.skipped' as is_skip,
        -- bit 1: step.completed, bit 2: step.failed
        case event_type when 'step.completed' then 1 when 'step.failed' then 2 else 0 end
            as outcome_flag,
        -- time in step: duration_ms of the step.completed / step.failed; milliseconds, whole
        -- or fractional, are exact in float8
        case when event_type in ('step.completed', 'step.failed') then duration_ms::float8 end
            as duration_ms
    from {{ ref('stg_raw__events') }}
    where event_type in ('step.started', 'step.completed', 'step.failed', 'step.skipped')
        -- a window run counts the execution steps dated in the window: each belongs to an
        -- execution with an event in it, and is summarised from all that execution's events
        {% if is_incremental() %}
        and execution_id in ({{ wfa_window_execution_ids() }})
        {% endif %}
    offset 0  -- compute the values above once per event, not once per aggregate below

),

summarised as (

    select
        execution_id,
        step_id,
        account_id,
        workflow_id,
        workflow_version,
        min(occurred_at) filter (where not is_skip) as entered_at,
        min(occurred_at) filter (where is_skip) as skipped_at,
        bit_or(outcome_flag) as outcome_flags,
        sum(duration_ms) as duration_ms
    from step_events
    group by execution_id, step_id, account_id, workflow_id, workflow_version

),

step_executions_summarised as (

    select
        execution_id,
        step_id,
        account_id,
        workflow_id,
        workflow_version,
        entered_at,
        skipped_at,
        outcome_flags,
        outcome_flags & 1 = 1 as has_completed,
        outcome_flags & 2 = 2 as has_failed,
        duration_ms
    from summarised

),

step_executions as (

    select
        account_id,
        workflow_id,
        workflow_version,
        step_id,
        {{ utc_date('coalesce(entered_at, skipped_at)') }} as date,
        -- the outcome flags (1 completed, 2 failed) and 4 for a step never entered: one
        -- integer to group by instead of three booleans
        outcome_flags | case when entered_at is null then 4 else 0 end as flags,
        case when entered_at is not null and not has_completed then execution_id end
            as unfinished_execution_id,
        duration_ms
    from step_executions_summarised
    where {{ wfa_when_incremental(wfa_in_window_times('coalesce(entered_at, skipped_at)')) }}

),

aggregated as (

    select
        account_id,
        workflow_id,
        workflow_version,
        step_id,
        date,
        flags,
        unfinished_execution_id,
        count(*) as step_executions,
        sum(duration_ms) as duration_ms,
        count(duration_ms) as timed
    from step_executions
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
