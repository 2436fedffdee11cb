{{ wfa_incremental_add_counts(
    unique_key=['grain', 'cohort_type', 'account_id', 'cohort_start', 'period_number'],
    summed_columns=['retained', 'last_active'],
    pre_hook=["{{ wfa_retention_save_day_changes() }}"],
    tags=['heavy']
) }}

-- Retention counts per grain (day, week, month), cohort type, account, cohort and period
-- number: retained = members active in the period, last_active = members whose last active
-- period it is (macros/retention_cohorts.sql). A full build counts every member's days.
-- Incremental: a window run first saves the member days that changed (users: the window's
-- days against those int_retention_member_days holds; contacts and workflows: the executions
-- int_executions_summarised logged as replaced and written, against the same; that table is
-- brought up to date after this model, from the same saved changes), then adds what the
-- changed members count now less what they counted before.
{% if is_incremental() %}
    {%- set stored_days = wfa_retention_stored_days() %}
with day_changes as (

    select cohort_type, account_id, member_id, date, change
    from {{ wfa_retention_day_changes_relation() }}
    where change <> 0

),

changed_members as (

    select distinct cohort_type, account_id, member_id
    from day_changes

),

days_before as (

    select stored.cohort_type, stored.account_id, stored.member_id, stored.date
    from {{ stored_days }} as stored
    inner join changed_members
        on stored.member_id = changed_members.member_id
        and stored.account_id = changed_members.account_id
        and stored.cohort_type = changed_members.cohort_type

),

-- a changed member's days now: those it had, less those removed, plus those added (a day
-- counts +1 where it was, and each change its own sign)
days_now as (

    select cohort_type, account_id, member_id, date
    from (
        select cohort_type, account_id, member_id, date, 1 as presence from days_before
        union all
        select cohort_type, account_id, member_id, date, change from day_changes
    ) as presences
    group by 1, 2, 3, 4
    having sum(presence) > 0

),

contributions as (

    {{ wfa_retention_contributions('days_now', 1) }}
    union all
    {{ wfa_retention_contributions('days_before', -1) }}

)
{% else %}
with member_days as (

    {{ wfa_retention_member_days() }}

),

contributions as (

    {{ wfa_retention_contributions('member_days', 1) }}

)
{% endif %}

select
    grain,
    cohort_type,
    account_id,
    cohort_start,
    period_number,
    sum(retained)::bigint as retained,
    sum(last_active)::bigint as last_active
from contributions
group by 1, 2, 3, 4, 5
having sum(retained) <> 0 or sum(last_active) <> 0
