{{ config(tags=['heavy']) }}

-- Retention by account, cohort type, grain (day, week, month), cohort and period. Members:
-- users (cohort = the period of their first user.activity; active = any activity in the
-- period), contacts (first enrolment; active = enrolled in the period) and workflows (first
-- enrolment into the workflow; active = had enrolments in the period). Period 0 is the
-- cohort's own period; every cohort has a row for each period up to the one holding the last
-- day with data, zeros included. retained = members active in that period; retained_unbounded
-- = active in that period or any later one; retention_rate = retained / cohort_size x 100.
-- Periods are UTC days, ISO weeks (from Monday) and calendar months.
-- A member's active days. A contact's day may repeat (two enrolments the same day): it
-- counts once below; users' and workflows' days, often repeated, are made distinct first.
with member_days as (

    select distinct 'user' as cohort_type, account_id, user_id as member_id, activity_date as date
    from {{ ref('int_user_sessions_summarised') }}
    where user_id is not null
    union all
    select 'contact', account_id, contact_id, {{ utc_date('enrolled_at') }}
    from {{ ref('int_executions_summarised') }}
    where contact_id is not null and enrolled_at is not null
    union all
    select distinct 'workflow', account_id, workflow_id, {{ utc_date('enrolled_at') }}
    from {{ ref('int_executions_summarised') }}
    where enrolled_at is not null

),

-- Each active day of a member, with the member's first and last active days and its previous
-- active day: one sort by member (byte order, "C", is all a partition needs).
member_days_ordered as (

    select
        cohort_type,
        account_id,
        date,
        first_value(date) over member_timeline as first_date,
        last_value(date) over member_timeline as last_date,
        lag(date) over member_timeline as previous_date
    from member_days
    window member_timeline as (
        partition by member_id collate "C", account_id collate "C", cohort_type
        order by date
        rows between unbounded preceding and unbounded following
    )

),

indexed as (

    select
        cohort_type,
        account_id,
        first_date,
        previous_date is null as is_first_row,
        previous_date is distinct from date as is_new_day,
        date - first_date as day_number,
        last_date - first_date as last_day_number,
        {{ week_index('first_date') }} as first_week,
        {{ week_index('date') }} as week,
        {{ week_index('previous_date') }} as previous_week,
        {{ week_index('last_date') }} as last_week,
        {{ month_index('first_date') }} as first_month,
        {{ month_index('date') }} as month,
        {{ month_index('previous_date') }} as previous_month,
        {{ month_index('last_date') }} as last_month
    from member_days_ordered

),

-- A member counts once in each period it was active in: on its first active day of that
-- period (when its previous active day, if any, fell in an earlier period). It counts once
-- in last_active, on its first row, under the period it was last active in.
contributions as (

    select cohort_type, account_id, 'day' as grain, first_date as cohort_start,
        day_number as period_number, 1 as retained, 0 as last_active
    from indexed
    where is_new_day
    union all
    select cohort_type, account_id, 'week', {{ week_start_of('first_week') }},
        week - first_week, 1, 0
    from indexed
    where previous_week is distinct from week
    union all
    select cohort_type, account_id, 'month', {{ month_start_of('first_month') }},
        month - first_month, 1, 0
    from indexed
    where previous_month is distinct from month
    union all
    select cohort_type, account_id, 'day', first_date,
        last_day_number, 0, 1
    from indexed
    where is_first_row
    union all
    select cohort_type, account_id, 'week', {{ week_start_of('first_week') }},
        last_week - first_week, 0, 1
    from indexed
    where is_first_row
    union all
    select cohort_type, account_id, 'month', {{ month_start_of('first_month') }},
        last_month - first_month, 0, 1
    from indexed
    where is_first_row

),

counted as (

    select
        grain,
        cohort_type,
        account_id,
        cohort_start,
        period_number,
        sum(retained) as retained,
        sum(last_active) as last_active
    from contributions
    group by 1, 2, 3, 4, 5

),

cohorts as (

    select grain, cohort_type, account_id, cohort_start, sum(last_active) as cohort_size
    from counted
    group by 1, 2, 3, 4

),

-- every period of every cohort, up to the period holding the last day with data
spine as (

    select
        cohorts.grain,
        cohorts.cohort_type,
        cohorts.account_id,
        cohorts.cohort_start,
        cohorts.cohort_size,
        period_number
    from cohorts
    cross join {{ ref('int_event_dates_bounded') }} as bounds
    cross join lateral generate_series(
        0,
        greatest(0, case cohorts.grain
            when 'day' then bounds.last_event_date - cohorts.cohort_start
            when 'week' then
                {{ week_index('bounds.last_event_date') }}
                - {{ week_index('cohorts.cohort_start') }}
            else
                {{ month_index('bounds.last_event_date') }}
                - {{ month_index('cohorts.cohort_start') }}
        end)
    ) as period_number

),

combined as (

    select
        grain,
        cohort_type,
        account_id,
        cohort_start,
        period_number,
        sum(cohort_size) as cohort_size,
        sum(retained) as retained,
        sum(last_active) as last_active
    from (
        select grain, cohort_type, account_id, cohort_start, period_number,
            0 as cohort_size, retained, last_active
        from counted
        union all
        select grain, cohort_type, account_id, cohort_start, period_number,
            cohort_size, 0, 0
        from spine
    ) as keyed
    group by 1, 2, 3, 4, 5

)

select
    account_id,
    cohort_type,
    grain,
    cohort_start,
    period_number::integer as period_number,
    cohort_size::bigint as cohort_size,
    retained::bigint as retained,
    -- members active in this period or a later one: the cohort, less those whose last active
    -- period came before this one
    (cohort_size - coalesce(sum(last_active) over (
        partition by account_id, cohort_type, grain, cohort_start
        order by period_number
        rows between unbounded preceding and 1 preceding
    ), 0))::bigint as retained_unbounded,
    {{ pct('retained', 'cohort_size') }} as retention_rate
from combined
