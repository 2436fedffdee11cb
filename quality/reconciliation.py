"""Reconciliation of each mart with totals computed straight from raw.events.

Each mart names its figures (a one-row query over {batch}, GE's placeholder for the mart) and
the raw total each must equal (quality/raw_totals.py). The raw totals go into the query as
literals, so the Data Docs show both sides of a difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from quality.window import Window

CENT = "0.005"  # money agrees to the cent: a one-cent difference fails


@dataclass(frozen=True)
class Reconciliation:
    mart_sql: str             # one row over {batch}, a column per metric
    raw: dict[str, str]       # metric -> its raw total (a key of RawTotals)
    money: tuple[str, ...] = ()
    # over all of history, whatever the window: once retention has purged old raw events the
    # raw side no longer holds all of it, and the comparison is skipped
    history_wide: bool = False

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(self.raw)

    def unexpected_rows_query(self, totals) -> str:
        """The metrics whose mart and raw figures differ: no row when everything reconciles."""
        values = ", ".join(
            f"('{m}', mart.{m}::numeric, {Decimal(totals[key])}::numeric,"
            f" {CENT if m in self.money else 0})"
            for m, key in self.raw.items())
        return (f"with mart as ({self.mart_sql})\n"
                f"select metric, mart_value, raw_value from mart cross join lateral"
                f" (values {values}) as compared(metric, mart_value, raw_value, tolerance)\n"
                f"where abs(coalesce(mart_value, 0) - raw_value) > tolerance")


def _daily(window: Window, sums: dict[str, str], raw: dict[str, str], day: str = "date",
           money: tuple[str, ...] = ("cost_usd",)) -> Reconciliation:
    columns = ", ".join(f"sum({column}) as {metric}" for metric, column in sums.items())
    return Reconciliation(f"select {columns} from {{batch}} where {window.days(day)}", raw, money)


def fct_workflow_daily(window: Window) -> Reconciliation:
    return _daily(window, {
        "enrolments": "new_enrollments", "completions": "completed",
        "conversions": "goals_achieved", "failures": "failed", "exits": "exited",
        "credits": "credits", "cost_usd": "cost_usd"}, {
        "enrolments": "enrolments", "completions": "completions", "conversions": "conversions",
        "failures": "failures", "exits": "exits", "credits": "credits", "cost_usd": "cost_usd"})


def fct_executions_hourly(window: Window) -> Reconciliation:
    return _daily(window, {
        "enrolments": "started", "completions": "completed", "conversions": "goals_achieved",
        "failures": "failed", "exits": "exited"}, {
        "enrolments": "enrolments", "completions": "completions", "conversions": "conversions",
        "failures": "failures", "exits": "exits"}, day="((hour) at time zone 'UTC')::date",
        money=())


def fct_workflow_step_daily(window: Window) -> Reconciliation:
    return _daily(window, {
        "step_entries": "entered", "step_completions": "completed", "step_failures": "failed",
        "credits": "credits", "cost_usd": "cost_usd"}, {
        "step_entries": "step_entries", "step_completions": "step_completions",
        "step_failures": "step_failures", "credits": "credits", "cost_usd": "cost_usd"})


def fct_action_daily(window: Window) -> Reconciliation:
    return _daily(window, {
        "step_completions": "successes", "step_failures": "failures", "credits": "credits",
        "cost_usd": "cost_usd"}, {
        "step_completions": "action_completions", "step_failures": "action_failures",
        "credits": "action_credits", "cost_usd": "action_cost"})


def fct_cost_daily(window: Window) -> Reconciliation:
    return _daily(window, {"credits": "credits", "cost_usd": "cost_usd"},
                  {"credits": "credits", "cost_usd": "cost_usd"})


def fct_errors_daily(window: Window) -> Reconciliation:
    return _daily(window, {"errors": "errors"}, {"errors": "errors"}, money=())


def fct_user_activity_daily(window: Window) -> Reconciliation:
    return _daily(window, {"actions": "actions", "logins": "logins",
                           "active_seconds": "active_seconds"},
                  {"actions": "actions", "logins": "logins", "active_seconds": "active_seconds"},
                  money=())


def fct_executions(window: Window) -> Reconciliation:
    """Cohort-based and not dated: reconciled over all of history, whatever the window."""
    # executions known from execution-level events (one sets enrolled_at or ended_at); the
    # mart also holds those seen only through their steps, whose steps and costs count below
    mart = ("select count(*) filter (where enrolled_at is not null or ended_at is not null)"
            " as executions, count(enrolled_at) as enrolments,"
            " count(*) filter (where status = 'goal_achieved') as conversions,"
            " count(*) filter (where status in ('completed', 'goal_achieved')) as completions,"
            " count(*) filter (where status = 'error') as failures,"
            " sum(steps_completed) as step_completions, sum(steps_failed) as step_failures,"
            " sum(credits) as credits, sum(cost_usd) as cost_usd from {batch}")
    return Reconciliation(mart, {
        "executions": "executions", "enrolments": "enrolments_all",
        "conversions": "conversions_all", "completions": "completions_all",
        "failures": "failures_all", "step_completions": "step_completions_all",
        "step_failures": "step_failures_all", "credits": "credits_all", "cost_usd": "cost_all"},
        money=("cost_usd",), history_wide=True)


def fct_monthly_summary(window: Window) -> Reconciliation:
    """The account rows over every month: each enrolment, completion, conversion and cost once,
    as over all of raw.events (event-dated figures add up to the cohort totals over all days)."""
    mart = ("select sum(enrollments) as enrolments, sum(completions) as completions,"
            " sum(conversions) as conversions, sum(credits) as credits,"
            " sum(cost_usd) as cost_usd from {batch} where workflow_id is null")
    return Reconciliation(mart, {
        "enrolments": "enrolments_all", "completions": "completions_all",
        "conversions": "conversions_all", "credits": "credits_all", "cost_usd": "cost_all"},
        money=("cost_usd",), history_wide=True)


def fct_retention_cohorts(window: Window) -> Reconciliation:
    """Cohort sizes over all of history: each member counted once, in its first period."""
    def size(kind: str) -> str:
        return (f"sum(cohort_size) filter (where cohort_type = '{kind}' and grain = 'day'"
                f" and period_number = 0)")
    mart = (f"select {size('user')} as users, {size('contact')} as contacts,"
            f" {size('workflow')} as workflows from {{batch}}")
    return Reconciliation(mart, {"users": "users", "contacts": "contacts",
                                 "workflows": "workflows_enrolled"}, history_wide=True)


def dim_accounts(window: Window) -> Reconciliation:
    mart = ("select count(*) as accounts, count(*) filter (where not is_inferred)"
            " as snapshot_accounts from {batch}")
    return Reconciliation(mart, {"accounts": "accounts", "snapshot_accounts": "snapshot_accounts"},
                          history_wide=True)


def dim_workflows(window: Window) -> Reconciliation:
    mart = ("select sum(total_enrollments) as enrolments, count(*) filter (where not is_inferred)"
            " as snapshot_workflows from {batch}")
    return Reconciliation(mart, {"enrolments": "enrolled_executions",
                                 "snapshot_workflows": "snapshot_workflows"}, history_wide=True)


def dim_workflow_steps(window: Window) -> Reconciliation:
    mart = "select count(*) filter (where not is_inferred) as snapshot_steps from {batch}"
    return Reconciliation(mart, {"snapshot_steps": "snapshot_steps"})


RECONCILIATIONS = {f.__name__: f for f in (
    dim_accounts, dim_workflows, dim_workflow_steps, fct_executions, fct_workflow_daily,
    fct_workflow_step_daily, fct_action_daily, fct_executions_hourly, fct_errors_daily,
    fct_cost_daily, fct_monthly_summary, fct_retention_cohorts, fct_user_activity_daily)}
