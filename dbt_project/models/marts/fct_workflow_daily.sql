-- One row per workflow and UTC day, dense from the workflow's first day with data (its first
-- enrolment) to the last day with data in the warehouse, zeros where nothing happened.
-- Event-dated: new enrolments on the day of enrollment; completed / exited / failed on the day
-- of ended_at, by final status (completed counts completed and goal_achieved); goals on the
-- day of goal_achieved_at; costs on the day of the step event that incurred them; durations
-- over the executions that ended that day with final status completed or goal_achieved.
-- Cumulative as of the day (total_enrolled, completion_rate, conversion_rate): over the
-- executions enrolled by the end of the day; completed = ended by then with final status
-- completed / goal_achieved; converted = goal achieved by then. currently_active = enrolled by
-- the end of the day and not ended by then.
-- cohort_*: the day's new enrolments by their final status (cohort-based: a summary over a date
-- range adds them up over the range).
-- Incremental: a window run rewrites the window's days; the cumulative figures carry on from
-- the totals stored on the eve of the window, so days before it (even purged ones) count.
{{ wfa_incremental_window_replace(window_column='date', prefer_hash_aggregates=true) }}

with executions as (

    select
        account_id,
        workflow_id,
        status,
        status in ('completed', 'goal_achieved') as is_completed,
        {{ utc_date('enrolled_at') }} as enrolled_date,
        {{ utc_date('ended_at') }} as ended_date,
        {{ utc_date('goal_achieved_at') }} as goal_date,
        {{ seconds_between('enrolled_at', 'ended_at') }} as duration_seconds
    from {{ ref('int_executions_summarised') }}
    -- an execution dated in the window has an event in it, so its last one is not before it
    {% if is_incremental() %}
    where {{ wfa_since_window_start('last_event_at') }}
    {% endif %}

),

enrolments as (

    select
        account_id,
        workflow_id,
        enrolled_date as date,
        count(*) as new_enrollments,
        count(*) filter (where is_completed) as cohort_completed,
        count(*) filter (where status = 'goal_achieved') as cohort_goals_achieved,
        count(*) filter (where status = 'exited') as cohort_exited,
        count(*) filter (where status = 'error') as cohort_failed,
        count(*) filter (where status = 'active') as cohort_active
    from executions
    where enrolled_date is not null
    group by 1, 2, 3

),

endings as (

    select
        account_id,
        workflow_id,
        ended_date as date,
        count(*) filter (where is_completed) as completed,
        count(*) filter (where status = 'exited') as exited,
        count(*) filter (where status = 'error') as failed,
        avg(duration_seconds) filter (where is_completed) as average_duration_seconds,
        percentile_cont(0.5) within group (order by duration_seconds::float8)
            filter (where is_completed) as p50_duration_seconds,
        percentile_cont(0.95) within group (order by duration_seconds::float8)
            filter (where is_completed) as p95_duration_seconds
    from executions
    where ended_date is not null
    group by 1, 2, 3

),

goals as (

    select account_id, workflow_id, goal_date as date, count(*) as goals_achieved
    from executions
    where goal_date is not null
    group by 1, 2, 3

),

-- The day from which an enrolled execution counts as ended (and completed) in the cumulative
-- figures: its enrolment and its end must both have happened by then.
cumulative_endings as (

    select
        account_id,
        workflow_id,
        greatest(enrolled_date, ended_date) as date,
        count(*) as ended,
        count(*) filter (where is_completed) as completed
    from executions
    where enrolled_date is not null and ended_date is not null
    group by 1, 2, 3

),

cumulative_conversions as (

    select
        account_id,
        workflow_id,
        greatest(enrolled_date, goal_date) as date,
        count(*) as converted
    from executions
    where enrolled_date is not null and goal_date is not null
    group by 1, 2, 3

),

costs as (

    select
        account_id,
        workflow_id,
        occurred_date as date,
        sum(credits) as credits,
        sum(cost_usd) as cost_usd
    from {{ ref('int_step_outcomes_aggregated') }}
    where {{ wfa_when_incremental(wfa_in_window_dates('occurred_date')) }}
    group by 1, 2, 3

),

all_facts as (

    select
        account_id, workflow_id, date,
        new_enrollments, 0 as completed, 0 as goals_achieved, 0 as exited, 0 as failed,
        null::numeric as average_duration_seconds,
        null::float8 as p50_duration_seconds,
        null::float8 as p95_duration_seconds,
        0 as credits, 0 as cost_usd,
        cohort_completed, cohort_goals_achieved, cohort_exited, cohort_failed, cohort_active,
        0 as ended_since_enrolled, 0 as completed_since_enrolled, 0 as converted_since_enrolled
    from enrolments
    union all
    select
        account_id, workflow_id, date,
        0, completed, 0, exited, failed,
        average_duration_seconds, p50_duration_seconds, p95_duration_seconds,
        0, 0,
        0, 0, 0, 0, 0,
        0, 0, 0
    from endings
    union all
    select
        account_id, workflow_id, date,
        0, 0, goals_achieved, 0, 0,
        null, null, null,
        0, 0,
        0, 0, 0, 0, 0,
        0, 0, 0
    from goals
    union all
    select
        account_id, workflow_id, date,
        0, 0, 0, 0, 0,
        null, null, null,
        0, 0,
        0, 0, 0, 0, 0,
        ended, completed, 0
    from cumulative_endings
    union all
    select
        account_id, workflow_id, date,
        0, 0, 0, 0, 0,
        null, null, null,
        0, 0,
        0, 0, 0, 0, 0,
        0, 0, converted
    from cumulative_conversions
    union all
    select
        account_id, workflow_id, date,
        0, 0, 0, 0, 0,
        null, null, null,
        credits, cost_usd,
        0, 0, 0, 0, 0,
        0, 0, 0
    from costs

),

facts as (

    select * from all_facts
    where {{ wfa_when_incremental(wfa_in_window_dates('date')) }}

),

-- a series starts on its first day with data; one that began before the window runs on
series as (

    select account_id, workflow_id, min(first_date) as first_date
    from (
        select account_id, workflow_id, min(date) as first_date
        from facts
        group by 1, 2
        union all
        {{ wfa_series_before_window(['account_id', 'workflow_id'], 'facts', first_date=true) }}
    ) as firsts
    group by 1, 2

),

spine as (

    select series.account_id, series.workflow_id, day::date as date
    from series
    cross join {{ ref('int_event_dates_bounded') }} as bounds
    cross join lateral {{ wfa_series_days('series.first_date', 'bounds.last_event_date') }} as day

),

daily as (

    select
        account_id,
        workflow_id,
        date,
        sum(new_enrollments) as new_enrollments,
        sum(completed) as completed,
        sum(goals_achieved) as goals_achieved,
        sum(exited) as exited,
        sum(failed) as failed,
        max(average_duration_seconds) as average_duration_seconds,
        max(p50_duration_seconds) as p50_duration_seconds,
        max(p95_duration_seconds) as p95_duration_seconds,
        sum(credits) as credits,
        sum(cost_usd) as cost_usd,
        sum(cohort_completed) as cohort_completed,
        sum(cohort_goals_achieved) as cohort_goals_achieved,
        sum(cohort_exited) as cohort_exited,
        sum(cohort_failed) as cohort_failed,
        sum(cohort_active) as cohort_active,
        sum(ended_since_enrolled) as ended_since_enrolled,
        sum(completed_since_enrolled) as completed_since_enrolled,
        sum(converted_since_enrolled) as converted_since_enrolled
    from (
        select * from facts
        union all
        select
            account_id, workflow_id, date,
            0, 0, 0, 0, 0, null, null, null, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
        from spine
    ) as facts_and_spine
    group by 1, 2, 3

),

-- the running totals as of the eve of the window (none in a full build)
carried as (

    {% if is_incremental() %}
    select
        account_id,
        workflow_id,
        total_enrolled,
        total_enrolled - currently_active as total_ended,
        total_completed,
        total_converted
    from {{ this }}
    where date = {{ wfa_window_start() }} - 1
    {% else %}
    select account_id, workflow_id, 0 as total_enrolled, 0 as total_ended, 0 as total_completed,
        0 as total_converted
    from daily
    where false
    {% endif %}

),

cumulative as (

    select
        daily.*,
        coalesce(carried.total_enrolled, 0) + sum(daily.new_enrollments) over running
            as total_enrolled,
        coalesce(carried.total_ended, 0) + sum(daily.ended_since_enrolled) over running
            as total_ended,
        coalesce(carried.total_completed, 0) + sum(daily.completed_since_enrolled) over running
            as total_completed,
        coalesce(carried.total_converted, 0) + sum(daily.converted_since_enrolled) over running
            as total_converted
    from daily
    left join carried
        on daily.account_id = carried.account_id
        and daily.workflow_id = carried.workflow_id
    window running as (
        partition by daily.account_id, daily.workflow_id
        order by daily.date
        rows between unbounded preceding and current row
    )

)

select
    account_id,
    workflow_id,
    date,
    new_enrollments::bigint as new_enrollments,
    total_enrolled::bigint as total_enrolled,
    (total_enrolled - total_ended)::bigint as currently_active,
    completed::bigint as completed,
    goals_achieved::bigint as goals_achieved,
    exited::bigint as exited,
    failed::bigint as failed,
    {{ pct('total_completed', 'total_enrolled') }} as completion_rate,
    {{ pct('total_converted', 'total_enrolled') }} as conversion_rate,
    average_duration_seconds,
    p50_duration_seconds::numeric as p50_duration_seconds,
    p95_duration_seconds::numeric as p95_duration_seconds,
    credits,
    cost_usd,
    cohort_completed::bigint as cohort_completed,
    cohort_goals_achieved::bigint as cohort_goals_achieved,
    cohort_exited::bigint as cohort_exited,
    cohort_failed::bigint as cohort_failed,
    cohort_active::bigint as cohort_active,
    total_completed::bigint as total_completed,
    total_converted::bigint as total_converted
from cumulative
