-- The funnel: one row per step of a workflow version and UTC day, dense from the version's
-- first day with data to the last day with data in the warehouse, zeros where nothing happened.
-- Dated by the day the execution entered the step (its earliest step.started / step.completed
-- / step.failed): entered; completed (it has a step.completed); failed (a step.failed);
-- in_progress (no step.completed, final status active); converted (no step.completed, final
-- status goal_achieved, wherever it left); dropped_off (the rest of those entered).
-- skipped: a step.skipped and never entered (a branch not taken is not a drop-off), dated by
-- its first step.skipped. Costs on the day of the step event that incurred them.
-- Incremental: a window run rewrites the window's days (macros/window.sql).
{{ wfa_incremental_window_replace(window_column='date') }}

with step_entries as (

    select * from {{ ref('int_step_entries_aggregated') }}
    where {{ wfa_when_incremental(wfa_in_window_dates('date')) }}

),

-- in_progress and converted depend on the final status of the executions that entered a
-- step without completing it (kept one per row upstream); an execution none of whose
-- execution-level events has arrived is still running (active)
entries as (

    select
        step_entries.account_id,
        step_entries.workflow_id,
        step_entries.workflow_version,
        step_entries.step_id,
        step_entries.date,
        sum(step_entries.step_executions) filter (where step_entries.is_entered) as entered,
        sum(step_entries.step_executions) filter (
            where step_entries.is_entered and step_entries.has_completed
        ) as completed,
        sum(step_entries.step_executions) filter (
            where step_entries.is_entered and step_entries.has_failed
        ) as failed,
        sum(step_entries.step_executions) filter (
            where step_entries.unfinished_execution_id is not null
                and coalesce(executions.status, 'active') = 'active'
        ) as in_progress,
        sum(step_entries.step_executions) filter (
            where step_entries.unfinished_execution_id is not null
                and executions.status = 'goal_achieved'
        ) as converted,
        sum(step_entries.step_executions) filter (where not step_entries.is_entered) as skipped,
        sum(step_entries.duration_ms) filter (where step_entries.is_entered) as duration_ms,
        sum(step_entries.timed) filter (where step_entries.is_entered) as timed
    from step_entries
    left join {{ ref('int_executions_summarised') }} as executions
        on step_entries.unfinished_execution_id = executions.execution_id
    group by 1, 2, 3, 4, 5

),

costs as (

    select
        account_id,
        workflow_id,
        workflow_version,
        step_id,
        occurred_date as date,
        credits,
        cost_usd
    from {{ ref('int_step_outcomes_aggregated') }}
    where {{ wfa_when_incremental(wfa_in_window_dates('occurred_date')) }}

),

facts as (

    select
        account_id, workflow_id, workflow_version, step_id, date,
        coalesce(entered, 0) as entered,
        coalesce(completed, 0) as completed,
        coalesce(failed, 0) as failed,
        coalesce(in_progress, 0) as in_progress,
        coalesce(converted, 0) as converted,
        coalesce(skipped, 0) as skipped,
        duration_ms,
        coalesce(timed, 0) as timed,
        0 as credits,
        0 as cost_usd
    from entries
    union all
    select
        account_id, workflow_id, workflow_version, step_id, date,
        0, 0, 0, 0, 0, 0,
        null, 0, credits, cost_usd
    from costs

),

definitions as (

    select workflow_id, workflow_version, step_id, step_order, step_name, step_type
    from {{ ref('stg_raw__workflow_steps') }}

),

-- A version's series start on its first day with data (its first enrolment, normally).
versions as (

    select account_id, workflow_id, workflow_version, min(first_date) as first_date
    from (
        select account_id, workflow_id, workflow_version, min(date) as first_date
        from facts
        group by 1, 2, 3
        union all
        select account_id, workflow_id, workflow_version, min({{ utc_date('enrolled_at') }})
        from {{ ref('int_executions_summarised') }}
        {% if is_incremental() %}
        where {{ wfa_since_window_start('last_event_at') }}
            and {{ wfa_in_window_times('enrolled_at') }}
        {% endif %}
        group by 1, 2, 3
        -- a version whose series began before the window runs on
        union all
        {{ wfa_series_before_window(['account_id', 'workflow_id', 'workflow_version'], 'facts',
                                    first_date=true) }}
    ) as firsts
    group by 1, 2, 3

),

-- Every step of the version's definition, and any step seen only in its events.
version_steps as (

    select versions.account_id, versions.workflow_id, versions.workflow_version, definitions.step_id
    from versions
    inner join definitions
        on versions.workflow_id = definitions.workflow_id
        and versions.workflow_version = definitions.workflow_version
    union
    select distinct account_id, workflow_id, workflow_version, step_id
    from facts
    union
    {{ wfa_series_before_window(['account_id', 'workflow_id', 'workflow_version', 'step_id'],
                                'facts') }}

),

spine as (

    select
        version_steps.account_id,
        version_steps.workflow_id,
        version_steps.workflow_version,
        version_steps.step_id,
        day::date as date
    from version_steps
    inner join versions
        on version_steps.account_id = versions.account_id
        and version_steps.workflow_id = versions.workflow_id
        and version_steps.workflow_version = versions.workflow_version
    cross join {{ ref('int_event_dates_bounded') }} as bounds
    cross join lateral {{ wfa_series_days('versions.first_date', 'bounds.last_event_date') }} as day
    where versions.first_date is not null

),

daily as (

    select
        account_id,
        workflow_id,
        workflow_version,
        step_id,
        date,
        sum(entered) as entered,
        sum(completed) as completed,
        sum(failed) as failed,
        sum(in_progress) as in_progress,
        sum(converted) as converted,
        sum(skipped) as skipped,
        sum(duration_ms) as duration_ms,
        sum(timed) as timed,
        sum(credits) as credits,
        sum(cost_usd) as cost_usd
    from (
        select * from facts
        union all
        select
            account_id, workflow_id, workflow_version, step_id, date,
            0, 0, 0, 0, 0, 0, null, 0, 0, 0
        from spine
    ) as facts_and_spine
    group by 1, 2, 3, 4, 5

)

select
    daily.account_id,
    daily.workflow_id,
    daily.workflow_version,
    daily.step_id,
    daily.date,
    definitions.step_order,
    definitions.step_name,
    definitions.step_type,
    daily.entered::bigint as entered,
    daily.completed::bigint as completed,
    daily.failed::bigint as failed,
    daily.in_progress::bigint as in_progress,
    daily.converted::bigint as converted,
    (daily.entered - daily.completed - daily.in_progress - daily.converted)::bigint as dropped_off,
    daily.skipped::bigint as skipped,
    {{ pct('daily.completed', 'daily.entered') }} as step_conversion_rate,
    -- time in step: the duration_ms of the step.completed / step.failed, averaged over the
    -- executions that entered the step that day, in seconds
    {{ safe_divide('daily.duration_ms::numeric', 'daily.timed * 1000') }}
        as average_time_in_step_seconds,
    daily.credits,
    daily.cost_usd
from daily
left join definitions
    on daily.workflow_id = definitions.workflow_id
    and daily.workflow_version = definitions.workflow_version
    and daily.step_id = definitions.step_id
