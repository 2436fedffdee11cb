{{ wfa_incremental_window_replace(window_column='date', tags=['heavy']) }}

-- One row per workflow, action type and UTC day, dense from the series' first day (below) to
-- the last day with data in the warehouse, zeros where nothing happened. An action
-- "execution" is a step.completed (success) or step.failed (failure) of a step whose type is
-- action, dated by its own UTC day; durations are its duration_ms. A series (workflow, action
-- type) starts on the first enrolment into a version that defines the action type, or on its
-- first day with data if earlier (not on the workflow's first day: a window run writes only its
-- own days). Incremental: a window run rewrites the window's days.
with definitions as (

    select workflow_id, workflow_version, step_id, action_type
    from {{ ref('stg_raw__workflow_steps') }}
    where step_type = 'action' and action_type is not null

),

-- A small integer per (workflow, action type): the percentile needs its input sorted by series
-- and day, and integers sort much faster than text.
series_keys as (

    select
        workflow_id,
        workflow_version,
        step_id,
        action_type,
        dense_rank() over (order by workflow_id, action_type) as series_key
    from definitions

),

-- Counts, durations and costs per day: from the step outcomes already aggregated by step.
counted as (

    select
        account_id,
        workflow_id,
        action_type,
        occurred_date as date,
        sum(outcomes) as executions,
        sum(outcomes - failures) as successes,
        sum(failures) as failures,
        sum(duration_ms) / nullif(sum(durations), 0) as average_duration_ms,
        sum(credits) as credits,
        sum(cost_usd) as cost_usd
    from {{ ref('int_step_outcomes_aggregated') }}
    where step_type = 'action' and action_type is not null
        and {{ wfa_when_incremental(wfa_in_window_dates('occurred_date')) }}
    group by 1, 2, 3, 4

),

-- The 95th percentile needs every event's duration: only (series, day, duration) are sorted.
percentiles as (

    select
        series_keys.series_key,
        outcomes.occurred_date as date,
        percentile_cont(0.95) within group (order by outcomes.duration_ms::float8)
            as p95_duration_ms
    from {{ ref('int_step_outcomes_extracted') }} as outcomes
    inner join series_keys
        on outcomes.workflow_id = series_keys.workflow_id
        and outcomes.workflow_version = series_keys.workflow_version
        and outcomes.step_id = series_keys.step_id
    where {{ wfa_when_incremental(wfa_in_window_dates('outcomes.occurred_date')) }}
    group by 1, 2

),

daily as (

    select
        counted.account_id,
        counted.workflow_id,
        counted.action_type,
        counted.date,
        counted.executions,
        counted.successes,
        counted.failures,
        counted.average_duration_ms,
        percentiles.p95_duration_ms,
        counted.credits,
        counted.cost_usd
    from counted
    left join (
        select distinct series_key, workflow_id, action_type from series_keys
    ) as series_names
        on counted.workflow_id = series_names.workflow_id
        and counted.action_type = series_names.action_type
    left join percentiles
        on series_names.series_key = percentiles.series_key
        and counted.date = percentiles.date

),

-- the first enrolment into each workflow version (in a window run, within the window)
version_firsts as (

    select account_id, workflow_id, workflow_version, min({{ utc_date('enrolled_at') }}) as first_date
    from {{ ref('int_executions_summarised') }}
    where enrolled_at is not null
    {% if is_incremental() %}
        and {{ wfa_since_window_start('last_event_at') }}
        and {{ wfa_in_window_times('enrolled_at') }}
    {% endif %}
    group by 1, 2, 3

),

-- the action types the workflow's enrolled versions define, and any action type it ran; one
-- that began before the window runs on
series as (

    select account_id, workflow_id, action_type, min(first_date) as first_date
    from (
        select account_id, workflow_id, action_type, min(date) as first_date
        from daily
        group by 1, 2, 3
        union all
        select version_firsts.account_id, version_firsts.workflow_id, definitions.action_type,
            version_firsts.first_date
        from version_firsts
        inner join definitions
            on version_firsts.workflow_id = definitions.workflow_id
            and version_firsts.workflow_version = definitions.workflow_version
        union all
        {{ wfa_series_before_window(['account_id', 'workflow_id', 'action_type'], 'daily',
                                    first_date=true) }}
    ) as candidates
    group by 1, 2, 3

),

spine as (

    select series.account_id, series.workflow_id, series.action_type, day::date as date
    from series
    cross join {{ ref('int_event_dates_bounded') }} as bounds
    cross join lateral {{ wfa_series_days('series.first_date', 'bounds.last_event_date') }} as day
    where series.first_date is not null

),

-- the spine and the days with data, without a join: one grouped union
keyed as (

    select account_id, workflow_id, action_type, date,
        executions, successes, failures, average_duration_ms, p95_duration_ms, credits, cost_usd
    from daily
    union all
    select account_id, workflow_id, action_type, date,
        0, 0, 0, null, null, 0, 0
    from spine

),

combined as (

    select
        account_id,
        workflow_id,
        action_type,
        date,
        sum(executions) as executions,
        sum(successes) as successes,
        sum(failures) as failures,
        max(average_duration_ms) as average_duration_ms,
        max(p95_duration_ms) as p95_duration_ms,
        sum(credits) as credits,
        sum(cost_usd) as cost_usd
    from keyed
    group by 1, 2, 3, 4

)

select
    account_id,
    workflow_id,
    action_type,
    date,
    executions::bigint as executions,
    successes::bigint as successes,
    failures::bigint as failures,
    {{ pct('successes', 'executions') }} as success_rate,
    {{ pct('failures', 'executions') }} as error_rate,
    average_duration_ms,
    p95_duration_ms::numeric as p95_duration_ms,
    credits,
    cost_usd
from combined
