{{ wfa_incremental_refresh_replace(
    replace_key=['execution_id', 'step_id', 'account_id', 'workflow_id', 'workflow_version'],
    window_column='date',
    change_log='int_step_entries_changes',
    tags=['heavy'],
    prefer_hash_aggregates='new_events'
) }}

-- The funnel's unit: one row per execution and step it reached or skipped, from one pass over
-- the step.* events. Entered at the earliest of step.started / step.completed / step.failed
-- (a step entered without its step.started, e.g. when that event is lost, still counts as
-- entered); dated by the UTC day of entry, or of the first step.skipped for a step never
-- entered. The group-by has a group per execution step, the largest of the project, so it
-- keeps to cheap by-value aggregates over values computed once per event. Incremental: a run
-- that follows the new events rewrites the execution steps they belong to (a row depends on
-- its own step's events alone; it is replaced by its whole grouping key, so a row without a
-- new event is left as it is, whatever else its step has), any other window run those dated
-- in its days, summarised from all their executions' events (macros/window.sql). The rows a
-- run that follows the new events replaces and writes are logged (int_step_entries_changes,
-- macros/change_log.sql): int_step_entries_aggregated adds them up.
{%- set step_event_types -%}
    ('step.started', 'step.completed', 'step.failed', 'step.skipped')
{%- endset -%}
{%- set is_new_event -%}
    {{ wfa_is_new_event('received_at') }} and {{ wfa_in_window_times('occurred_at') }}
{%- endset %}
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
        case when event_type in ('step.completed', 'step.failed') then duration_ms_float8 end
            as duration_ms
        {%- if wfa_follows_new_events() %},
        {{ is_new_event }} as is_new
        {%- endif %}
    from {{ ref('stg_raw__events') }}
    where event_type in {{ step_event_types }}
        -- (an execution step dated in the window belongs to an execution with an event in it)
        {% if wfa_follows_new_events() %}
        -- the executions of the new step events, by index (an array: a bitmap scan)
        and execution_id = any(array(
            select distinct execution_id
            from {{ source('raw', 'events') }}
            where event_type in {{ step_event_types }}
                and execution_id is not null and {{ is_new_event }}))
        {% elif is_incremental() %}
        and {{ wfa_is_refreshed_execution('execution_id') }}
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
        {%- if wfa_follows_new_events() %},
        bool_or(is_new) as has_new_event
        {%- endif %}
    from step_events
    group by execution_id, step_id, account_id, workflow_id, workflow_version

)

select
    execution_id,
    step_id,
    account_id,
    workflow_id,
    workflow_version,
    {{ utc_date('coalesce(entered_at, skipped_at)') }} as date,
    -- the outcome flags (1 completed, 2 failed) and 4 for a step never entered: one small
    -- integer instead of three booleans
    (outcome_flags | case when entered_at is null then 4 else 0 end)::smallint as flags,
    duration_ms
from summarised
{% if wfa_follows_new_events() %}
-- only the steps of the new events changed (a filter after the grouping: no join to plan)
where has_new_event
{% elif is_incremental() %}
where {{ wfa_in_window_times('coalesce(entered_at, skipped_at)') }}
{% endif %}
