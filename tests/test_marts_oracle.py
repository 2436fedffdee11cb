"""The marts equal an independent recomputation (tests/marts_oracle.py), row for row and column
for column: after a full build of sample data with hand-made edge cases added, and again after a
backfill of a few days in the middle.

The edge cases live in an account of their own (acc_edge), on days inside the sample's span, so
the sample's workflows are untouched: duplicate terminal events, a goal after completion, two
goals out of order, a step that failed then completed, a step outcome re-sent under a new
event_id (once inside the backfilled days, for an execution that ended before them), executions
with step events but no enrolment, enrolments at UTC offsets and across midnight, skipped steps,
an unknown step, a non-action step that cost something; several step.failed with their messages
against an execution that failed at the execution level only (sent twice), an enrolment without
a trigger type, a contact enrolled on several days, user activity in a session across midnight
and in the month before the sample.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from tests.helpers import run_dbt
from tests.marts_oracle import MART_KEYS, expected_marts
from warehouse import incremental
from warehouse.ingestion import load_files

REFERENCE = ("accounts", "users", "workflows", "workflow_steps", "experiments")
SAMPLE_START = dt.date(2026, 8, 1)
BACKFILL = (dt.date(2026, 8, 9), dt.date(2026, 8, 11))

# Quotients (rates, averages) and percentiles are compared with a relative tolerance:
# PostgreSQL's numeric division rounds to a scale of its choosing (at least 16 significant
# digits), and percentile_cont works in double precision and comes back through a float8 ->
# numeric cast (15 significant digits). Everything else (counts, timestamps, text, exact sums of
# credits, costs and durations) must be equal.
RELATIVE_TOLERANCE = Decimal("1e-12")
APPROXIMATE = {
    "completion_rate", "conversion_rate", "success_rate", "error_rate", "step_conversion_rate",
    "average_duration_seconds", "average_duration_ms", "average_time_in_step_seconds",
    "cost_per_execution", "p50_duration_seconds", "p95_duration_seconds", "p95_duration_ms",
    "retention_rate",
}
SHOWN = 5  # differences shown per mart in a failure


# --- hand-made edge cases ---------------------------------------------------------------------

EDGE_STEPS = [
    ("wf_edge_x", 1, "s1", 1, "trigger", "Trigger", None),
    ("wf_edge_x", 1, "s2", 2, "action", "Email", "send_email"),
    ("wf_edge_x", 1, "s3", 3, "action", "SMS", "send_sms"),
    ("wf_edge_x", 1, "s4", 4, "wait", "Wait", None),
    ("wf_edge_x", 1, "s5", 5, "goal", "Goal", None),
    ("wf_edge_y", 1, "t1", 1, "trigger", "Trigger", None),
    ("wf_edge_y", 1, "t2", 2, "action", "Hook", "http_request"),
]


def day(number: int) -> str:
    """Day `number` of the edge cases, inside the sample's span (day 1 = Aug 8)."""
    return (SAMPLE_START + dt.timedelta(days=6 + number)).isoformat()


class EdgeEvents:
    """Events of the account acc_edge, with sequential ids unless one is given."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def add(self, event_type: str, at: str, execution_id: str | None = None,
            workflow_id: str = "wf_edge_x", step_id: str | None = None,
            contact_id: str | None = None, user_id: str | None = None,
            event_id: str | None = None, **properties) -> None:
        event = {"event_id": event_id or f"edge_{len(self.events) + 1:04d}",
                 "event_type": event_type, "occurred_at": at, "account_id": "acc_edge",
                 "properties": properties}
        if execution_id:
            event.update(workflow_id=workflow_id, workflow_version=1, execution_id=execution_id)
        for name, value in (("step_id", step_id), ("contact_id", contact_id),
                            ("user_id", user_id)):
            if value is not None:
                event[name] = value
        self.events.append(event)

    def enrol(self, execution_id: str, at: str, workflow_id: str = "wf_edge_x") -> None:
        self.add("execution.enrolled", at, execution_id, workflow_id,
                 contact_id=f"c_{execution_id}", enrollment_source="api", trigger_type="form")

    def step(self, execution_id: str, event_type: str, step_id: str, at: str,
             workflow_id: str = "wf_edge_x", ms: int = 100, credits: int = 1,
             cost: float = 0.001, **properties) -> None:
        if event_type in ("step.completed", "step.failed"):
            properties.update(duration_ms=ms, credits=credits, cost_usd=cost)
        self.add(event_type, at, execution_id, workflow_id, step_id=step_id, **properties)


def edge_events() -> list[dict]:
    e = EdgeEvents()
    d = day
    # duplicate terminal events under different ids: ended at the earliest, counted once
    e.enrol("x_dupterm", f"{d(1)}T09:00:00Z")
    e.add("execution.completed", f"{d(2)}T09:00:00Z", "x_dupterm")
    e.add("execution.completed", f"{d(1)}T12:00:00Z", "x_dupterm")
    # a goal after completion: ended at the completion, the goal at its own time
    e.enrol("x_goal_after", f"{d(1)}T08:00:00Z")
    e.add("execution.completed", f"{d(1)}T09:00:00Z", "x_goal_after")
    e.add("goal.achieved", f"{d(3)}T08:00:00Z", "x_goal_after", goal_id="g1", value_usd=50.5)
    # two goals arriving out of order: the earliest (value 10) wins
    e.enrol("x_two_goals", f"{d(1)}T07:00:00Z")
    e.add("goal.achieved", f"{d(3)}T07:00:00Z", "x_two_goals", goal_id="g1", value_usd=99)
    e.add("goal.achieved", f"{d(2)}T07:00:00Z", "x_two_goals", goal_id="g1", value_usd=10)
    # two goals at the same instant: the smaller event_id wins
    e.enrol("x_goal_tie", f"{d(2)}T10:00:00Z")
    e.add("goal.achieved", f"{d(2)}T12:00:00Z", "x_goal_tie", event_id="edge_zz_goal",
          goal_id="g", value_usd=2)
    e.add("goal.achieved", f"{d(2)}T12:00:00Z", "x_goal_tie", event_id="edge_aa_goal",
          goal_id="g", value_usd=1)
    # step.failed then step.completed for the same step (a retry)
    e.enrol("x_retry", f"{d(2)}T10:00:00Z")
    e.step("x_retry", "step.started", "s2", f"{d(2)}T10:00:01Z")
    e.step("x_retry", "step.failed", "s2", f"{d(2)}T10:00:02Z", ms=300, cost=0.5,
           error_type="api_timeout", error_message="t")
    e.step("x_retry", "step.completed", "s2", f"{d(2)}T10:05:00Z", ms=500, cost=0.25)
    # a step outcome re-sent under a new event_id: two events
    e.enrol("x_resent", f"{d(2)}T10:00:00Z")
    e.step("x_resent", "step.completed", "s2", f"{d(2)}T10:00:05Z", cost=0.1)
    e.step("x_resent", "step.completed", "s2", f"{d(2)}T10:00:05Z", cost=0.1)
    # enrolled and ended before the backfill's days, its step outcome re-sent inside them
    e.enrol("x_resent_late", f"{d(1)}T10:00:00Z")
    e.step("x_resent_late", "step.completed", "s2", f"{d(1)}T10:01:00Z", cost=0.2)
    e.add("execution.completed", f"{d(1)}T11:00:00Z", "x_resent_late")
    e.step("x_resent_late", "step.completed", "s2", f"{d(3)}T10:01:00Z", cost=0.2)
    # step events but no enrolment, completed; and in a workflow nobody enrolled in
    e.step("x_noenrol", "step.started", "s3", f"{d(2)}T13:00:00Z")
    e.step("x_noenrol", "step.completed", "s3", f"{d(2)}T13:00:05Z", ms=5000, credits=3,
           cost=0.03)
    e.add("execution.completed", f"{d(2)}T14:00:00Z", "x_noenrol")
    e.step("y_noenrol", "step.started", "t2", f"{d(2)}T13:00:00Z", workflow_id="wf_edge_y")
    e.step("y_noenrol", "step.completed", "t2", f"{d(2)}T13:00:05Z", workflow_id="wf_edge_y",
           ms=50, credits=4, cost=0.4)
    # a step's cost the day before the workflow's first enrolment
    e.step("x_early", "step.completed", "s2", f"{d(0)}T23:00:00Z", ms=10, credits=5,
           cost=0.05)
    # failed after exited (status error, ended at the exit); exited twice (the first reason)
    e.enrol("x_fail_exit", f"{d(1)}T06:00:00Z")
    e.add("execution.failed", f"{d(3)}T06:00:00Z", "x_fail_exit", error_type="api_timeout",
          error_message="boom")
    e.add("execution.exited", f"{d(2)}T06:00:00Z", "x_fail_exit", exit_reason="unsubscribed")
    e.add("execution.exited", f"{d(2)}T07:00:00Z", "x_fail_exit", exit_reason="later")
    # UTC offsets: 01:30+05:00 is the previous UTC day; 20:00-05:00 the next one
    e.enrol("x_tz", f"{d(2)}T01:30:00+05:00")
    e.add("execution.completed", f"{d(2)}T04:59:59.999+05:00", "x_tz")
    e.enrol("x_neg_tz", f"{d(1)}T20:00:00-05:00")
    e.add("execution.exited", f"{d(3)}T00:00:00Z", "x_neg_tz", exit_reason="x")
    # across midnight by two milliseconds
    e.enrol("x_midnight", f"{d(1)}T23:59:59.999Z")
    e.add("execution.completed", f"{d(2)}T00:00:00.001Z", "x_midnight")
    # skipped then entered (entered, not skipped); skipped twice on two days (the first counts)
    e.enrol("x_skip", f"{d(2)}T10:00:00Z")
    e.step("x_skip", "step.skipped", "s3", f"{d(2)}T10:01:00Z", reason="branch")
    e.step("x_skip", "step.started", "s3", f"{d(2)}T10:02:00Z")
    e.step("x_skip", "step.skipped", "s4", f"{d(3)}T10:01:00Z", reason="branch")
    e.step("x_skip", "step.skipped", "s4", f"{d(2)}T11:01:00Z", reason="branch")
    # entered one day, completed (with its cost) the next; an unknown step; non-action steps
    # with and without a cost
    e.enrol("x_span", f"{d(2)}T20:00:00Z")
    e.step("x_span", "step.started", "s2", f"{d(2)}T23:00:00Z")
    e.step("x_span", "step.completed", "s2", f"{d(3)}T01:00:00Z", ms=7_200_000, credits=6,
           cost=0.6)
    e.step("x_span", "step.completed", "s99", f"{d(3)}T03:00:00Z", ms=1, credits=2, cost=0.02)
    e.step("x_span", "step.completed", "s4", f"{d(3)}T04:00:00Z", ms=1, credits=0, cost=0)
    e.step("x_span", "step.completed", "s1", f"{d(3)}T04:00:00Z", ms=1, credits=1, cost=0)
    # still active in a step; converted without completing it; dropped off
    e.enrol("x_active", f"{d(3)}T12:00:00Z")
    e.step("x_active", "step.started", "s2", f"{d(3)}T12:00:01Z")
    e.enrol("x_conv", f"{d(3)}T12:00:00Z")
    e.step("x_conv", "step.started", "s3", f"{d(3)}T12:00:01Z")
    e.add("goal.achieved", f"{d(4)}T12:00:00Z", "x_conv", goal_id="g1", value_usd=1)
    e.enrol("x_drop", f"{d(3)}T12:00:00Z")
    e.step("x_drop", "step.started", "s3", f"{d(3)}T12:00:01Z")
    e.add("execution.exited", f"{d(3)}T13:00:00Z", "x_drop", exit_reason="unsubscribed")
    # enrolled twice (the earlier enrolment, arriving second, wins)
    e.add("execution.enrolled", f"{d(4)}T10:00:00Z", "x_twice", contact_id="c_a",
          enrollment_source="api", trigger_type="form")
    e.add("execution.enrolled", f"{d(3)}T10:00:00Z", "x_twice", contact_id="c_b",
          enrollment_source="manual", trigger_type="manual")
    # a terminal event before the enrolment (clock skew): a negative duration
    e.enrol("x_skew", f"{d(4)}T10:00:00Z")
    e.add("execution.completed", f"{d(4)}T09:00:00Z", "x_skew")
    # several completions on one day, for the percentiles
    for i, minutes in enumerate([1, 2, 3, 5, 8, 13, 21]):
        e.enrol(f"x_p{i}", f"{d(4)}T12:00:00Z")
        e.step(f"x_p{i}", "step.completed", "s2", f"{d(5)}T12:00:30Z", ms=100 * (i + 1) ** 2,
               cost=round(0.001 * (i + 1), 3))
        e.add("execution.completed", f"{d(5)}T12:{minutes:02d}:00.123Z", f"x_p{i}")
    errors(e)
    activity(e)
    return e.events


def errors(e: EdgeEvents) -> None:
    d = day
    # several step.failed: one error each, the smallest message, a message missing; the
    # execution.failed that followed is not a second error
    e.enrol("x_errs", f"{d(4)}T08:00:00Z")
    for message in ("b: second", "a: first", None):
        e.step("x_errs", "step.failed", "s2", f"{d(4)}T08:01:00Z", error_type="api_timeout",
               **({"error_message": message} if message else {}))
    e.step("x_errs", "step.failed", "s3", f"{d(4)}T23:30:00-02:00", error_type="network_error",
           error_message="next UTC day")
    e.step("x_errs", "step.failed", "s99", f"{d(4)}T09:00:00Z", error_type="validation_error",
           error_message="unknown step")
    e.step("x_errs", "step.failed", "s4", f"{d(4)}T09:00:00Z", error_type="validation_error",
           error_message="not an action")
    e.add("execution.failed", f"{d(4)}T09:30:00Z", "x_errs", error_type="api_timeout",
          error_message="after the step")
    # another execution failing the same step the same day: two affected executions
    e.enrol("x_errs2", f"{d(4)}T08:00:00Z")
    e.step("x_errs2", "step.failed", "s2", f"{d(4)}T10:00:00Z", error_type="api_timeout",
           error_message="c: third")
    # failed at the execution level only, sent twice on two days: step_id null, one error on
    # the day of the earliest
    e.enrol("x_exec_fail", f"{d(4)}T08:00:00Z")
    e.step("x_exec_fail", "step.completed", "s2", f"{d(4)}T08:00:30Z")
    e.add("execution.failed", f"{d(4)}T08:45:00Z", "x_exec_fail",
          error_type="configuration_error", error_message="bad config")
    e.add("execution.failed", f"{d(5)}T08:45:00Z", "x_exec_fail",
          error_type="configuration_error", error_message="again")
    # an enrolment without a trigger type (null in the hourly mart), the same contact enrolled
    # again later and in another workflow (contact retention), in a workflow only step events
    # had reached so far
    e.add("execution.enrolled", f"{d(1)}T05:00:00Z", "x_loyal_1", contact_id="c_loyal",
          enrollment_source="manual")
    e.add("execution.enrolled", f"{d(5)}T05:00:00Z", "x_loyal_2", contact_id="c_loyal",
          enrollment_source="api", trigger_type="form")
    e.add("execution.enrolled", f"{d(6)}T05:00:00Z", "y_loyal", "wf_edge_y",
          contact_id="c_loyal", enrollment_source="api", trigger_type="webhook")
    e.add("execution.completed", f"{d(6)}T05:30:00Z", "y_loyal", "wf_edge_y")


def activity(e: EdgeEvents) -> None:
    d = day

    def act(user_id: str, at: str, action: str, session: str | None = "s1", **properties):
        if session is not None:
            properties["session_id"] = session
        e.add("user.activity", at, user_id=user_id, action=action, resource="workflow",
              **properties)

    # a session across midnight counts on both days; logins; a missing duration; an event
    # without a session; an offset that moves an event to the previous UTC day
    act("u_night", f"{d(1)}T23:50:00Z", "login", duration_ms=1500)
    act("u_night", f"{d(2)}T00:10:00Z", "view_dashboard", duration_ms=250)
    act("u_night", f"{d(2)}T09:00:00+05:00", "login", session="s2", duration_ms=1000)
    act("u_night", f"{d(2)}T10:00:00Z", "export", session="s2")
    act("u_night", f"{d(2)}T11:00:00Z", "edit_workflow", session=None, duration_ms=7)
    # retention: a cohort from the month before, with a gap; active again the next ISO week
    act("u_old", f"{d(-8)}T12:00:00Z", "login", duration_ms=10)
    act("u_old", f"{d(3)}T12:00:00Z", "login", duration_ms=10)
    act("u_gap", f"{d(1)}T12:00:00Z", "login", duration_ms=10)
    act("u_gap", f"{d(5)}T12:00:00Z", "publish_workflow", duration_ms=10)
    act("u_once", f"{d(2)}T12:00:00-03:00", "login", duration_ms=10)


# --- comparing ------------------------------------------------------------------------------

def same(column: str, expected, found) -> bool:
    if expected is None or found is None:
        return expected is None and found is None
    if column in APPROXIMATE:
        expected, found = Decimal(str(expected)), Decimal(str(found))
        return abs(expected - found) <= RELATIVE_TOLERANCE * max(abs(expected), abs(found), 1)
    if isinstance(expected, (int, Decimal)) and not isinstance(expected, bool):
        return Decimal(expected) == Decimal(str(found))
    return expected == found  # text, dates, timestamps (aware: compared as instants)


def mart_rows(conn: psycopg.Connection, mart: str) -> tuple[list[str], list[dict]]:
    cursor = conn.execute(f"select * from marts.{mart}")
    columns = [column.name for column in cursor.description]
    return columns, [dict(zip(columns, row)) for row in cursor.fetchall()]


def differences(conn: psycopg.Connection, mart: str, expected: dict[tuple, dict]) -> list[str]:
    """What differs between the mart and the oracle's rows, one line per key."""
    keys = MART_KEYS[mart]
    columns, rows = mart_rows(conn, mart)
    oracle_columns = next(iter(expected.values())).keys()
    problems = []
    if set(columns) != set(keys) | set(oracle_columns):
        problems.append(f"columns {sorted(columns)} against the oracle's "
                        f"{sorted(set(keys) | set(oracle_columns))}")
    found: dict[tuple, dict] = {}
    for row in rows:
        key = tuple(row[name] for name in keys)
        if key in found:
            problems.append(f"key {key} twice")
        found[key] = row
    for key in sorted(expected.keys() - found.keys(), key=str):
        problems.append(f"{dict(zip(keys, key))}: missing, expected {expected[key]}")
    for key in sorted(found.keys() - expected.keys(), key=str):
        problems.append(f"{dict(zip(keys, key))}: not expected, found "
                        f"{ {c: v for c, v in found[key].items() if c not in keys} }")
    for key in sorted(expected.keys() & found.keys(), key=str):
        wrong = [f"{column}: expected {value!r}, found {found[key][column]!r}"
                 for column, value in expected[key].items()
                 if column in found[key] and not same(column, value, found[key][column])]
        if wrong:
            problems.append(f"{dict(zip(keys, key))}: " + "; ".join(wrong))
    return problems


def assert_marts_equal_the_oracle(settings, when: str) -> None:
    with psycopg.connect(settings.warehouse_url) as conn:
        oracle = expected_marts(conn)
        report = []
        for mart, expected in oracle.items():
            assert expected, f"the oracle has no rows for {mart}"
            problems = differences(conn, mart, expected)
            if problems:
                report.append(f"marts.{mart} {when}: {len(problems)} differences "
                              f"({len(expected)} rows expected), the first {SHOWN}:\n    "
                              + "\n    ".join(problems[:SHOWN]))
    if report:
        pytest.fail("\n".join(report), pytrace=False)


# --- the tests ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built(warehouse, tmp_path_factory):
    """Sample data and the edge cases loaded (reference tables included), marts built once."""
    from warehouse.sample_data import generate

    folder: Path = tmp_path_factory.mktemp("sample")
    generate(folder, events=8000, days=20, seed=29, start=SAMPLE_START)
    for table in REFERENCE:
        load_files(warehouse.warehouse_url, [folder / f"{table}.jsonl"], table)
    load_files(warehouse.warehouse_url, sorted((folder / "events").iterdir()))

    steps = folder / "edge_workflow_steps.jsonl"
    steps.write_text("".join(json.dumps(dict(zip(
        ("workflow_id", "workflow_version", "step_id", "step_order", "step_type", "step_name",
         "action_type"), step))) + "\n" for step in EDGE_STEPS))
    (result,) = load_files(warehouse.warehouse_url, [steps], "workflow_steps")
    assert result.rejected == 0
    edges = folder / "edge_events.jsonl"
    edges.write_text("".join(json.dumps(event) + "\n" for event in edge_events()))
    (result,) = load_files(warehouse.warehouse_url, [edges])
    assert (result.loaded, result.rejected) == (len(edge_events()), 0)

    run_dbt(warehouse, "run")
    return warehouse


def test_a_full_build_equals_the_oracle(built):
    assert_marts_equal_the_oracle(built, "after a full build")


def test_a_backfill_of_days_in_the_middle_leaves_the_marts_equal_to_the_oracle(built):
    first, last = BACKFILL
    run_dbt(built, "run", env=incremental.dbt_environment(
        {"wfa_window_start": first.isoformat(), "wfa_window_end": last.isoformat()}))
    assert_marts_equal_the_oracle(built, f"after a backfill of {first} to {last}")
