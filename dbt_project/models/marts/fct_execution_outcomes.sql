-- The executions, grouped by everything the analytics assets compare them by (assets/analytics:
-- experiments, version and period comparison, ROI, the account's p95 duration), without their
-- identity: one row per account, workflow, version, experiment variant, final status and the
-- UTC days of enrolment, end and goal; their count, their durations and their goal value.
-- A daily mart, kept as long as the daily marts (warehouse/retention.py): the analytics
-- read it instead of fct_executions, whose rows go with the detail, so a purge leaves their
-- figures as they were. `date` is the execution's last dated day (the later of its end and its
-- goal, else its enrolment), the one retention goes by for fct_executions
-- (warehouse/retention.py): every execution dated from the horizon on is still in
-- fct_executions, and one a refresh touches has all its moments on or after the window's first
-- day, before and after the refresh, so its row moves within the window. Incremental: a window
-- run rewrites the window's days, never a day before the retention horizon (macros/window.sql).
{{ wfa_incremental_window_replace(window_column='date') }}

with executions as (

    select
        account_id,
        workflow_id,
        workflow_version,
        experiment_id,
        variant,
        status,
        {{ utc_date(wfa_execution_last_moment()) }} as date,
        {{ utc_date('enrolled_at') }} as enrolled_date,
        {{ utc_date('ended_at') }} as ended_date,
        {{ utc_date('goal_achieved_at') }} as goal_date,
        duration_seconds::float8 as duration_seconds,
        goal_value_usd
    from {{ ref('fct_executions') }}
    -- an execution known only from step events (its enrolment not arrived yet) has no day
    -- and nothing the analytics compare: it joins once its enrolment does
    where {{ wfa_execution_last_moment() }} is not null
    {% if is_incremental() %}
        and {{ wfa_in_window_times(wfa_execution_last_moment()) }}
    {% endif %}

)

select
    account_id,
    workflow_id,
    workflow_version,
    experiment_id,
    variant,
    status,
    date,
    enrolled_date,
    ended_date,
    goal_date,
    count(*)::bigint as executions,
    coalesce(array_agg(duration_seconds order by duration_seconds)
             filter (where duration_seconds is not null), '{}')::float8[] as durations,
    sum(goal_value_usd) as goal_value_usd
from executions
group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
