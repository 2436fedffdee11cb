"""A hand-built scenario through the whole dbt project, with the exact marts it must give.

One workflow (wf_main, version 1: trigger, send_email, condition, http_request branch, goal)
and one nobody enrolled in (wf_idle). Eight executions, one per case:

    X1  goal_achieved: completed on Mar 1, goal on Mar 3 (a goal after completion)
    X2  completed, skipped the http_request branch (not a drop-off)
    X7  completed, skipped the branch; its execution.enrolled arrives late
    X3  error: send_email failed (step.failed + execution.failed), enrolled at +02:00
    X4  error: execution.failed without any step.failed (an error with a null step)
    X5  exited during the condition, enrolled at 22:30-05:00 (already Mar 3 in UTC)
    X6  active, still in send_email
    X8  goal_achieved during send_email without completing it (converted at that step)

Three users active over three days, one of them at 23:30-02:00 (the next UTC day) and one
with a session across midnight. The run happens in a non-UTC session time zone: every date
must still be a UTC day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.helpers import query, run_dbt

pytestmark = pytest.mark.db

D = Decimal
UTC = dt.timezone.utc
MAR1, MAR2, MAR3 = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def close(value, expected, places: int = 10) -> bool:
    """Equal to `places` decimals (for the rates that do not terminate, like 100/3)."""
    if value is None or expected is None:
        return value is None and expected is None
    return round(D(value), places) == round(D(expected), places)


# --- reference data ------------------------------------------------------------------------

ACCOUNTS = [
    ("acc_a", "Acme", "pro", "Asia/Kolkata", D("100.00"), "2025-01-01T00:00:00Z"),
    ("acc_b", "Globex", "free", "UTC", D("50.00"), "2025-02-01T00:00:00Z"),
]
USERS = [
    ("u1", "acc_a", "admin", "2025-01-01T00:00:00Z"),
    ("u2", "acc_a", "editor", "2025-01-01T00:00:00Z"),
    ("u3", "acc_a", "viewer", "2025-01-01T00:00:00Z"),
]
WORKFLOWS = [
    ("wf_main", "acc_a", "Welcome series", "u1", "2025-06-01T00:00:00Z", "active"),
    ("wf_idle", "acc_a", "Never used", "u2", "2025-06-01T00:00:00Z", "paused"),
]
STEPS = [
    ("wf_main", 1, "t1", 1, "trigger", "Trigger", None),
    ("wf_main", 1, "a1", 2, "action", "Send welcome email", "send_email"),
    ("wf_main", 1, "c1", 3, "condition", "If email opened", None),
    ("wf_main", 1, "a2", 4, "action", "Sync contact to CRM", "http_request"),
    ("wf_main", 1, "g1", 5, "goal", "Goal: demo booked", None),
    ("wf_idle", 1, "t1", 1, "trigger", "Trigger", None),
]
EXPERIMENTS = [
    ("exp_1", "wf_main", "Subject line", "2026-02-01T00:00:00Z", None, "control",
     {"control": 0.5, "treatment": 0.5}),
]

# --- events --------------------------------------------------------------------------------

EVENTS: list[dict] = []
_seq = 0


def event(event_type: str, occurred_at: str, execution_id=None, step_id=None, contact_id=None,
          user_id=None, received_at: str | None = None, **properties) -> dict:
    global _seq
    _seq += 1
    row = {
        "event_id": f"ev_{_seq:03d}", "event_type": event_type, "occurred_at": occurred_at,
        "received_at": received_at or occurred_at, "account_id": "acc_a",
        "workflow_id": "wf_main" if execution_id else None,
        "workflow_version": 1 if execution_id else None,
        "execution_id": execution_id, "contact_id": contact_id, "step_id": step_id,
        "user_id": user_id, "properties": {k: v for k, v in properties.items() if v is not None},
    }
    EVENTS.append(row)
    return row


def enrolled(x, at, contact, trigger_type="form_submission", source="trigger", **extra):
    return event("execution.enrolled", at, x, contact_id=contact, enrollment_source=source,
                 trigger_type=trigger_type, **extra)


def step_done(x, step, started, completed, duration_ms, credits=0, cost=0.0):
    event("step.started", started, x, step)
    event("step.completed", completed, x, step, duration_ms=duration_ms, credits=credits,
          cost_usd=cost)


# X1: completes on Mar 1 at 10:00:00.500, goal on Mar 3 at 08:00 (value 120.50)
enrolled("X1", "2026-03-01T09:00:00Z", "k1", experiment_id="exp_1", variant="treatment")
step_done("X1", "t1", "2026-03-01T09:00:01Z", "2026-03-01T09:00:02Z", 1000)
step_done("X1", "a1", "2026-03-01T09:01:00Z", "2026-03-01T09:01:00.400Z", 400, 1, 0.0025)
step_done("X1", "c1", "2026-03-01T09:02:00Z", "2026-03-01T09:02:00.050Z", 50)
step_done("X1", "a2", "2026-03-01T09:03:00Z", "2026-03-01T09:03:01.200Z", 1200, 2, 0.01)
step_done("X1", "g1", "2026-03-01T09:04:00Z", "2026-03-01T09:04:00.010Z", 10)
event("execution.completed", "2026-03-01T10:00:00.500Z", "X1")
event("goal.achieved", "2026-03-03T08:00:00Z", "X1", goal_id="demo", value_usd=120.5)

# X2: completed, branch a2 not taken
enrolled("X2", "2026-03-01T12:00:00Z", "k2", experiment_id="exp_1", variant="control")
step_done("X2", "t1", "2026-03-01T12:00:01Z", "2026-03-01T12:00:02Z", 1000)
step_done("X2", "a1", "2026-03-01T12:01:00Z", "2026-03-01T12:01:00.600Z", 600, 1, 0.0025)
step_done("X2", "c1", "2026-03-01T12:02:00Z", "2026-03-01T12:02:00.040Z", 40)
event("step.skipped", "2026-03-01T12:02:30Z", "X2", "a2", reason="condition_false")
step_done("X2", "g1", "2026-03-01T12:03:00Z", "2026-03-01T12:03:00.020Z", 20)
event("execution.completed", "2026-03-01T13:00:00Z", "X2")

# X7: like X2; its execution.enrolled reaches the warehouse days later (LATE_EVENT)
LATE_EVENT = enrolled("X7", "2026-03-01T15:00:00Z", "k7")
EVENTS.remove(LATE_EVENT)
LATE_EVENT["received_at"] = "2026-03-05T00:00:00Z"
step_done("X7", "t1", "2026-03-01T15:00:01Z", "2026-03-01T15:00:02Z", 1000)
step_done("X7", "a1", "2026-03-01T15:01:00Z", "2026-03-01T15:01:00.500Z", 500, 1, 0.0025)
step_done("X7", "c1", "2026-03-01T15:02:00Z", "2026-03-01T15:02:00.030Z", 30)
event("step.skipped", "2026-03-01T15:02:30Z", "X7", "a2", reason="condition_false")
step_done("X7", "g1", "2026-03-01T15:03:00Z", "2026-03-01T15:03:00.010Z", 10)
event("execution.completed", "2026-03-01T16:00:00Z", "X7")

# X3: send_email fails (api_timeout), then the execution fails; times at +02:00
enrolled("X3", "2026-03-02T08:00:00+02:00", "k3")
step_done("X3", "t1", "2026-03-02T08:00:01+02:00", "2026-03-02T08:00:02+02:00", 1000)
event("step.started", "2026-03-02T08:01:00+02:00", "X3", "a1")
event("step.failed", "2026-03-02T08:01:30+02:00", "X3", "a1", duration_ms=30000,
      error_type="api_timeout", error_message="Upstream API did not respond", credits=1,
      cost_usd=0.003)
event("execution.failed", "2026-03-02T08:01:31+02:00", "X3", error_type="api_timeout",
      error_message="Upstream API did not respond")

# X4: the execution fails without any step failing
enrolled("X4", "2026-03-02T10:00:00Z", "k4", trigger_type="tag_added", source="api")
step_done("X4", "t1", "2026-03-02T10:00:01Z", "2026-03-02T10:00:02Z", 1000)
event("execution.failed", "2026-03-02T10:05:00Z", "X4", error_type="configuration_error",
      error_message="Sender domain is not verified")

# X5: enrolled at 22:30 on Mar 2 in New York (03:30 UTC on Mar 3), exits during c1
enrolled("X5", "2026-03-02T22:30:00-05:00", "k5")
step_done("X5", "t1", "2026-03-02T22:30:01-05:00", "2026-03-02T22:30:02-05:00", 1000)
step_done("X5", "a1", "2026-03-02T22:31:00-05:00", "2026-03-02T22:31:00.700-05:00", 700, 1,
          0.0025)
event("step.started", "2026-03-02T22:32:00-05:00", "X5", "c1")
event("execution.exited", "2026-03-02T23:00:00-05:00", "X5", exit_reason="unsubscribed")

# X6: still in send_email
enrolled("X6", "2026-03-03T09:00:00Z", "k6")
step_done("X6", "t1", "2026-03-03T09:00:01Z", "2026-03-03T09:00:02Z", 1000)
event("step.started", "2026-03-03T09:01:00Z", "X6", "a1")

# X8: contact k2 again; reaches the goal while in send_email (no value_usd)
enrolled("X8", "2026-03-03T10:00:00Z", "k2")
step_done("X8", "t1", "2026-03-03T10:00:01Z", "2026-03-03T10:00:02Z", 1000)
event("step.started", "2026-03-03T10:01:00Z", "X8", "a1")
event("goal.achieved", "2026-03-03T10:30:00Z", "X8", goal_id="demo")

# user activity
event("user.activity", "2026-03-01T08:00:00Z", user_id="u1", session_id="s1", action="login",
      resource="app", duration_ms=1000)
event("user.activity", "2026-03-01T08:05:00Z", user_id="u1", session_id="s1",
      action="view_dashboard", resource="wf_main", duration_ms=2500)
event("user.activity", "2026-03-03T09:00:00Z", user_id="u1", session_id="s2", action="login",
      resource="app", duration_ms=500)
event("user.activity", "2026-03-01T23:30:00-02:00", user_id="u2", session_id="s3",
      action="edit_workflow", resource="wf_main", duration_ms=60000)
event("user.activity", "2026-03-02T12:00:00Z", user_id="u3", session_id="s4", action="login",
      resource="app", duration_ms=800)
event("user.activity", "2026-03-02T23:59:30Z", user_id="u3", session_id="s5", action="export",
      resource="wf_main", duration_ms=100)
event("user.activity", "2026-03-03T00:00:30Z", user_id="u3", session_id="s5", action="export",
      resource="wf_main", duration_ms=200)


def insert_raw(settings, events: list[dict]) -> None:
    columns = list(events[0])
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        with conn.cursor() as cur:
            cur.executemany(
                f"insert into raw.events ({', '.join(columns)}) "
                f"values ({', '.join(['%s'] * len(columns))})",
                [[Jsonb(e[c]) if c == "properties" else e[c] for c in columns] for e in events],
            )


def insert_reference(settings) -> None:
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        with conn.cursor() as cur:
            cur.executemany("insert into raw.accounts values (%s, %s, %s, %s, %s, %s)", ACCOUNTS)
            cur.executemany("insert into raw.users values (%s, %s, %s, %s)", USERS)
            cur.executemany("insert into raw.workflows values (%s, %s, %s, %s, %s, %s)",
                            WORKFLOWS)
            cur.executemany("insert into raw.workflow_steps values (%s, %s, %s, %s, %s, %s, %s)",
                            STEPS)
            cur.executemany(
                "insert into raw.experiments values (%s, %s, %s, %s, %s, %s, %s)",
                [(*row[:-1], Jsonb(row[-1])) for row in EXPERIMENTS],
            )


@dataclass
class Built:
    settings: object
    before_late: dict


@pytest.fixture(scope="module")
def marts(warehouse):
    """The warehouse after two refreshes: one before the late event arrived (its state kept in
    `before_late`), one after (`dbt build`: models, data tests and unit tests)."""
    with pytest.MonkeyPatch.context() as patch:
        # a session time zone eight hours behind UTC: X3, X5 and several user events fall on
        # the previous local day, yet every date must stay the UTC day
        patch.setenv("PGTZ", "America/Los_Angeles")
        insert_reference(warehouse)
        insert_raw(warehouse, EVENTS)
        run_dbt(warehouse, "run")
        before = {
            "x7": query(warehouse, "select * from marts.fct_executions where execution_id = 'X7'"),
            "mar1": query(warehouse, "select * from marts.fct_workflow_daily "
                                     "where workflow_id = 'wf_main' and date = '2026-03-01'"),
        }
        insert_raw(warehouse, [LATE_EVENT])
        run_dbt(warehouse, "build")
    return Built(warehouse, before)


def rows(built: Built, sql: str) -> list[dict]:
    return query(built.settings, sql)


# --- the late event -------------------------------------------------------------------------

def test_before_its_enrolment_arrives_an_execution_is_known_but_not_enrolled(marts):
    (x7,) = marts.before_late["x7"]
    assert x7["status"] == "completed"
    assert x7["enrolled_at"] is None and x7["duration_seconds"] is None
    assert x7["ended_at"] == ts("2026-03-01T16:00:00Z")
    (mar1,) = marts.before_late["mar1"]
    assert mar1["new_enrollments"] == 2
    assert mar1["completed"] == 3  # X7 ended that day even though its enrolment is unknown
    assert mar1["total_enrolled"] == 2 and mar1["completion_rate"] == 100


# --- fct_executions -------------------------------------------------------------------------

def test_executions(marts):
    got = {r["execution_id"]: r for r in rows(marts, "select * from marts.fct_executions")}
    assert sorted(got) == ["X1", "X2", "X3", "X4", "X5", "X6", "X7", "X8"]
    # status, enrolled_at, ended_at, duration_seconds, goal_achieved_at,
    # time_to_conversion_seconds, goal_value_usd, steps_completed, steps_failed, credits, cost
    expected = {
        "X1": ("goal_achieved", "2026-03-01T09:00:00Z", "2026-03-01T10:00:00.500Z", "3600.5",
               "2026-03-03T08:00:00Z", "169200", "120.50", 5, 0, 3, "0.0125"),
        "X2": ("completed", "2026-03-01T12:00:00Z", "2026-03-01T13:00:00Z", "3600",
               None, None, None, 4, 0, 1, "0.0025"),
        "X7": ("completed", "2026-03-01T15:00:00Z", "2026-03-01T16:00:00Z", "3600",
               None, None, None, 4, 0, 1, "0.0025"),
        "X3": ("error", "2026-03-02T06:00:00Z", "2026-03-02T06:01:31Z", "91",
               None, None, None, 1, 1, 1, "0.003"),
        "X4": ("error", "2026-03-02T10:00:00Z", "2026-03-02T10:05:00Z", "300",
               None, None, None, 1, 0, 0, "0"),
        "X5": ("exited", "2026-03-03T03:30:00Z", "2026-03-03T04:00:00Z", "1800",
               None, None, None, 2, 0, 1, "0.0025"),
        "X6": ("active", "2026-03-03T09:00:00Z", None, None,
               None, None, None, 1, 0, 0, "0"),
        "X8": ("goal_achieved", "2026-03-03T10:00:00Z", "2026-03-03T10:30:00Z", "1800",
               "2026-03-03T10:30:00Z", "1800", None, 1, 0, 0, "0"),
    }
    for x, (status, enrolled_at, ended_at, duration, goal_at, ttc, value, done, failed,
            credits, cost) in expected.items():
        r = got[x]
        assert r["status"] == status, x
        assert r["enrolled_at"] == ts(enrolled_at), x
        assert r["ended_at"] == (ts(ended_at) if ended_at else None), x
        assert r["duration_seconds"] == (D(duration) if duration else None), x
        assert r["goal_achieved_at"] == (ts(goal_at) if goal_at else None), x
        assert r["time_to_conversion_seconds"] == (D(ttc) if ttc else None), x
        assert r["goal_value_usd"] == (D(value) if value else None), x
        assert (r["steps_completed"], r["steps_failed"]) == (done, failed), x
        assert (r["credits"], r["cost_usd"]) == (D(credits), D(cost)), x
        assert (r["account_id"], r["workflow_id"], r["workflow_version"]) == (
            "acc_a", "wf_main", 1)
    assert got["X1"]["experiment_id"] == "exp_1" and got["X1"]["variant"] == "treatment"
    assert got["X2"]["variant"] == "control" and got["X3"]["experiment_id"] is None
    assert got["X4"]["trigger_type"] == "tag_added" and got["X4"]["enrollment_source"] == "api"
    assert got["X5"]["exit_reason"] == "unsubscribed" and got["X1"]["exit_reason"] is None
    assert got["X8"]["contact_id"] == "k2" and got["X7"]["contact_id"] == "k7"


# --- fct_workflow_daily ---------------------------------------------------------------------

def test_workflow_daily(marts):
    got = rows(marts, "select * from marts.fct_workflow_daily order by workflow_id, date")
    # dense over Mar 1-3 for wf_main; nothing for the workflow nobody enrolled in
    assert [(r["workflow_id"], r["date"]) for r in got] == [
        ("wf_main", MAR1), ("wf_main", MAR2), ("wf_main", MAR3)]
    mar1, mar2, mar3 = got
    counts = ("new_enrollments", "total_enrolled", "currently_active", "completed",
              "goals_achieved", "exited", "failed", "cohort_completed",
              "cohort_goals_achieved", "cohort_exited", "cohort_failed", "cohort_active")
    assert [mar1[c] for c in counts] == [3, 3, 0, 3, 0, 0, 0, 3, 1, 0, 0, 0]
    assert [mar2[c] for c in counts] == [2, 5, 0, 0, 0, 0, 2, 0, 0, 0, 2, 0]
    assert [mar3[c] for c in counts] == [3, 8, 1, 1, 2, 1, 0, 1, 1, 1, 0, 1]
    # cumulative rates as of each day
    assert (mar1["completion_rate"], mar1["conversion_rate"]) == (100, 0)
    assert (mar2["completion_rate"], mar2["conversion_rate"]) == (60, 0)
    assert (mar3["completion_rate"], mar3["conversion_rate"]) == (50, 25)
    # durations of the executions completed that day: 3600.5, 3600, 3600
    assert close(mar1["average_duration_seconds"], D("10800.5") / 3)
    assert mar1["p50_duration_seconds"] == D("3600")
    assert mar1["p95_duration_seconds"] == D("3600.45")
    assert mar2["average_duration_seconds"] is None and mar2["p95_duration_seconds"] is None
    assert mar3["average_duration_seconds"] == mar3["p50_duration_seconds"] == D("1800")
    # costs on the day of the step events
    assert (mar1["credits"], mar1["cost_usd"]) == (D(5), D("0.0175"))
    assert (mar2["credits"], mar2["cost_usd"]) == (D(1), D("0.003"))
    assert (mar3["credits"], mar3["cost_usd"]) == (D(1), D("0.0025"))
    assert all(r["account_id"] == "acc_a" for r in got)


# --- fct_workflow_step_daily ----------------------------------------------------------------

def test_funnel(marts):
    got = {(r["step_id"], r["date"]): r for r in rows(
        marts, "select * from marts.fct_workflow_step_daily where workflow_id = 'wf_main'")}
    assert len(got) == 15  # 5 steps x 3 days, zeros included
    cols = ("entered", "completed", "failed", "in_progress", "converted", "dropped_off",
            "skipped")
    expected = {
        ("t1", MAR1): (3, 3, 0, 0, 0, 0, 0), ("t1", MAR2): (2, 2, 0, 0, 0, 0, 0),
        ("t1", MAR3): (3, 3, 0, 0, 0, 0, 0),
        ("a1", MAR1): (3, 3, 0, 0, 0, 0, 0), ("a1", MAR2): (1, 0, 1, 0, 0, 1, 0),
        ("a1", MAR3): (3, 1, 0, 1, 1, 0, 0),
        ("c1", MAR1): (3, 3, 0, 0, 0, 0, 0), ("c1", MAR2): (0, 0, 0, 0, 0, 0, 0),
        ("c1", MAR3): (1, 0, 0, 0, 0, 1, 0),
        # the branch not taken by X2 and X7 is skipped, not dropped off
        ("a2", MAR1): (1, 1, 0, 0, 0, 0, 2), ("a2", MAR2): (0,) * 7, ("a2", MAR3): (0,) * 7,
        ("g1", MAR1): (3, 3, 0, 0, 0, 0, 0), ("g1", MAR2): (0,) * 7, ("g1", MAR3): (0,) * 7,
    }
    for key, values in expected.items():
        assert tuple(got[key][c] for c in cols) == values, key
    rates = {("t1", MAR1): 100, ("a1", MAR2): 0, ("c1", MAR2): None, ("c1", MAR3): 0,
             ("a2", MAR1): 100, ("a2", MAR2): None, ("g1", MAR3): None}
    for key, rate in rates.items():
        assert got[key]["step_conversion_rate"] == rate, key
    assert close(got[("a1", MAR3)]["step_conversion_rate"], D(100) / 3)
    times = {("t1", MAR1): "1", ("t1", MAR2): "1", ("a1", MAR1): "0.5", ("a1", MAR2): "30",
             ("a1", MAR3): "0.7", ("c1", MAR1): "0.04", ("a2", MAR1): "1.2"}
    for key, seconds in times.items():
        assert got[key]["average_time_in_step_seconds"] == D(seconds), key
    assert got[("c1", MAR3)]["average_time_in_step_seconds"] is None  # entered, not finished
    assert close(got[("g1", MAR1)]["average_time_in_step_seconds"], D("0.04") / 3)
    assert (got[("a1", MAR1)]["credits"], got[("a1", MAR1)]["cost_usd"]) == (D(3), D("0.0075"))
    assert (got[("a2", MAR1)]["credits"], got[("a2", MAR1)]["cost_usd"]) == (D(2), D("0.01"))
    assert got[("a1", MAR2)]["cost_usd"] == D("0.003")
    assert (got[("t1", MAR1)]["credits"], got[("t1", MAR1)]["cost_usd"]) == (0, 0)
    assert [(got[(s, MAR1)]["step_order"], got[(s, MAR1)]["step_type"])
            for s in ("t1", "a1", "c1", "a2", "g1")] == [
        (1, "trigger"), (2, "action"), (3, "condition"), (4, "action"), (5, "goal")]


# --- fct_action_daily and fct_cost_daily ----------------------------------------------------

def test_action_daily(marts):
    got = {(r["action_type"], r["date"]): r for r in rows(
        marts, "select * from marts.fct_action_daily")}
    assert len(got) == 6  # two action types x three days
    email1 = got[("send_email", MAR1)]
    assert (email1["executions"], email1["successes"], email1["failures"]) == (3, 3, 0)
    assert (email1["success_rate"], email1["error_rate"]) == (100, 0)
    assert email1["average_duration_ms"] == 500 and email1["p95_duration_ms"] == 590
    assert (email1["credits"], email1["cost_usd"]) == (D(3), D("0.0075"))
    email2 = got[("send_email", MAR2)]
    assert (email2["executions"], email2["failures"], email2["success_rate"],
            email2["error_rate"]) == (1, 1, 0, 100)
    assert email2["average_duration_ms"] == email2["p95_duration_ms"] == 30000
    email3 = got[("send_email", MAR3)]
    assert (email3["executions"], email3["successes"], email3["p95_duration_ms"]) == (1, 1, 700)
    http1 = got[("http_request", MAR1)]
    assert (http1["executions"], http1["success_rate"], http1["p95_duration_ms"],
            http1["cost_usd"]) == (1, 100, 1200, D("0.01"))
    http2 = got[("http_request", MAR2)]
    assert (http2["executions"], http2["success_rate"], http2["error_rate"],
            http2["average_duration_ms"], http2["credits"]) == (0, None, None, None, 0)


def test_cost_daily(marts):
    got = {(r["action_type"], r["date"]): r for r in rows(
        marts, "select * from marts.fct_cost_daily")}
    assert len(got) == 6  # trigger, condition and goal steps cost nothing: no null action type
    assert [(got[("send_email", d)]["credits"], got[("send_email", d)]["cost_usd"],
             got[("send_email", d)]["executions"], got[("send_email", d)]["cost_per_execution"])
            for d in (MAR1, MAR2, MAR3)] == [
        (D(3), D("0.0075"), 3, D("0.0025")), (D(1), D("0.003"), 1, D("0.003")),
        (D(1), D("0.0025"), 1, D("0.0025"))]
    assert got[("http_request", MAR1)]["cost_per_execution"] == D("0.01")
    assert got[("http_request", MAR3)]["cost_per_execution"] is None
    assert sum(r["cost_usd"] for r in got.values()) == D("0.0230")


# --- fct_errors_daily -----------------------------------------------------------------------

def test_errors_counted_once(marts):
    got = rows(marts, "select * from marts.fct_errors_daily order by step_id nulls last")
    assert [(r["step_id"], r["error_type"], r["date"], r["action_type"], r["errors"],
             r["affected_executions"], r["sample_error_message"]) for r in got] == [
        ("a1", "api_timeout", MAR2, "send_email", 1, 1, "Upstream API did not respond"),
        (None, "configuration_error", MAR2, None, 1, 1, "Sender domain is not verified"),
    ]


# --- fct_executions_hourly ------------------------------------------------------------------

def test_executions_hourly(marts):
    got = {(r["trigger_type"], r["hour"]): r for r in rows(
        marts, "select * from marts.fct_executions_hourly")}
    cols = ("started", "completed", "failed", "exited", "goals_achieved")
    expected = {
        ("form_submission", "2026-03-01T09:00:00Z"): ((1, 0, 0, 0, 0), None),
        ("form_submission", "2026-03-01T10:00:00Z"): ((0, 1, 0, 0, 0), "3600.5"),
        ("form_submission", "2026-03-01T12:00:00Z"): ((1, 0, 0, 0, 0), None),
        ("form_submission", "2026-03-01T13:00:00Z"): ((0, 1, 0, 0, 0), "3600"),
        ("form_submission", "2026-03-01T15:00:00Z"): ((1, 0, 0, 0, 0), None),
        ("form_submission", "2026-03-01T16:00:00Z"): ((0, 1, 0, 0, 0), "3600"),
        ("form_submission", "2026-03-02T06:00:00Z"): ((1, 0, 1, 0, 0), None),
        ("tag_added", "2026-03-02T10:00:00Z"): ((1, 0, 1, 0, 0), None),
        ("form_submission", "2026-03-03T03:00:00Z"): ((1, 0, 0, 0, 0), None),
        ("form_submission", "2026-03-03T04:00:00Z"): ((0, 0, 0, 1, 0), None),
        ("form_submission", "2026-03-03T08:00:00Z"): ((0, 0, 0, 0, 1), None),
        ("form_submission", "2026-03-03T09:00:00Z"): ((1, 0, 0, 0, 0), None),
        ("form_submission", "2026-03-03T10:00:00Z"): ((1, 1, 0, 0, 1), "1800"),
    }
    assert sorted(got) == sorted((t, ts(h)) for t, h in expected)
    for (trigger, hour), (counts, duration) in expected.items():
        r = got[(trigger, ts(hour))]
        assert tuple(r[c] for c in cols) == counts, (trigger, hour)
        assert r["average_duration_seconds"] == (D(duration) if duration else None)
        assert r["total_duration_seconds"] == (D(duration) if duration else 0)
        assert r["timed_completions"] == (1 if duration else 0)


# --- users ----------------------------------------------------------------------------------

def test_user_activity_daily(marts):
    got = rows(marts, "select * from marts.fct_user_activity_daily order by user_id, date")
    assert [(r["user_id"], r["date"], r["sessions"], r["actions"], r["logins"],
             r["active_seconds"]) for r in got] == [
        ("u1", MAR1, 1, 2, 1, D("3.5")),
        ("u1", MAR3, 1, 1, 1, D("0.5")),
        ("u2", MAR2, 1, 1, 0, D("60")),  # 23:30 at -02:00 on Mar 1 is Mar 2 in UTC
        ("u3", MAR2, 2, 2, 1, D("0.9")),
        ("u3", MAR3, 1, 1, 0, D("0.2")),  # session s5 spans midnight: it counts on both days
    ]


def test_retention_cohorts(marts):
    got = rows(marts, """
        select cohort_type, grain, cohort_start, period_number, cohort_size, retained,
               retained_unbounded, retention_rate
        from marts.fct_retention_cohorts
        order by cohort_type, grain, cohort_start, period_number""")
    feb23 = dt.date(2026, 2, 23)  # Mar 1 2026 is a Sunday: its ISO week starts on Feb 23
    expected = [
        # contacts: k1, k2, k7 on Mar 1 (k2 again on Mar 3), k3, k4 on Mar 2, k5, k6 on Mar 3
        ("contact", "day", MAR1, 0, 3, 3, 3), ("contact", "day", MAR1, 1, 3, 0, 1),
        ("contact", "day", MAR1, 2, 3, 1, 1),
        ("contact", "day", MAR2, 0, 2, 2, 2), ("contact", "day", MAR2, 1, 2, 0, 0),
        ("contact", "day", MAR3, 0, 2, 2, 2),
        ("contact", "month", MAR1, 0, 7, 7, 7),
        ("contact", "week", feb23, 0, 3, 3, 3), ("contact", "week", feb23, 1, 3, 1, 1),
        ("contact", "week", MAR2, 0, 4, 4, 4),
        # users: u1 on Mar 1 and 3, u2 on Mar 2, u3 on Mar 2 and 3
        ("user", "day", MAR1, 0, 1, 1, 1), ("user", "day", MAR1, 1, 1, 0, 1),
        ("user", "day", MAR1, 2, 1, 1, 1),
        ("user", "day", MAR2, 0, 2, 2, 2), ("user", "day", MAR2, 1, 2, 1, 1),
        ("user", "month", MAR1, 0, 3, 3, 3),
        ("user", "week", feb23, 0, 1, 1, 1), ("user", "week", feb23, 1, 1, 1, 1),
        ("user", "week", MAR2, 0, 2, 2, 2),
        # workflows: wf_main, enrolments every day
        ("workflow", "day", MAR1, 0, 1, 1, 1), ("workflow", "day", MAR1, 1, 1, 1, 1),
        ("workflow", "day", MAR1, 2, 1, 1, 1),
        ("workflow", "month", MAR1, 0, 1, 1, 1),
        ("workflow", "week", feb23, 0, 1, 1, 1), ("workflow", "week", feb23, 1, 1, 1, 1),
    ]
    assert [tuple(r.values())[:7] for r in got] == expected
    for r in got:
        assert close(r["retention_rate"], D(r["retained"]) * 100 / r["cohort_size"])


# --- dimensions -----------------------------------------------------------------------------

def test_dimensions(marts):
    accounts = rows(marts, "select * from marts.dim_accounts order by account_id")
    assert [(a["account_id"], a["account_name"], a["plan"], a["monthly_budget_usd"],
             a["workflows"], a["users"], a["is_inferred"]) for a in accounts] == [
        ("acc_a", "Acme", "pro", D("100"), 2, 3, False),
        ("acc_b", "Globex", "free", D("50"), 0, 0, False)]
    workflows = {w["workflow_id"]: w for w in rows(marts, "select * from marts.dim_workflows")}
    main, idle = workflows["wf_main"], workflows["wf_idle"]
    assert (main["total_enrollments"], main["completion_rate"], main["conversion_rate"]) == (
        8, 50, 25)
    assert main["first_enrolled_at"] == ts("2026-03-01T09:00:00Z")
    assert main["last_enrolled_at"] == ts("2026-03-03T10:00:00Z")
    assert main["latest_version"] == 1 and main["is_inferred"] is False
    # nobody enrolled: the rates have no denominator, they are null (not 0)
    assert (idle["total_enrollments"], idle["completion_rate"], idle["conversion_rate"],
            idle["first_enrolled_at"]) == (0, None, None, None)
    steps = rows(marts, "select * from marts.dim_workflow_steps "
                        "order by workflow_id, workflow_version, step_order")
    assert [(s["workflow_id"], s["step_id"], s["step_type"], s["action_type"],
             s["is_last_step"]) for s in steps] == [
        ("wf_idle", "t1", "trigger", None, True),
        ("wf_main", "t1", "trigger", None, False),
        ("wf_main", "a1", "action", "send_email", False),
        ("wf_main", "c1", "condition", None, False),
        ("wf_main", "a2", "action", "http_request", False),
        ("wf_main", "g1", "goal", None, True)]


def test_marts_live_in_schema_marts(marts):
    tables = {r["table_name"] for r in rows(marts, """
        select table_name from information_schema.tables where table_schema = 'marts'""")}
    assert tables == {
        "dim_accounts", "dim_workflows", "dim_workflow_steps", "fct_executions",
        "fct_workflow_daily", "fct_workflow_step_daily", "fct_action_daily",
        "fct_executions_hourly", "fct_errors_daily", "fct_cost_daily",
        "fct_retention_cohorts", "fct_user_activity_daily", "fct_monthly_summary",
        "fct_execution_outcomes"}
