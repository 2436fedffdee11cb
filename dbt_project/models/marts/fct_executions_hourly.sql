-- Executions by workflow, trigger type and UTC hour, event-dated like the daily trend:
-- started on the hour of enrolment; completed (final status completed or goal_achieved),
-- failed (error) and exited on the hour of ended_at; goals_achieved on the hour of
-- goal_achieved_at; average duration over the executions that ended completed or
-- goal_achieved in that hour (kept as their total and count, which add up). A row only for
-- hours with activity. Incremental (strategy add_changes, macros/change_log.sql): a window run
-- adds up the executions int_executions_summarised logged as replaced (-1) and written (+1),
-- so that its cost follows the changed executions rather than the window's hours.
{{ wfa_incremental_add_changes(
    change_log='int_executions_changes_hourly',
    logged_model='int_executions_summarised',
    unique_key=['account_id', 'workflow_id', 'trigger_type', 'hour'],
    summed_columns=['started', 'completed', 'failed', 'exited', 'goals_achieved',
                    'total_duration_seconds', 'timed_completions'],
    window_column='hour',
    ratio_columns={'average_duration_seconds': ['total_duration_seconds', 'timed_completions']},
    recount_window=false,
    prefer_hash_aggregates=true
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
        {{ seconds_between('enrolled_at', 'ended_at') }} as duration_seconds,
        {% if is_incremental() %}change{% else %}1{% endif %} as change
    {% if is_incremental() %}
    from {{ wfa_change_log_relation('int_executions_changes_hourly') }}
    {% else %}
    from {{ ref('int_executions_summarised') }}
    {% endif %}

),

hourly_events as (

    select
        account_id, workflow_id, trigger_type, {{ utc_hour('enrolled_at') }} as hour,
        change as started, 0 as completed, 0 as failed, 0 as exited, 0 as goals_achieved,
        null::numeric as completed_duration_seconds, 0 as timed_completions
    from executions
    where enrolled_at is not null
    union all
    select
        account_id, workflow_id, trigger_type, {{ utc_hour('ended_at') }},
        0,
        case when status in ('completed', 'goal_achieved') then change else 0 end,
        case when status = 'error' then change else 0 end,
        case when status = 'exited' then change else 0 end,
        0,
        case when status in ('completed', 'goal_achieved') then change * duration_seconds end,
        case when status in ('completed', 'goal_achieved') and duration_seconds is not null
            then change else 0 end
    from executions
    where ended_at is not null
    union all
    select
        account_id, workflow_id, trigger_type, {{ utc_hour('goal_achieved_at') }},
        0, 0, 0, 0, change, null, 0
    from executions
    where goal_achieved_at is not null

),

summed as (

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
        -- durations are exact to the microsecond: one scale for every total, added up or not
        round(coalesce(sum(completed_duration_seconds), 0), 6) as total_duration_seconds,
        sum(timed_completions)::bigint as timed_completions
    from hourly_events
    {%- set horizon = wfa_retention_horizon() if is_incremental() else none %}
    {%- if horizon is not none %}
    -- (a purged hour's counts are gone with its details; nothing is added back)
    where hour >= date '{{ horizon }}'::timestamp at time zone 'UTC'
    {%- endif %}
    group by account_id, workflow_id, trigger_type, hour

)

select
    account_id,
    workflow_id,
    trigger_type,
    hour,
    started,
    completed,
    failed,
    exited,
    goals_achieved,
    total_duration_seconds / nullif(timed_completions, 0) as average_duration_seconds,
    total_duration_seconds,
    timed_completions
from summed
{% if is_incremental() %}
-- changes that cancel out (an execution replaced by the same row) add nothing
where started <> 0 or completed <> 0 or failed <> 0 or exited <> 0 or goals_achieved <> 0
    or total_duration_seconds <> 0 or timed_completions <> 0
{% endif %}
