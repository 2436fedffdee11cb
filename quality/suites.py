"""One Great Expectations suite per mart, kept as code.

Most of a suite follows rules over the dbt contract (every column present with its type,
every count, duration and amount non-negative, every *_rate a percentage, p50 <= p95); the
rest is per mart: its grain, the identities its figures must satisfy, and its reconciliation
with raw.events. Each expectation carries meta.kind (schema, keys, range, consistency,
reconciliation, row_count) so that results can be grouped and tests can aim at one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import great_expectations as gx
import great_expectations.expectations as gxe

from quality.contracts import GE_TYPE, mart_columns
from quality.reconciliation import RECONCILIATIONS
from quality.window import Window

NUMERIC_TYPES = {"bigint", "integer", "numeric"}


@dataclass(frozen=True)
class MartRules:
    keys: tuple[str, ...]
    nullable_keys: tuple[str, ...] = ()
    # description -> SQL over {batch} returning the rows that break the identity
    consistency: dict[str, str] = field(default_factory=dict)


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

RULES: dict[str, MartRules] = {
    "dim_accounts": MartRules(("account_id",)),
    "dim_workflows": MartRules(("workflow_id",), consistency={
        "conversion_rate <= completion_rate (a conversion is a completion)":
            "select * from {batch} where conversion_rate > completion_rate"}),
    "dim_workflow_steps": MartRules(("workflow_id", "workflow_version", "step_id")),
    "fct_executions": MartRules(("execution_id",), consistency={
        "goal_achieved executions have goal_achieved_at":
            "select * from {batch} where (status = 'goal_achieved') <> (goal_achieved_at is not null)",
        "only active executions lack ended_at":
            "select * from {batch} where (status = 'active') <> (ended_at is null)"}),
    "fct_workflow_daily": MartRules(("account_id", "workflow_id", "date"), consistency={
        "the day's cohort splits into final statuses":
            "select * from {batch} where new_enrollments <> cohort_completed + cohort_exited"
            " + cohort_failed + cohort_active or cohort_goals_achieved > cohort_completed",
        "currently_active <= total_enrolled":
            "select * from {batch} where currently_active > total_enrolled"}),
    "fct_workflow_step_daily": MartRules(
        ("account_id", "workflow_id", "workflow_version", "step_id", "date"), consistency={
            "completed <= entered and failed <= entered":
                "select * from {batch} where completed > entered or failed > entered",
            "entered = completed + in_progress + converted + dropped_off":
                "select * from {batch} where entered <> completed + in_progress + converted"
                " + dropped_off",
            "in a linear workflow, entered at step k+1 <= completed at step k": LINEAR_FUNNEL}),
    "fct_action_daily": MartRules(("account_id", "workflow_id", "action_type", "date"), consistency={
        "executions = successes + failures":
            "select * from {batch} where executions <> successes + failures"}),
    "fct_executions_hourly": MartRules(("account_id", "workflow_id", "trigger_type", "hour"),
                                       nullable_keys=("trigger_type",)),
    "fct_errors_daily": MartRules(("account_id", "workflow_id", "step_id", "error_type", "date"),
                                  nullable_keys=("step_id",), consistency={
        "affected_executions <= errors":
            "select * from {batch} where affected_executions > errors"}),
    "fct_cost_daily": MartRules(("account_id", "workflow_id", "action_type", "date"),
                                nullable_keys=("action_type",)),
    "fct_retention_cohorts": MartRules(
        ("account_id", "cohort_type", "grain", "cohort_start", "period_number"), consistency={
            "retained <= retained_unbounded <= cohort_size":
                "select * from {batch} where retained > retained_unbounded"
                " or retained_unbounded > cohort_size",
            "everyone is retained in the cohort's own period":
                "select * from {batch} where period_number = 0 and retained <> cohort_size"}),
    "fct_user_activity_daily": MartRules(("account_id", "user_id", "date"), consistency={
        "logins <= actions": "select * from {batch} where logins > actions"}),
}
MARTS = tuple(RULES)


def _kind(kind: str) -> dict:
    return {"kind": kind}


def schema_expectations(mart: str) -> list:
    columns = mart_columns()[mart]
    found = [gxe.ExpectTableColumnsToMatchSet(column_set=list(columns), exact_match=True,
                                              meta=_kind("schema"))]
    found += [gxe.ExpectColumnValuesToBeOfType(column=name, type_=GE_TYPE[data_type],
                                               meta=_kind("schema"))
              for name, data_type in columns.items()]
    return found


def key_expectations(mart: str, rules: MartRules) -> list:
    keys = ", ".join(rules.keys)
    found = [gxe.ExpectColumnValuesToNotBeNull(column=key, meta=_kind("keys"))
             for key in rules.keys if key not in rules.nullable_keys]
    # group by treats nulls as equal: a nullable part of the grain is still a value of it
    found.append(gxe.UnexpectedRowsExpectation(
        description=f"one row per ({keys})", meta=_kind("keys"),
        unexpected_rows_query=f"select {keys}, count(*) as copies from {{batch}}"
                              f" group by {keys} having count(*) > 1"))
    return found


def range_expectations(mart: str) -> list:
    columns = mart_columns()[mart]
    found = []
    for name, data_type in columns.items():
        if data_type not in NUMERIC_TYPES:
            continue
        if name.endswith("_rate"):
            found.append(gxe.ExpectColumnValuesToBeBetween(
                column=name, min_value=0, max_value=100, meta=_kind("range")))
        else:  # counts, durations, versions, positions and money are never negative
            found.append(gxe.ExpectColumnValuesToBeBetween(
                column=name, min_value=0, meta=_kind("range")))
        if name.startswith("p50_") and f"p95_{name[4:]}" in columns:
            found.append(gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=f"p95_{name[4:]}", column_B=name, or_equal=True,
                ignore_row_if="either_value_is_missing", meta=_kind("range")))
    return found


def consistency_expectations(rules: MartRules) -> list:
    return [gxe.UnexpectedRowsExpectation(description=description, unexpected_rows_query=sql,
                                          meta=_kind("consistency"))
            for description, sql in rules.consistency.items()]


def reconciliation_expectation(mart: str, window: Window):
    reconciliation = RECONCILIATIONS[mart](window)
    return gxe.UnexpectedRowsExpectation(
        description=f"{', '.join(reconciliation.metrics)} equal raw.events ({window})",
        unexpected_rows_query=reconciliation.unexpected_rows_query(),
        meta=_kind("reconciliation"))


def row_count_expectation(previous: int | None, max_drop_pct: float, max_growth_pct: float):
    """Bounds around the previous passing run's count; none before a first baseline."""
    if previous is None:
        return None
    return gxe.ExpectTableRowCountToBeBetween(
        min_value=int(previous * (1 - max_drop_pct / 100)),
        max_value=int(previous * (1 + max_growth_pct / 100)) + 1,
        meta={**_kind("row_count"), "previous_row_count": previous})


def build_suite(mart: str, window: Window = Window(), previous_row_count: int | None = None,
                max_drop_pct: float = 5.0, max_growth_pct: float = 200.0) -> gx.ExpectationSuite:
    rules = RULES[mart]
    suite = gx.ExpectationSuite(name=mart)
    expectations = [*schema_expectations(mart), *key_expectations(mart, rules),
                    *range_expectations(mart), *consistency_expectations(rules),
                    reconciliation_expectation(mart, window),
                    row_count_expectation(previous_row_count, max_drop_pct, max_growth_pct)]
    for expectation in expectations:
        if expectation is not None:
            suite.add_expectation(expectation)
    return suite
