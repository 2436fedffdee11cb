-- The executions, grouped by everything the analytics assets compare them by (assets/analytics:
-- experiments, version and period comparison, ROI, the account's p95 duration), without their
-- identity: one row per account, workflow, version, experiment variant, final status and the
-- UTC days of enrolment, end and goal; their count, their durations and their goal value.
-- A daily mart, kept as long as the daily marts (orchestration/retention.py): the analytics
-- read it instead of fct_executions, whose rows go with the detail, so a purge leaves their
-- figures as they were. `date` is the execution's first dated day (enrolment, else end or goal):
-- an execution a refresh touches has an event on or after the window's first day, so its row
-- is dated in the window. Incremental: a window run rewrites the window's days, never a day
-- before the retention horizon (macros/window.sql), whose executions are gone.
{{ config(
    materialized='incremental',
    incremental_strategy='window_replace',
    window_column='date',
    indexes=[{'columns': ['date']}]
) }}

with executions as (

    select
        account_id,
        workflow_id,
        workflow_version,
        experiment_id,
        variant,
        status,
        {{ utc_date('least(enrolled_at, ended_at, goal_achieved_at)') }} as date,
        {{ utc_date('enrolled_at') }} as enrolled_date,
        {{ utc_date('ended_at') }} as ended_date,
        {{ utc_date('goal_achieved_at') }} as goal_date,
        duration_seconds::float8 as duration_seconds,
        goal_value_usd
    from {{ ref('fct_executions') }}
    {% if is_incremental() %}
    where {{ wfa_in_window_times('least(enrolled_at, ended_at, goal_achieved_at)') }}
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
