-- Step outcomes (step.completed / step.failed events) per step of a workflow version, UTC day
-- of the event and error type: the event-dated counts, durations and costs the daily marts add
-- up. Failures are kept apart per execution (failed_execution_id) so that fct_errors_daily can
-- count the executions an error affected; every other row has a null failed_execution_id. The
-- step's type and action type come from its version's definition. Durations are summed as
-- numeric (0 where none is known: durations says how many are). Incremental (strategy
-- add_changes, macros/change_log.sql): a run that follows the new events adds up the events
-- int_step_outcomes_extracted logged as replaced (-1) and written (+1), so that its cost
-- follows the new events rather than the window's days (an event is never changed, so a
-- replaced one is written again as it was, and the least error message of a key stays the
-- least); any other window run (a backfill, a partition) counts the window's days again whole,
-- and adds the logged changes of other days.
{{ wfa_incremental_add_changes(
    change_log='int_step_outcomes_changes',
    logged_model='int_step_outcomes_extracted',
    unique_key=['account_id', 'workflow_id', 'workflow_version', 'step_id', 'occurred_date',
                'error_type', 'failed_execution_id'],
    summed_columns=['outcomes', 'failures', 'duration_ms', 'durations', 'credits', 'cost_usd'],
    window_column='occurred_date',
    least_columns=['sample_error_message'],
    kept_columns=['step_type', 'action_type'],
    indexes=[{'columns': ['failed_execution_id']}],
    prefer_hash_aggregates=true
) }}
{%- set log = wfa_change_log_relation('int_step_outcomes_changes') if is_incremental() else none %}

with outcomes as (

    select
        account_id, workflow_id, workflow_version, step_id, occurred_date, is_failure,
        execution_id, error_type, error_message, duration_ms, credits, cost_usd,
        {% if is_incremental() and wfa_follows_new_events() %}0{% else %}1{% endif %} as change
    from {{ ref('int_step_outcomes_extracted') }}
    {% if is_incremental() and wfa_follows_new_events() %}
    where false
    {% else %}
    where {{ wfa_when_incremental(wfa_in_window_dates('occurred_date')) }}
    {% endif %}
    {% if log is not none %}
    union all
    select
        account_id, workflow_id, workflow_version, step_id, occurred_date, is_failure,
        execution_id, error_type, error_message, duration_ms, credits, cost_usd, change
    from {{ log }}
    where {{ wfa_logged_changes_to_add('occurred_date') }}
    {% endif %}

),

aggregated as (

    select
        account_id,
        workflow_id,
        workflow_version,
        step_id,
        occurred_date,
        error_type,
        case when is_failure then execution_id end as failed_execution_id,
        sum(change)::bigint as outcomes,
        coalesce(sum(change) filter (where is_failure), 0)::bigint as failures,
        coalesce(sum(change * duration_ms), 0) as duration_ms,
        sum(change * (duration_ms is not null)::int)::bigint as durations,
        sum(change * credits) as credits,
        sum(change * cost_usd) as cost_usd,
        min(error_message) as sample_error_message
    from outcomes
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
{% if is_incremental() %}
-- changes that cancel out (an event replaced by itself) add nothing
where aggregated.outcomes <> 0 or aggregated.failures <> 0 or aggregated.duration_ms <> 0
    or aggregated.durations <> 0 or aggregated.credits <> 0 or aggregated.cost_usd <> 0
{% endif %}
