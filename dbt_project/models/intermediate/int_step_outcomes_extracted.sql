{{ config(
    tags=['heavy'],
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='execution_id',
    indexes=[{'columns': ['occurred_date']}, {'columns': ['execution_id']}]
) }}

-- One row per step.completed / step.failed event (raw.events is unique on event_id), with its
-- typed properties, in one pass over the step events: every action "execution", every step
-- error and every cost (credits, cost_usd) is one of these, dated by its own UTC day. The
-- properties are read from jsonb once, here, for every mart that needs them; the table is kept
-- narrow because they all scan it. Incremental: a window run rewrites the step outcomes of the
-- executions it re-summarises (macros/window.sql), all of them: their rows are replaced whole.
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
    case when event_type = 'step.failed' then error_message end as error_message
from {{ ref('stg_raw__events') }}
where event_type in ('step.completed', 'step.failed')
    {% if is_incremental() %}
    and {{ wfa_is_refreshed_execution('execution_id') }}
    {% endif %}
