"""Reconciliation of each mart with totals computed straight from raw.events.

The raw side never reads staging, intermediate or the marts: it re-derives each figure from
the event contract and the definitions in DESIGN.md (an execution's status and ended_at by
precedence of its events, steps entered on their first event, costs on their event's day), so
a defect anywhere between raw and the mart shows up as a difference here.
"""

from __future__ import annotations

from dataclasses import dataclass

from quality.window import Window, utc_day

CENT = "0.005"  # money agrees to the cent: a one-cent difference fails

# Per execution, from its execution-level events: status by precedence, ended_at = earliest end.
RAW_EXECUTIONS = """
raw_execution_times as (
    select execution_id,
           min(occurred_at) filter (where event_type = 'execution.enrolled') as enrolled_at,
           min(occurred_at) filter (where event_type = 'goal.achieved') as goal_at,
           min(occurred_at) filter (where event_type = 'execution.completed') as completed_at,
           min(occurred_at) filter (where event_type = 'execution.failed') as failed_at,
           min(occurred_at) filter (where event_type = 'execution.exited') as exited_at
    from raw.events
    where event_type in ('execution.enrolled', 'goal.achieved', 'execution.completed',
                         'execution.failed', 'execution.exited')
    group by execution_id
),
raw_executions as (
    select execution_id, enrolled_at, goal_at,
           least(goal_at, completed_at, failed_at, exited_at) as ended_at,
           case when goal_at is not null then 'goal_achieved'
                when completed_at is not null then 'completed'
                when failed_at is not null then 'error'
                when exited_at is not null then 'exited'
                else 'active' end as status
    from raw_execution_times
)"""

# Per execution and step: entered on its first started/completed/failed event.
RAW_STEPS = """
raw_steps as (
    select execution_id, step_id,
           min(occurred_at) as entered_at,
           bool_or(event_type = 'step.completed') as completed,
           bool_or(event_type = 'step.failed') as failed
    from raw.events
    where event_type in ('step.started', 'step.completed', 'step.failed')
    group by execution_id, step_id
)"""

STEP_OUTCOMES = "event_type in ('step.completed', 'step.failed')"
CREDITS = "coalesce((properties ->> 'credits')::numeric, 0)"
COST = "coalesce((properties ->> 'cost_usd')::numeric, 0)"


@dataclass(frozen=True)
class Reconciliation:
    """Metrics a mart must share with raw.events: the same named columns on both sides."""

    metrics: tuple[str, ...]
    mart_sql: str  # one row over {batch} (GE's placeholder for the mart)
    raw_sql: str   # one row over raw.events
    money: tuple[str, ...] = ()

    def unexpected_rows_query(self) -> str:
        """The metrics whose mart and raw figures differ: no row when everything reconciles."""
        values = ", ".join(
            f"('{m}', mart.{m}::numeric, raw.{m}::numeric, {CENT if m in self.money else 0})"
            for m in self.metrics)
        return (f"with mart as ({self.mart_sql}), raw as ({self.raw_sql})\n"
                f"select metric, mart_value, raw_value from mart cross join raw cross join lateral"
                f" (values {values}) as compared(metric, mart_value, raw_value, tolerance)\n"
                f"where abs(coalesce(mart_value, 0) - coalesce(raw_value, 0)) > tolerance"
                f" or (mart_value is null) <> (raw_value is null)")


def _step_money(window: Window, extra: str = "true") -> str:
    return (f"select coalesce(sum({CREDITS}), 0) as credits, coalesce(sum({COST}), 0) as cost_usd"
            f" from raw.events where {STEP_OUTCOMES} and {extra} and {window.times('occurred_at')}")


def _execution_outcomes(window: Window) -> str:
    ended = window.times("ended_at")
    return (f"with {RAW_EXECUTIONS}\n"
            f"select count(*) filter (where {window.times('enrolled_at')}) as enrolments,\n"
            f"  count(*) filter (where status in ('completed', 'goal_achieved') and {ended})"
            f" as completions,\n"
            f"  count(*) filter (where {window.times('goal_at')}) as conversions,\n"
            f"  count(*) filter (where status = 'error' and {ended}) as failures,\n"
            f"  count(*) filter (where status = 'exited' and {ended}) as exits\n"
            f"from raw_executions")


def fct_workflow_daily(window: Window) -> Reconciliation:
    mart = (f"select sum(new_enrollments) as enrolments, sum(completed) as completions,"
            f" sum(goals_achieved) as conversions, sum(failed) as failures, sum(exited) as exits,"
            f" sum(credits) as credits, sum(cost_usd) as cost_usd"
            f" from {{batch}} where {window.days('date')}")
    raw = (f"select * from ({_execution_outcomes(window)}) executions"
           f" cross join ({_step_money(window)}) money")
    return Reconciliation(("enrolments", "completions", "conversions", "failures", "exits",
                           "credits", "cost_usd"), mart, raw, money=("cost_usd",))


def fct_executions_hourly(window: Window) -> Reconciliation:
    mart = (f"select sum(started) as enrolments, sum(completed) as completions,"
            f" sum(goals_achieved) as conversions, sum(failed) as failures, sum(exited) as exits"
            f" from {{batch}} where {window.times('hour')}")
    return Reconciliation(("enrolments", "completions", "conversions", "failures", "exits"),
                          mart, _execution_outcomes(window))


def fct_executions(window: Window) -> Reconciliation:
    """Cohort-based and not dated: reconciled over all of history, whatever the window."""
    mart = ("select count(*) as executions, count(enrolled_at) as enrolments,"
            " count(*) filter (where status = 'goal_achieved') as conversions,"
            " count(*) filter (where status in ('completed', 'goal_achieved')) as completions,"
            " count(*) filter (where status = 'error') as failures,"
            " sum(steps_completed) as step_completions, sum(steps_failed) as step_failures,"
            " sum(credits) as credits, sum(cost_usd) as cost_usd from {batch}")
    raw = (f"with {RAW_EXECUTIONS}\n"
           "select (select count(*) from raw_executions) as executions,"
           " (select count(enrolled_at) from raw_executions) as enrolments,"
           " (select count(*) from raw_executions where status = 'goal_achieved') as conversions,"
           " (select count(*) from raw_executions where status in ('completed', 'goal_achieved'))"
           " as completions,"
           " (select count(*) from raw_executions where status = 'error') as failures,"
           " step_completions, step_failures, credits, cost_usd from ("
           " select count(*) filter (where event_type = 'step.completed') as step_completions,"
           "  count(*) filter (where event_type = 'step.failed') as step_failures,"
           f"  coalesce(sum({CREDITS}), 0) as credits, coalesce(sum({COST}), 0) as cost_usd"
           f" from raw.events where {STEP_OUTCOMES}) steps")
    return Reconciliation(("executions", "enrolments", "conversions", "completions", "failures",
                           "step_completions", "step_failures", "credits", "cost_usd"),
                          mart, raw, money=("cost_usd",))


def fct_workflow_step_daily(window: Window) -> Reconciliation:
    entered = window.times("entered_at")
    mart = (f"select sum(entered) as step_entries, sum(completed) as step_completions,"
            f" sum(failed) as step_failures, sum(credits) as credits, sum(cost_usd) as cost_usd"
            f" from {{batch}} where {window.days('date')}")
    raw = (f"with {RAW_STEPS}\n"
           f"select count(*) filter (where {entered}) as step_entries,"
           f" count(*) filter (where completed and {entered}) as step_completions,"
           f" count(*) filter (where failed and {entered}) as step_failures,"
           f" money.credits, money.cost_usd"
           f" from raw_steps cross join ({_step_money(window)}) money"
           f" group by money.credits, money.cost_usd")
    return Reconciliation(("step_entries", "step_completions", "step_failures", "credits",
                           "cost_usd"), mart, raw, money=("cost_usd",))


def fct_action_daily(window: Window) -> Reconciliation:
    mart = (f"select sum(successes) as step_completions, sum(failures) as step_failures,"
            f" sum(credits) as credits, sum(cost_usd) as cost_usd"
            f" from {{batch}} where {window.days('date')}")
    raw = (f"select count(*) filter (where e.event_type = 'step.completed') as step_completions,"
           f" count(*) filter (where e.event_type = 'step.failed') as step_failures,"
           f" coalesce(sum({CREDITS}), 0) as credits, coalesce(sum({COST}), 0) as cost_usd"
           f" from raw.events e join raw.workflow_steps s using (workflow_id, workflow_version,"
           f" step_id) where s.step_type = 'action' and e.{STEP_OUTCOMES}"
           f" and {window.times('e.occurred_at')}")
    return Reconciliation(("step_completions", "step_failures", "credits", "cost_usd"),
                          mart, raw, money=("cost_usd",))


def fct_cost_daily(window: Window) -> Reconciliation:
    mart = (f"select sum(credits) as credits, sum(cost_usd) as cost_usd"
            f" from {{batch}} where {window.days('date')}")
    return Reconciliation(("credits", "cost_usd"), mart, _step_money(window), money=("cost_usd",))


def fct_errors_daily(window: Window) -> Reconciliation:
    mart = f"select sum(errors) as errors from {{batch}} where {window.days('date')}"
    raw = ("select count(*) as errors from raw.events e"
           f" where {window.times('e.occurred_at')} and (e.event_type = 'step.failed'"
           " or (e.event_type = 'execution.failed' and not exists (select from raw.events f"
           " where f.execution_id = e.execution_id and f.event_type = 'step.failed')))")
    return Reconciliation(("errors",), mart, raw)


def fct_user_activity_daily(window: Window) -> Reconciliation:
    mart = (f"select sum(actions) as actions, sum(logins) as logins,"
            f" sum(active_seconds) as active_seconds from {{batch}} where {window.days('date')}")
    raw = ("select count(*) as actions,"
           " count(*) filter (where properties ->> 'action' = 'login') as logins,"
           " coalesce(sum((properties ->> 'duration_ms')::numeric), 0) / 1000 as active_seconds"
           f" from raw.events where event_type = 'user.activity' and {window.times('occurred_at')}")
    return Reconciliation(("actions", "logins", "active_seconds"), mart, raw)


def fct_retention_cohorts(window: Window) -> Reconciliation:
    """Cohort sizes over all of history: each member counted once, in its first period."""
    def size(kind: str) -> str:
        return (f"sum(cohort_size) filter (where cohort_type = '{kind}' and grain = 'day'"
                f" and period_number = 0)")
    mart = (f"select {size('user')} as users, {size('contact')} as contacts,"
            f" {size('workflow')} as workflows from {{batch}}")
    raw = ("select count(distinct (account_id, user_id)) filter (where event_type = 'user.activity')"
           " as users,"
           " count(distinct (account_id, contact_id)) filter (where event_type = 'execution.enrolled')"
           " as contacts,"
           " count(distinct (account_id, workflow_id)) filter (where event_type = 'execution.enrolled')"
           " as workflows from raw.events where event_type in ('user.activity', 'execution.enrolled')")
    return Reconciliation(("users", "contacts", "workflows"), mart, raw)


def dim_accounts(window: Window) -> Reconciliation:
    mart = ("select count(*) as accounts, count(*) filter (where not is_inferred)"
            " as snapshot_accounts from {batch}")
    raw = ("select (select count(*) from (select account_id from raw.accounts union"
           " select account_id from raw.events union select account_id from raw.workflows union"
           " select account_id from raw.users) ids) as accounts,"
           " (select count(*) from raw.accounts) as snapshot_accounts")
    return Reconciliation(("accounts", "snapshot_accounts"), mart, raw)


def dim_workflows(window: Window) -> Reconciliation:
    mart = ("select sum(total_enrollments) as enrolments, count(*) filter (where not is_inferred)"
            " as snapshot_workflows from {batch}")
    raw = ("select (select count(distinct execution_id) from raw.events"
           " where event_type = 'execution.enrolled') as enrolments,"
           " (select count(*) from raw.workflows) as snapshot_workflows")
    return Reconciliation(("enrolments", "snapshot_workflows"), mart, raw)


def dim_workflow_steps(window: Window) -> Reconciliation:
    mart = "select count(*) filter (where not is_inferred) as snapshot_steps from {batch}"
    raw = "select count(*) as snapshot_steps from raw.workflow_steps"
    return Reconciliation(("snapshot_steps",), mart, raw)


RECONCILIATIONS = {f.__name__: f for f in (
    dim_accounts, dim_workflows, dim_workflow_steps, fct_executions, fct_workflow_daily,
    fct_workflow_step_daily, fct_action_daily, fct_executions_hourly, fct_errors_daily,
    fct_cost_daily, fct_retention_cohorts, fct_user_activity_daily)}
