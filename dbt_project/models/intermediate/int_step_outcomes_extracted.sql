{{ wfa_incremental_received_replace(
    window_column='occurred_date',
    change_log='int_step_outcomes_changes',
    indexes=[{'columns': ['execution_id']}],
    tags=['heavy']
) }}

-- One row per step.completed / step.failed event (raw.events is unique on event_id), with its
-- typed properties, in one pass over the step events: every action "execution", every step
-- error and every cost (credits, cost_usd) is one of these, dated by its own UTC day. The
-- properties are read from jsonb once, here, for every mart that needs them; the table is kept
-- narrow because they all scan it. A row depends on its own event alone, so a run that follows
-- the new events writes theirs and touches no other (received_at, in the order of loading, is
-- indexed by block range for that); any other window run rewrites its days (macros/window.sql).
-- The rows a run that follows the new events replaces and writes are logged
-- (int_step_outcomes_changes, macros/change_log.sql): int_step_outcomes_aggregated adds them up.
select
    execution_id,
    account_id,
    workflow_id,
    workflow_version,
    step_id,
    {{ utc_date('occurred_at') }} as occurred_date,
    event_type = 'step.failed' as is_failure,
    duration_ms,
    coalesce(credits, 0) as credits,
    coalesce(cost_usd, 0) as cost_usd,
    -- only failures carry error details (reading them costs a jsonb lookup per event)
    case when event_type = 'step.failed' then error_type end as error_type,
    case when event_type = 'step.failed' then error_message end as error_message,
    received_at
from {{ ref('stg_raw__events') }}
where event_type in ('step.completed', 'step.failed')
    {% if wfa_follows_new_events() %}
    and {{ wfa_is_new_event('received_at') }}
    and {{ wfa_in_window_times('occurred_at') }}
    {% elif is_incremental() %}
    and {{ wfa_in_window_times('occurred_at') }}
    {% endif %}
