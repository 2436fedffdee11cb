"""The HTTP API over real HTTP, on the hand-built scenario of test_marts_scenario (exact numbers)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from api.keys import create_key, revoke_key
from tests.api_server import client, serve
from tests.helpers import execute, query, run_dbt
from tests.test_marts_scenario import EVENTS, LATE_EVENT, insert_raw, insert_reference

pytestmark = pytest.mark.db

WF = "/api/v1/workflows/wf_main/analytics"
MAR = {"start_date": "2026-03-01", "end_date": "2026-03-03"}


@pytest.fixture(scope="module")
def api(warehouse, tmp_path_factory):
    insert_reference(warehouse)
    insert_raw(warehouse, [*EVENTS, LATE_EVENT])
    # A second account with a workflow of its own: never visible to acc_a's keys.
    execute(warehouse, "insert into raw.workflows values ('wf_other', 'acc_b', 'Other', null,"
                       " '2025-06-01', 'active')")
    insert_raw(warehouse, [{**EVENTS[0], "event_id": "b_1", "account_id": "acc_b",
                            "workflow_id": "wf_other", "execution_id": "B1"}])
    run_dbt(warehouse, "run")
    settings = warehouse.model_copy(update={"home": tmp_path_factory.mktemp("api_home"),
                                            "api_stream_poll_seconds": 0.3,
                                            "api_stream_min_gap_seconds": 0.5})
    with serve(settings) as base:
        yield base, settings


def new_key(settings, account="acc_a", role="viewer", scopes=("read",)) -> str:
    return create_key(settings.warehouse_url, account, role, list(scopes))[1]


@pytest.fixture()
def viewer(api):
    base, settings = api
    with client(base, new_key(settings)) as http:
        yield http


@pytest.fixture()
def admin(api):
    base, settings = api
    with client(base, new_key(settings, role="admin", scopes=("read", "ingest"))) as http:
        yield http


# --- health ---------------------------------------------------------------------------------

def test_health_and_readiness(api):
    with client(api[0]) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        ready = http.get("/readyz")
        assert ready.status_code == 200 and ready.json()["warehouse"] == "ok"
        assert "/api/v1/workflows/{workflow_id}/analytics" in http.get("/openapi.json").json()["paths"]


# --- workflow analytics ---------------------------------------------------------------------

def test_summary_and_daily_trends(viewer):
    body = viewer.get(WF, params=MAR).json()
    assert body["workflow_id"] == "wf_main"
    assert body["period"] == {"start_date": "2026-03-01", "end_date": "2026-03-03"}
    assert body["summary"] == {
        "total_enrolled": 8, "currently_active": 1, "completed": 4, "completion_rate": 50.0,
        "goals_achieved": 2, "conversion_rate": 25.0,
        # durations of X1, X2, X7, X8: (3600.5 + 3600 + 3600 + 1800) / 4 s
        "average_duration_hours": round(12600.5 / 4 / 3600, 4)}
    assert [(t["date"], t["new_enrollments"], t["completions"], t["conversions"])
            for t in body["trends"]] == [("2026-03-01", 3, 3, 0), ("2026-03-02", 2, 0, 0),
                                         ("2026-03-03", 3, 1, 2)]
    assert set(body) == {"workflow_id", "period", "summary", "trends"}  # the seed's shape
    assert set(body["trends"][0]) == {"date", "new_enrollments", "completions", "conversions"}


def test_time_zone_moves_enrolments_to_local_days(viewer):
    day = {"start_date": "2026-03-02", "end_date": "2026-03-02"}
    utc = viewer.get(WF, params=day).json()["summary"]
    # X5 enrolled at 22:30 in New York on Mar 2: Mar 3 in UTC, Mar 2 locally
    new_york = viewer.get(WF, params={**day, "tz": "America/New_York"}).json()
    assert utc["total_enrolled"] == 2 and new_york["summary"]["total_enrolled"] == 3
    assert [(t["date"], t["new_enrollments"]) for t in new_york["trends"]] == [("2026-03-02", 3)]


def test_compare_with_previous_period(viewer):
    body = viewer.get(WF, params={"start_date": "2026-03-02", "end_date": "2026-03-03",
                                  "compare": "previous_period"}).json()
    comparison = body["comparison"]
    assert comparison["period"] == {"start_date": "2026-02-28", "end_date": "2026-03-01"}
    assert comparison["summary"]["total_enrolled"] == 3 and body["summary"]["total_enrolled"] == 5
    assert comparison["deltas"]["total_enrolled"] == 2
    assert comparison["deltas"]["goals_achieved"] == 1 - 1


def test_hourly_and_weekly_granularity(viewer):
    hourly = viewer.get(WF, params={**MAR, "granularity": "hourly"}).json()["trends"]
    assert sum(t["new_enrollments"] for t in hourly) == 8
    assert hourly[0]["date"].startswith("2026-03-01T09:00")
    weekly = viewer.get(WF, params={**MAR, "granularity": "weekly"}).json()["trends"]
    # Mar 1 2026 is a Sunday: it belongs to the week of Feb 23
    assert [(t["date"], t["new_enrollments"]) for t in weekly] == [("2026-02-23", 3),
                                                                  ("2026-03-02", 5)]


def test_funnel(viewer):
    body = viewer.get(f"{WF}/funnel", params=MAR).json()
    steps = {s["step_id"]: s for s in body["funnel_steps"]}
    assert [s["step_id"] for s in body["funnel_steps"]] == ["t1", "a1", "c1", "a2", "g1"]
    assert [(s["entered"], s["completed"], s["dropped_off"]) for s in body["funnel_steps"]] == [
        (8, 8, 0), (7, 4, 1), (4, 3, 1), (1, 1, 0), (3, 3, 0)]
    assert steps["a1"]["conversion_rate"] == 57.14
    assert steps["a1"]["average_time_seconds"] == 6.44  # 400, 600, 500, 700 ms and a 30 s failure
    assert steps["c1"]["step_name"] == "If email opened" and steps["c1"]["step_order"] == 3
    assert body["bottleneck_step"] == "c1"  # 1 of 4 lost, against 1 of 7 at a1
    assert body["overall_conversion"] == 25.0
    assert viewer.get(f"{WF}/funnel", params={**MAR, "version": 2}).json()["funnel_steps"] == []


def test_actions(viewer):
    body = viewer.get(f"{WF}/actions", params=MAR).json()
    assert body["actions"] == [
        {"action_id": "a1", "action_type": "send_email", "action_name": "Send welcome email",
         "executions": 5, "successes": 4, "failures": 1, "success_rate": 80.0,
         "average_duration_ms": 6440.0},
        {"action_id": "a2", "action_type": "http_request", "action_name": "Sync contact to CRM",
         "executions": 1, "successes": 1, "failures": 0, "success_rate": 100.0,
         "average_duration_ms": 1200.0}]


# --- exports --------------------------------------------------------------------------------

def test_csv_export_parses_back(viewer):
    response = viewer.get(f"{WF}/export", params={**MAR, "format": "csv"})
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="workflow-analytics-wf_main-')
    assert disposition.endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["execution_id"] for r in rows] == ["X1", "X2", "X7", "X3", "X4", "X5", "X6", "X8"]
    assert rows[0]["status"] == "goal_achieved" and rows[0]["goal_value_usd"] == "120.5"
    assert rows[6]["ended_at"] == ""  # X6 is still active


def test_json_export(viewer):
    response = viewer.get(f"{WF}/export", params={**MAR, "format": "json"})
    body = response.json()
    assert response.headers["content-disposition"].endswith('.json"')
    assert body["summary"]["total_enrolled"] == 8 and body["funnel"]["bottleneck_step"] == "c1"


def test_pdf_export_has_summary_funnel_and_trend(viewer):
    from pypdf import PdfReader

    response = viewer.get(f"{WF}/export", params={**MAR, "format": "pdf"})
    assert response.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Workflow analytics: Welcome series" in text
    assert "Completion rate (%)" in text and "50.0" in text
    assert "7 entered, 4 completed" in text  # the send_email bar of the funnel
    assert "Bottleneck step: c1" in text
    assert "Trend: new enrolments per day" in text and "2026-03-01 .. 2026-03-03" in text


# --- authorisation --------------------------------------------------------------------------

def test_no_key_bad_key_revoked_key(api):
    base, settings = api
    with client(base) as anonymous:
        response = anonymous.get(WF, params=MAR)
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    with client(base, "wfa_nope_nothing") as bad:
        assert bad.get(WF, params=MAR).status_code == 401
    key = new_key(settings)
    with client(base, key) as http:
        assert http.get(WF, params=MAR).status_code == 200
        assert revoke_key(settings.warehouse_url, key)
        assert http.get(WF, params=MAR).status_code == 401


def test_another_accounts_workflow_is_not_found(api, viewer):
    other = viewer.get("/api/v1/workflows/wf_other/analytics", params=MAR)
    unknown = viewer.get("/api/v1/workflows/wf_missing/analytics", params=MAR)
    assert other.status_code == unknown.status_code == 404
    assert other.json()["error"]["message"] == "workflow 'wf_other' not found"
    with client(api[0], new_key(api[1], account="acc_b")) as owner:
        assert owner.get("/api/v1/workflows/wf_other/analytics", params=MAR).json()[
            "summary"]["total_enrolled"] == 1


def test_viewer_cannot_use_admin_endpoints(viewer, admin):
    assert viewer.put("/api/v1/analytics/costs/budgets",
                      json={"monthly_budget_usd": 10}).status_code == 403
    assert viewer.post(f"{WF}/refresh").status_code == 403
    assert viewer.post("/api/v1/events", json=[]).status_code == 403  # no ingest scope
    saved = admin.put("/api/v1/analytics/costs/budgets", json={"monthly_budget_usd": 250.5})
    assert saved.json()["monthly_budget_usd"] == 250.5


def test_reads_are_audited(api):
    base, settings = api
    key = new_key(settings)
    with client(base, key) as http:
        http.get(f"{WF}/funnel", params=MAR)
        http.get(f"{WF}/export", params={**MAR, "format": "json"})
    key_id = key.split("_")[1]
    rows = query(settings, "select account_id, endpoint, parameters from platform.audit_log"
                           " where key_id = %s order by audit_id", (key_id,))
    assert [(r["account_id"], r["endpoint"]) for r in rows] == [
        ("acc_a", f"{WF}/funnel"), ("acc_a", f"{WF}/export")]
    assert rows[1]["parameters"] == {**MAR, "format": "json"}
    stored = query(settings, "select key_hash from platform.api_keys where key_id = %s", (key_id,))
    assert stored and key not in json.dumps(stored)


def test_rate_limit(api):
    base, settings = api
    with client(base, new_key(settings)) as http:
        codes = [http.get("/api/v1/jobs/none").status_code for _ in range(60)]
        assert set(codes) == {404}
        limited = http.get("/api/v1/jobs/none")
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.json()["error"]["code"] == "rate_limited"


# --- bad parameters -------------------------------------------------------------------------

@pytest.mark.parametrize("params, fragment", [
    ({"start_date": "2026-03-03", "end_date": "2026-03-01"}, "is after"),
    ({"start_date": "2023-01-01", "end_date": "2026-03-01"}, "at most 2 years"),
    ({"start_date": "2026-3-1", "end_date": "2026-03-01"}, "YYYY-MM-DD"),
    ({"start_date": "2026-02-30", "end_date": "2026-03-01"}, "not a valid date"),
    ({"end_date": "2026-03-01"}, "start_date"),
    ({**MAR, "granularity": "monthly"}, "granularity"),
    ({**MAR, "tz": "Mars/Olympus"}, "unknown time zone"),
    ({**MAR, "compare": "last_year"}, "compare"),
])
def test_bad_parameters_answer_400_in_one_shape(viewer, params, fragment):
    response = viewer.get(WF, params=params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_request" and fragment in error["message"]


def test_unknown_export_format(viewer):
    response = viewer.get(f"{WF}/export", params={**MAR, "format": "xlsx"})
    assert response.status_code == 400 and "format" in response.json()["error"]["message"]


def test_daily_mart_and_executions_agree_on_the_summary(viewer):
    """UTC days are answered from the daily mart, other zones from the executions: the same
    figures when the zone is UTC-equivalent."""
    for first, last in (("2026-03-01", "2026-03-01"), ("2026-03-02", "2026-03-03"),
                        ("2026-03-01", "2026-03-03")):
        params = {"start_date": first, "end_date": last}
        utc = viewer.get(WF, params=params).json()["summary"]
        zoned = viewer.get(WF, params={**params, "tz": "Etc/GMT"}).json()["summary"]
        assert utc == zoned, (first, last)
