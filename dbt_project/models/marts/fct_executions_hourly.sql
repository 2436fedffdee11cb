-- Executions by workflow, trigger type and UTC hour, event-dated like the daily trend:
-- started on the hour of enrolment; completed (final status completed or goal_achieved),
-- failed (error) and exited on the hour of ended_at; goals_achieved on the hour of
-- goal_achieved_at; average duration over the executions that ended completed or
-- goal_achieved in that hour. A row only for hours with activity. Incremental: a window run
-- rewrites the hours of the window's days (macros/window.sql).
{{ config(
    prefer_hash_aggregates=true,
    materialized='incremental',
    incremental_strategy='window_replace',
    window_column='hour',
    window_grain='hour',
    indexes=[{'columns': ['hour']}]
) }}

with executions as (

    select
        account_id,
        workflow_id,
        trigger_type,
        status,
        enrolled_at,
        ended_at,
        goal_achieved_at,
        {{ seconds_between('enrolled_at', 'ended_at') }} as duration_seconds
    from {{ ref('int_executions_summarised') }}
    {% if is_incremental() %}
    where {{ wfa_since_window_start('last_event_at') }}
    {% endif %}

),

hourly_events as (

    select
        account_id, workflow_id, trigger_type, {{ utc_hour('enrolled_at') }} as hour,
        1 as started, 0 as completed, 0 as failed, 0 as exited, 0 as goals_achieved,
        null::numeric as completed_duration_seconds
    from executions
    where enrolled_at is not null
    union all
    select
        account_id, workflow_id, trigger_type, {{ utc_hour('ended_at') }},
        0,
        case when status in ('completed', 'goal_achieved') then 1 else 0 end,
        case when status = 'error' then 1 else 0 end,
        case when status = 'exited' then 1 else 0 end,
        0,
        case when status in ('completed', 'goal_achieved') then duration_seconds end
    from executions
    where ended_at is not null
    union all
    select
        account_id, workflow_id, trigger_type, {{ utc_hour('goal_achieved_at') }},
        0, 0, 0, 0, 1, null
    from executions
    where goal_achieved_at is not null

)

select
    account_id,
    workflow_id,
    trigger_type,
    hour,
    sum(started)::bigint as started,
    sum(completed)::bigint as completed,
    sum(failed)::bigint as failed,
    sum(exited)::bigint as exited,
    sum(goals_achieved)::bigint as goals_achieved,
    avg(completed_duration_seconds) as average_duration_seconds
from hourly_events
where {{ wfa_when_incremental(wfa_in_window_times('hour')) }}
group by account_id, workflow_id, trigger_type, hour
