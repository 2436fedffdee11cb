{{ wfa_incremental_add_changes(
    change_log='int_step_entries_changes',
    logged_model='int_step_entries',
    unique_key=['account_id', 'workflow_id', 'workflow_version', 'step_id', 'date', 'is_entered',
                'has_completed', 'has_failed', 'unfinished_execution_id'],
    summed_columns=['step_executions', 'duration_ms', 'timed'],
    window_column='date'
) }}

-- The funnel's counts before the executions' final status is known: the execution steps
-- (int_step_entries) counted per step of a workflow version, UTC day (of entry, or of the
-- first step.skipped for a step never entered) and outcome. The executions that entered a
-- step without completing it are kept one per row (unfinished_execution_id), because whether
-- they are in progress, converted or dropped off depends on their final status, which the
-- funnel mart looks up; every other row has a null unfinished_execution_id and counts many
-- execution steps. Durations are summed as numeric, so that a sum kept by difference equals
-- the sum counted whole (0 where none is timed: timed says how many are). Incremental
-- (strategy add_changes, macros/change_log.sql): a run that follows the new events adds up
-- the execution steps int_step_entries logged as replaced (-1) and written (+1), so that its
-- cost follows the changed steps rather than the window's days; any other window run (a
-- backfill, a partition) counts the window's days again whole, and adds the logged changes
-- of other days.
{%- set log = wfa_change_log_relation('int_step_entries_changes') if is_incremental() else none %}
with step_entries as (

    {% if is_incremental() and wfa_follows_new_events() %}
    select execution_id, account_id, workflow_id, workflow_version, step_id, date, flags,
        duration_ms, 0 as change
    from {{ ref('int_step_entries') }}
    where false
    {% else %}
    select execution_id, account_id, workflow_id, workflow_version, step_id, date, flags,
        duration_ms, 1 as change
    from {{ ref('int_step_entries') }}
    where {{ wfa_when_incremental(wfa_in_window_dates('date')) }}
    {% endif %}
    {% if log is not none %}
    union all
    select execution_id, account_id, workflow_id, workflow_version, step_id, date, flags,
        duration_ms, change
    from {{ log }}
    where {{ wfa_logged_changes_to_add('date') }}
    {% endif %}

),

aggregated as (

    select
        account_id,
        workflow_id,
        workflow_version,
        step_id,
        date,
        flags,
        case when flags & 5 = 0 then execution_id end as unfinished_execution_id,
        sum(change)::bigint as step_executions,
        {{ exact_float_sum('duration_ms', 'change') }} as duration_ms,
        sum(change * (duration_ms is not null)::int)::bigint as timed
    from step_entries
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
{% if is_incremental() %}
-- changes that cancel out (a row replaced by the same row) add nothing
where step_executions <> 0 or duration_ms <> 0 or timed <> 0
{% endif %}
