"""What each mart must satisfy beyond the rules every mart shares: the identities between its
figures. Its grain is the dbt contract's (quality/contracts.py). Plain data, cheap to import
(Dagster lists the marts from it when it loads the definitions)."""

from __future__ import annotations


# Funnel order holds only where every execution walks every step: versions without a
# condition (branches) and with nothing skipped; totals over all days, as entry days differ.
LINEAR_FUNNEL = """
with steps as (
    select workflow_id, workflow_version, step_id, min(step_order) as step_order,
           bool_or(step_type = 'condition') as is_condition,
           sum(entered) as entered, sum(completed) as completed, sum(skipped) as skipped
    from {batch} group by workflow_id, workflow_version, step_id
),
linear as (
    select workflow_id, workflow_version from steps group by workflow_id, workflow_version
    having not bool_or(is_condition) and sum(skipped) = 0 and count(step_order) = count(*)
)
select this.workflow_id, this.workflow_version, this.step_id, this.completed,
       next.step_id as next_step_id, next.entered as next_entered
from steps this
join steps next using (workflow_id, workflow_version)
join linear using (workflow_id, workflow_version)
where next.step_order = this.step_order + 1 and next.entered > this.completed"""

# fct_monthly_summary holds a row per workflow and month and one per account and month (null
# workflow_id): the latter adds up the former, figure by figure.
ACCOUNT_MONTHS = """
with workflows as (
    select account_id, month, sum(enrollments) as enrollments, sum(completions) as completions,
           sum(conversions) as conversions, sum(credits) as credits, sum(cost_usd) as cost_usd
    from {batch} where workflow_id is not null group by account_id, month
),
accounts as (
    select account_id, month, enrollments, completions, conversions, credits, cost_usd
    from {batch} where workflow_id is null
)
select * from accounts full outer join workflows using (account_id, month)
where (accounts.enrollments, accounts.completions, accounts.conversions, accounts.credits,
       accounts.cost_usd)
      is distinct from (workflows.enrollments, workflows.completions, workflows.conversions,
                        workflows.credits, workflows.cost_usd)"""

# mart -> {description: SQL over {batch} returning the rows that break the identity}; every
# mart with a suite is listed, with no identity of its own if need be
CONSISTENCY: dict[str, dict[str, str]] = {
    "dim_accounts": {},
    "dim_workflows": {
        "conversion_rate <= completion_rate (a conversion is a completion)":
            "select * from {batch} where conversion_rate > completion_rate"},
    "dim_workflow_steps": {},
    "fct_executions": {
        "goal_achieved executions have goal_achieved_at":
            "select * from {batch} where (status = 'goal_achieved') <> (goal_achieved_at is not null)",
        "only active executions lack ended_at":
            "select * from {batch} where (status = 'active') <> (ended_at is null)"},
    "fct_workflow_daily": {
        "the day's cohort splits into final statuses":
            "select * from {batch} where new_enrollments <> cohort_completed + cohort_exited"
            " + cohort_failed + cohort_active or cohort_goals_achieved > cohort_completed",
        "currently_active <= total_enrolled":
            "select * from {batch} where currently_active > total_enrolled"},
    "fct_workflow_step_daily": {
        "completed <= entered and failed <= entered":
            "select * from {batch} where completed > entered or failed > entered",
        "entered = completed + in_progress + converted + dropped_off":
            "select * from {batch} where entered <> completed + in_progress + converted"
            " + dropped_off",
        "in a linear workflow, entered at step k+1 <= completed at step k": LINEAR_FUNNEL},
    "fct_action_daily": {
        "executions = successes + failures":
            "select * from {batch} where executions <> successes + failures"},
    "fct_executions_hourly": {},
    "fct_errors_daily": {
        "affected_executions <= errors":
            "select * from {batch} where affected_executions > errors"},
    "fct_cost_daily": {},
    "fct_retention_cohorts": {
        "retained <= retained_unbounded <= cohort_size":
            "select * from {batch} where retained > retained_unbounded"
            " or retained_unbounded > cohort_size",
        "everyone is retained in the cohort's own period":
            "select * from {batch} where period_number = 0 and retained <> cohort_size"},
    "fct_monthly_summary": {
        "an account's month is the sum of its workflows' months": ACCOUNT_MONTHS,
        "months are first days of months":
            "select * from {batch} where month <> date_trunc('month', month)::date"},
    "fct_user_activity_daily": {
        "logins <= actions": "select * from {batch} where logins > actions"},
}
MARTS = tuple(CONSISTENCY)
