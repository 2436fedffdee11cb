"""An execution's status and end have one definition (platform.execution_status and
platform.execution_ended_at, migration 0009): the API's figures for events not yet refreshed
(api/queries/pending.py) and the marts after the refresh (int_executions_summarised) give the
same, for every status, and both follow the function when it changes."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from api.queries import pending
from tests.helpers import execute, query
from tests.test_incremental import refresh_incrementally
from tests.test_marts_scenario import insert_raw, insert_reference

pytestmark = pytest.mark.db

ENROLLED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
ONE_EXECUTION = sql.SQL("execution_id = %(ex)s")

# execution: its terminal events (type, minutes after its enrolment), then the status and the
# duration (seconds from enrolment to the earliest terminal event) both sides must give
CASES = {
    "S_active": ([], "active", None),
    "S_completed": ([("execution.completed", 30)], "completed", 1800),
    "S_goal_after_completion": ([("execution.completed", 30), ("goal.achieved", 90)],
                                "goal_achieved", 1800),
    "S_goal": ([("goal.achieved", 45)], "goal_achieved", 2700),
    "S_failed_after_exit": ([("execution.exited", 20), ("execution.failed", 50)], "error", 1200),
    "S_exited": ([("execution.exited", 10)], "exited", 600),
}


def events_of(execution_id: str, terminal: list[tuple[str, int]],
              enrolled: dt.datetime = ENROLLED) -> list[dict]:
    """Its events, each received when it occurred."""
    def one(n: int, event_type: str, minutes: int) -> dict:
        at = enrolled + dt.timedelta(minutes=minutes)
        return {"event_id": f"{execution_id}_{n}", "event_type": event_type, "occurred_at": at,
                "received_at": at, "account_id": "acc_a", "workflow_id": "wf_main",
                "workflow_version": 1, "execution_id": execution_id,
                "contact_id": execution_id, "properties": {}}
    return [one(n, t, m) for n, (t, m) in enumerate([("execution.enrolled", 0), *terminal])]


def api_view(settings, execution_id: str) -> tuple[str, object]:
    """The status and duration the API adds for an execution the marts do not hold yet."""
    with psycopg.connect(settings.warehouse_url, row_factory=dict_row) as conn:
        mark = pending.refresh_state(conn).watermark
        got = pending.changes(conn, ONE_EXECUTION, {"ex": execution_id}, mark)
    counts = {"active": got["active"], "completed": got["completed"] - got["goals"],
              "goal_achieved": got["goals"], "error": got["failed"], "exited": got["exited"]}
    assert sorted(counts.values()) == [0, 0, 0, 0, 1], counts
    status = next(name for name, n in counts.items() if n == 1)
    return status, got["duration_sum"] if got["durations"] else None


def mart_view(settings, execution_ids) -> dict[str, tuple[str, object]]:
    rows = query(settings, "select execution_id, status, duration_seconds"
                           " from marts.fct_executions where execution_id = any(%s)",
                 (list(execution_ids),))
    return {r["execution_id"]: (r["status"], r["duration_seconds"]) for r in rows}


@pytest.fixture(scope="module")
def refreshed(warehouse):
    """Marts built by the incremental refresh from one earlier execution (so that every
    execution of the tests is pending, wholly new to the marts)."""
    insert_reference(warehouse)
    insert_raw(warehouse, events_of("S_before", [("execution.completed", 60)],
                                    ENROLLED - dt.timedelta(days=1)))
    refresh_incrementally(warehouse)
    return warehouse


def test_pending_and_refreshed_give_the_same_status_and_end(refreshed):
    insert_raw(refreshed, [e for x, (terminal, _, _) in CASES.items()
                           for e in events_of(x, terminal)])
    expected = {x: (status, duration) for x, (_, status, duration) in CASES.items()}
    assert {status for status, _ in expected.values()} == {
        "active", "completed", "goal_achieved", "error", "exited"}
    assert {x: api_view(refreshed, x) for x in CASES} == expected
    assert mart_view(refreshed, CASES) == {}
    refresh_incrementally(refreshed)
    assert mart_view(refreshed, CASES) == expected


def test_both_follow_the_function_when_it_changes(refreshed):
    # a rule that ranks an exit above a failure, in this test's database only
    execute(refreshed, """
        create or replace function platform.execution_status(
            goal_achieved_at timestamptz, completed_at timestamptz,
            failed_at timestamptz, exited_at timestamptz
        ) returns text language sql immutable parallel safe
        return case when exited_at is not null then 'exited'
                    when failed_at is not null then 'error' else 'active' end""")
    insert_raw(refreshed, events_of("T_failed_after_exit",
                                    [("execution.exited", 20), ("execution.failed", 50)],
                                    ENROLLED + dt.timedelta(days=1)))
    assert api_view(refreshed, "T_failed_after_exit") == ("exited", 1200)
    refresh_incrementally(refreshed)
    assert mart_view(refreshed, ["T_failed_after_exit"]) == {
        "T_failed_after_exit": ("exited", 1200)}
