-- One row per raw event, with the type-specific properties extracted and typed. A view: it
-- costs nothing by itself, and each reader computes only the columns it selects. It is a
-- plain select (no CTE) so that PostgreSQL merges it into its readers' queries: a property is
-- then read from jsonb only where a reader needs it (e.g. inside an aggregate's filter), not
-- for every event.
select
    event_id,
    event_type,
    occurred_at,
    received_at,
    account_id,
    workflow_id,
    workflow_version,
    execution_id,
    contact_id,
    step_id,
    user_id,

    -- execution.enrolled
    properties ->> 'enrollment_source' as enrollment_source,
    properties ->> 'trigger_type' as trigger_type,
    properties ->> 'experiment_id' as experiment_id,
    properties ->> 'variant' as variant,

    -- step.completed / step.failed (duration_ms also on user.activity); also as float8, read
    -- straight from the text (the same value as duration_ms::float8, without parsing a numeric)
    (properties ->> 'duration_ms')::numeric as duration_ms,
    (properties ->> 'duration_ms')::float8 as duration_ms_float8,
    (properties ->> 'credits')::numeric as credits,
    (properties ->> 'cost_usd')::numeric as cost_usd,

    -- step.failed / execution.failed
    properties ->> 'error_type' as error_type,
    properties ->> 'error_message' as error_message,

    -- step.skipped
    properties ->> 'reason' as skip_reason,

    -- goal.achieved
    properties ->> 'goal_id' as goal_id,
    (properties ->> 'value_usd')::numeric as value_usd,

    -- execution.exited
    properties ->> 'exit_reason' as exit_reason,

    -- user.activity
    properties ->> 'session_id' as session_id,
    properties ->> 'action' as action,
    properties ->> 'resource' as resource,

    properties

from {{ source('raw', 'events') }}
