-- One row per workflow and calendar month (UTC), and one per account and month (workflow_id
-- null): enrolments, completions, conversions, credits, cost and the average duration of the
-- executions that ended completed or goal_achieved, event-dated as in fct_workflow_daily, from
-- which it is added up. Kept forever: the retention job purges the detail after 90 days and the
-- daily marts after 2 years, never this. Incremental: a window run rewrites the months its days
-- fall in (from fct_workflow_daily, which still holds every day of those months).
{{ wfa_incremental_window_replace(window_column='month', window_grain='month') }}

with daily as (

    select
        account_id,
        workflow_id,
        date_trunc('month', date::timestamp)::date as month,
        new_enrollments,
        completed,
        goals_achieved,
        credits,
        cost_usd,
        average_duration_seconds * completed as duration_seconds,
        case when average_duration_seconds is not null then completed else 0 end as timed
    from {{ ref('fct_workflow_daily') }}
    {% if is_incremental() %}
    where date >= date_trunc('month', ({{ wfa_window_start() }})::timestamp)::date
        and date < (date_trunc('month', ({{ wfa_window_end() }})::timestamp)
                    + interval '1 month')::date
    {% endif %}

),

monthly as (

    select
        account_id,
        workflow_id,
        month,
        sum(new_enrollments) as enrollments,
        sum(completed) as completions,
        sum(goals_achieved) as conversions,
        sum(credits) as credits,
        sum(cost_usd) as cost_usd,
        sum(duration_seconds) as duration_seconds,
        sum(timed) as timed
    from daily
    group by grouping sets ((account_id, workflow_id, month), (account_id, month))

)

select
    account_id,
    workflow_id,
    month,
    enrollments::bigint as enrollments,
    completions::bigint as completions,
    conversions::bigint as conversions,
    credits,
    cost_usd,
    {{ safe_divide('duration_seconds', 'timed') }} as average_duration_seconds
from monthly
