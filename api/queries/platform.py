"""Account-wide reads of the marts: executions, errors, rankings, costs, retention."""

from __future__ import annotations

EXECUTIONS = """
select date_trunc(%(unit)s, h.hour at time zone 'UTC') as bucket, {group} as grp,
       sum(h.started) as started, sum(h.completed) as completed, sum(h.failed) as failed,
       sum(h.exited) as exited, sum(h.goals_achieved) as goals_achieved
from marts.fct_executions_hourly h
where h.account_id = %(acc)s and h.hour >= %(start)s and h.hour < %(end)s
group by 1, 2 order by 1, 2
"""
GROUPS = {"workflow": "h.workflow_id", "trigger_type": "h.trigger_type", "none": "null::text"}

SUMMARY = """
select count(*) as executions,
       count(*) filter (where status in ('completed', 'goal_achieved')) as succeeded,
       count(*) filter (where status = 'error') as failed,
       count(*) filter (where status = 'active') as active,
       count(duration_seconds) as durations,
       coalesce(sum(duration_seconds), 0) as duration_sum,
       coalesce(sum(cost_usd), 0) as cost_usd, coalesce(sum(credits), 0) as credits
from marts.fct_executions
where account_id = %(acc)s and enrolled_at >= %(start)s and enrolled_at < %(end)s
"""
BY_STATUS = """
select status as grp, date_trunc(%(unit)s, enrolled_at at time zone 'UTC') as bucket,
       count(*) as executions
from marts.fct_executions
where account_id = %(acc)s and enrolled_at >= %(start)s and enrolled_at < %(end)s
group by 1, 2 order by 2, 1
"""
ERRORS = """
with current as (
  select error_type, sum(errors) as errors, sum(affected_executions) as affected
  from marts.fct_errors_daily
  where account_id = %(acc)s and date between %(first)s and %(last)s group by 1),
previous as (
  select error_type, sum(errors) as errors from marts.fct_errors_daily
  where account_id = %(acc)s and date between %(pfirst)s and %(plast)s group by 1)
select coalesce(c.error_type, p.error_type) as error_type, coalesce(c.errors, 0) as errors,
       coalesce(c.affected, 0) as affected_executions, coalesce(p.errors, 0) as previous_errors
from current c full join previous p using (error_type)
order by 2 desc, 1
"""
RANKINGS = {
    "slowest": """
select e.workflow_id, max(w.workflow_name) as workflow_name,
       avg(e.duration_seconds) as value, count(*) as executions
from marts.fct_executions e join marts.dim_workflows w using (workflow_id)
where e.account_id = %(acc)s and e.enrolled_at >= %(start)s and e.enrolled_at < %(end)s
  and e.status in ('completed', 'goal_achieved')
group by 1 order by 3 desc nulls last, 1 limit %(limit)s""",
    "failure_rate": """
select e.workflow_id, max(w.workflow_name) as workflow_name,
       count(*) filter (where e.status = 'error') * 100.0 / count(*) as value, count(*) as executions
from marts.fct_executions e join marts.dim_workflows w using (workflow_id)
where e.account_id = %(acc)s and e.enrolled_at >= %(start)s and e.enrolled_at < %(end)s
group by 1 order by 3 desc, 1 limit %(limit)s""",
    "cost": """
select c.workflow_id, max(w.workflow_name) as workflow_name, sum(c.cost_usd) as value,
       sum(c.executions) as executions
from marts.fct_cost_daily c join marts.dim_workflows w using (workflow_id)
where c.account_id = %(acc)s and c.date between %(first)s and %(last)s
group by 1 order by 3 desc, 1 limit %(limit)s""",
}
RANKINGS_FROM_DETAIL = ("slowest", "failure_rate")  # from fct_executions; cost: the daily mart
COSTS = """
select date_trunc(%(unit)s, date)::date as bucket, sum(credits) as credits, sum(cost_usd) as cost_usd
from marts.fct_cost_daily
where account_id = %(acc)s and date between %(first)s and %(last)s
group by 1 order by 1
"""
BREAKDOWN = """
select {group} as grp, sum(credits) as credits, sum(cost_usd) as cost_usd,
       sum(executions) as executions
from marts.fct_cost_daily
where account_id = %(acc)s and date between %(first)s and %(last)s
group by 1 order by 3 desc nulls last, 1
"""
BREAKDOWN_GROUPS = {"action_type": "action_type", "workflow": "workflow_id"}
RETENTION = """
select cohort_start, period_number, cohort_size, retained, retention_rate
from marts.fct_retention_cohorts
where account_id = %(acc)s and cohort_type = %(cohort_type)s and grain = %(grain)s
  and cohort_start between %(first)s and %(last)s
order by 1, 2
"""
