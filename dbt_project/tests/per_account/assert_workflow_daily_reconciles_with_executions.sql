-- Why: the daily trend and fct_executions count the same executions of each account's workflow: every enrolment once, every final status once on its end day, and on the last day the cumulative figures equal the lifetime (cohort-based) ones. After a retention purge, over the days whose detail it kept: the executions of earlier days are gone from fct_executions, so the cumulative figures are compared from the eve of the horizon on, and the active ones by their enrolment day (cohort_active).
-- Shown in Dagster as a check of the mart it guards (it reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'fct_workflow_daily'}}}) }}
{%- set horizon = wfa_retention_horizon() if execute else none %}
with executions as (

    select
        account_id,
        workflow_id,
        count(enrolled_at) filter (where {{ wfa_detail_kept('enrolled_at', is_time=true) }})
            as enrolled,
        count(*) filter (where enrolled_at is not null and status = 'active'
                         and {{ wfa_detail_kept('enrolled_at', is_time=true) }}) as active,
        count(*) filter (where status in ('completed', 'goal_achieved')
                         and {{ wfa_detail_kept('ended_at', is_time=true) }}) as completed,
        count(*) filter (where status = 'exited'
                         and {{ wfa_detail_kept('ended_at', is_time=true) }}) as exited,
        count(*) filter (where status = 'error'
                         and {{ wfa_detail_kept('ended_at', is_time=true) }}) as failed,
        count(goal_achieved_at) filter (where {{ wfa_detail_kept('goal_achieved_at', is_time=true) }})
            as goals
    from {{ ref('fct_executions') }}
    group by 1, 2

),

daily as (

    select
        account_id,
        workflow_id,
        sum(new_enrollments) as enrolled,
        sum(completed) as completed,
        sum(exited) as exited,
        sum(failed) as failed,
        sum(goals_achieved) as goals,
        sum(cohort_completed + cohort_exited + cohort_failed + cohort_active) as cohort_total,
        sum(cohort_active) as cohort_active,
        max(date) as last_date
    from {{ ref('fct_workflow_daily') }}
    where {{ wfa_detail_kept('date') }}
    group by 1, 2

),

last_day as (

    select daily.account_id, daily.workflow_id, days.total_enrolled, days.currently_active
    from daily
    inner join {{ ref('fct_workflow_daily') }} as days
        on daily.account_id = days.account_id and daily.workflow_id = days.workflow_id
        and daily.last_date = days.date

),

-- the running totals on the eve of the horizon, which the kept days carry on from
eve as (

    {% if horizon is none %}
    select null::text as account_id, null::text as workflow_id, 0 as total_enrolled where false
    {% else %}
    select account_id, workflow_id, total_enrolled
    from {{ ref('fct_workflow_daily') }}
    where date = date '{{ horizon }}' - 1
    {% endif %}

)

select
    coalesce(executions.account_id, daily.account_id) as account_id,
    coalesce(executions.workflow_id, daily.workflow_id) as workflow_id
from executions
full join daily
    on executions.account_id = daily.account_id and executions.workflow_id = daily.workflow_id
left join last_day
    on executions.account_id = last_day.account_id
    and executions.workflow_id = last_day.workflow_id
left join eve
    on coalesce(executions.account_id, daily.account_id) = eve.account_id
    and coalesce(executions.workflow_id, daily.workflow_id) = eve.workflow_id
where coalesce(executions.enrolled, 0) <> coalesce(daily.enrolled, 0)
    or coalesce(executions.completed, 0) <> coalesce(daily.completed, 0)
    or coalesce(executions.exited, 0) <> coalesce(daily.exited, 0)
    or coalesce(executions.failed, 0) <> coalesce(daily.failed, 0)
    or coalesce(executions.goals, 0) <> coalesce(daily.goals, 0)
    or coalesce(daily.cohort_total, 0) <> coalesce(daily.enrolled, 0)
    or coalesce(daily.cohort_active, 0) <> coalesce(executions.active, 0)
    or coalesce(last_day.total_enrolled, 0) - coalesce(eve.total_enrolled, 0)
        <> coalesce(executions.enrolled, 0)
    {% if horizon is none %}
    or coalesce(last_day.currently_active, 0) <> coalesce(executions.active, 0)
    {% endif %}
