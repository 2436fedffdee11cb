-- Retention by account, cohort type, grain (day, week, month), cohort and period. Members:
-- users (cohort = the period of their first user.activity; active = any activity in the
-- period), contacts (first enrolment; active = enrolled in the period) and workflows (first
-- enrolment into the workflow; active = had enrolments in the period). Period 0 is the
-- cohort's own period; every cohort has a row for each period up to the one holding the last
-- day with data, zeros included. retained = members active in that period; retained_unbounded
-- = active in that period or any later one; retention_rate = retained / cohort_size x 100.
-- Periods are UTC days, ISO weeks (from Monday) and calendar months.
-- The counts come from int_retention_counts, kept up to date by difference; here every
-- period of every cohort gets its row, and retained_unbounded its running total.
with counted as (

    select grain, cohort_type, account_id, cohort_start, period_number, retained, last_active
    from {{ ref('int_retention_counts') }}

),

-- each cohort numbered (any order): the spine, the counts and the running total below join,
-- partition and sort by that one integer instead of the four columns of the cohort's key,
-- which took more than half of this model's time (sorts of 156k rows on text columns)
cohorts as (

    select
        grain,
        cohort_type,
        account_id,
        cohort_start,
        sum(last_active) as cohort_size,
        row_number() over () as cohort_id
    from counted
    group by 1, 2, 3, 4

),

counted_by_cohort as (

    select
        cohorts.cohort_id,
        counted.grain,
        counted.cohort_type,
        counted.account_id,
        counted.cohort_start,
        counted.period_number,
        counted.retained,
        counted.last_active
    from counted
    inner join cohorts
        on counted.grain = cohorts.grain
        and counted.cohort_type = cohorts.cohort_type
        and counted.account_id = cohorts.account_id
        and counted.cohort_start = cohorts.cohort_start

),

-- every period of every cohort, up to the period holding the last day with data
spine as (

    select
        cohorts.cohort_id,
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

-- the spine and the counts, each unique on the key, joined rather than grouped as one union:
-- the planner takes generate_series for 1000 rows a cohort, and sorted that union to group it
combined as (

    select
        coalesce(spine.cohort_id, counted.cohort_id) as cohort_id,
        coalesce(spine.grain, counted.grain) as grain,
        coalesce(spine.cohort_type, counted.cohort_type) as cohort_type,
        coalesce(spine.account_id, counted.account_id) as account_id,
        coalesce(spine.cohort_start, counted.cohort_start) as cohort_start,
        coalesce(spine.period_number, counted.period_number) as period_number,
        coalesce(spine.cohort_size, 0) as cohort_size,
        coalesce(counted.retained, 0) as retained,
        coalesce(counted.last_active, 0) as last_active
    from spine
    full outer join counted_by_cohort as counted
        on spine.cohort_id = counted.cohort_id
        and spine.period_number = counted.period_number

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
        partition by cohort_id
        order by period_number
        rows between unbounded preceding and 1 preceding
    ), 0))::bigint as retained_unbounded,
    {{ pct('retained', 'cohort_size') }} as retention_rate
from combined
