"""The HTTP API over real HTTP, on the hand-built scenario of test_marts_scenario (exact numbers)."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import math
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from api.infra.keys import create_key, revoke_key
from api.queries import pending
from api.routes import workflows as workflow_routes
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
    # the seed's shape, plus `freshness`; no incremental refresh recorded: the marts alone
    assert set(body) == {"workflow_id", "period", "summary", "trends", "freshness"}
    assert body["freshness"] == {"as_of": None, "events_watermark": None,
                                 "marts_refreshed_at": None, "pending_events": 0,
                                 "pending_events_capped": False}
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


def test_a_budget_the_table_cannot_hold_exactly_is_refused(api, admin):
    """platform.budgets keeps numeric(18, 6) dollars and numeric(9, 4) percents."""
    put = functools.partial(admin.put, "/api/v1/analytics/costs/budgets")
    for refused in ({"monthly_budget_usd": 10**12}, {"monthly_budget_usd": "0.0000001"},
                    {"monthly_budget_usd": -1},
                    {"monthly_budget_usd": 1, "alert_threshold_pct": "0.00001"},
                    {"monthly_budget_usd": 1, "alert_threshold_pct": 100.5}):
        assert put(json=refused).status_code == 400, refused
    assert put(json={"monthly_budget_usd": "999999999999.999999",
                     "alert_threshold_pct": "0.0001"}).status_code == 200
    stored = query(api[1], "select monthly_budget_usd::text, alert_threshold_pct::text"
                           " from platform.budgets where account_id = 'acc_a'")
    assert stored == [{"monthly_budget_usd": "999999999999.999999", "alert_threshold_pct": "0.0001"}]


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
    """60 a minute per key, shared by every worker process (platform.rate_limits): a burst of the
    minute's 60, then one more per elapsed second."""
    base, settings = api
    with client(base, new_key(settings)) as http:
        started = time.monotonic()
        codes = [http.get("/api/v1/jobs/none").status_code for _ in range(60)]
        assert set(codes) == {404}
        allowed = 60
        while (limited := http.get("/api/v1/jobs/none")).status_code == 404:
            allowed += 1
            assert allowed < 200
        elapsed = time.monotonic() - started
        assert allowed <= 60 + math.ceil(elapsed)
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "rate_limited"
        wait = int(limited.headers["retry-after"])
        assert 1 <= wait <= 2
        assert http.get("/api/v1/jobs/none").status_code == 429  # refused requests do not count
        time.sleep(wait)
        assert http.get("/api/v1/jobs/none").status_code == 404
        # a refused read is not audited
        key_id = http.headers["authorization"].split("_")[1]
        audited = query(settings, "select count(*) as n from platform.audit_log"
                                  " where key_id = %s", (key_id,))[0]["n"]
        assert audited == allowed + 1


def test_rate_limit_is_shared_by_every_server_of_the_warehouse(api):
    """Two servers (as `wfa serve --workers 2` runs) count one key's requests together."""
    base, settings = api
    key = new_key(settings)
    with serve(settings) as other, client(base, key) as one, client(other, key) as two:
        codes = [(one if i % 2 else two).get("/api/v1/jobs/none").status_code
                 for i in range(60)]
        assert set(codes) == {404}
        assert {one.get("/api/v1/jobs/none").status_code,
                two.get("/api/v1/jobs/none").status_code} == {429}


# --- answers kept in memory -----------------------------------------------------------------

def _enrolled_in_daily_mart(settings, first: str, last: str = "2026-03-03") -> int:
    """wf_main's enrolments over [first, last], read from the daily mart: the figure a fresh
    summary gives."""
    return query(settings, "select sum(new_enrollments) as n from marts.fct_workflow_daily"
                           " where workflow_id = 'wf_main' and date between %s and %s",
                 (first, last))[0]["n"]


def test_summary_and_funnel_are_kept_until_the_marts_change(api, viewer):
    base, settings = api
    # the dbt run of the fixture moved the marts generation (on-run-end hook)
    assert query(settings, "select generation from platform.marts_generation")[0]["generation"] > 0
    summary = viewer.get(WF, params=MAR).json()["summary"]
    funnel = viewer.get(f"{WF}/funnel", params=MAR).json()
    row = "workflow_id = 'wf_main' and date = '2026-03-01'"
    execute(settings, f"update marts.fct_workflow_daily set new_enrollments = new_enrollments + 100,"
                      f" cohort_goals_achieved = cohort_goals_achieved + 100 where {row}")
    try:
        # a change that does not move the generation is not seen: the answers come from memory
        assert viewer.get(WF, params=MAR).json()["summary"] == summary
        assert viewer.get(f"{WF}/funnel", params=MAR).json() == funnel
        # ... but parameters not asked before are answered afresh
        fresh = viewer.get(WF, params={**MAR, "start_date": "2026-02-27"}).json()["summary"]
        assert fresh["total_enrolled"] == _enrolled_in_daily_mart(settings, "2026-02-27") >= \
            summary["total_enrolled"] + 100
        execute(settings, "update platform.marts_generation set generation = generation + 1")
        assert viewer.get(WF, params=MAR).json()["summary"]["total_enrolled"] == \
            summary["total_enrolled"] + 100
        assert viewer.get(f"{WF}/funnel", params=MAR).json()["overall_conversion"] != \
            funnel["overall_conversion"]
    finally:
        execute(settings, f"update marts.fct_workflow_daily set new_enrollments = new_enrollments"
                          f" - 100, cohort_goals_achieved = cohort_goals_achieved - 100 where {row};"
                          " update platform.marts_generation set generation = generation + 1")
    assert viewer.get(WF, params=MAR).json()["summary"] == summary


def test_a_kept_answer_is_the_same_audited_once_per_request(api, monkeypatch):
    """The second request is answered from memory before FastAPI's routing (api/infra/fast_path.py):
    the same bytes, and one audit row per request, as for any read."""
    base, settings = api
    key = new_key(settings)
    params = {**MAR, "start_date": "2026-02-26"}

    def not_reached(*args, **kwargs):
        raise AssertionError("a kept answer went through FastAPI's routing")

    with client(base, key) as http:
        first = http.get(WF, params=params)
        funnels = [http.get(f"{WF}/funnel", params=params)]
        monkeypatch.setattr(workflow_routes, "cached", not_reached)
        second = http.get(WF, params=params)
        funnels.append(http.get(f"{WF}/funnel", params=params))
    assert first.status_code == second.status_code == 200
    assert first.content == second.content and funnels[0].content == funnels[1].content
    assert first.headers["content-type"] == second.headers["content-type"] == "application/json"
    assert json.loads(second.content)["summary"]["total_enrolled"] == \
        _enrolled_in_daily_mart(settings, "2026-02-26")
    rows = query(settings, "select endpoint, parameters from platform.audit_log where key_id = %s"
                           " order by audit_id", (key.split("_")[1],))
    assert [(r["endpoint"], r["parameters"]) for r in rows] == \
        [(WF, params), (f"{WF}/funnel", params)] * 2


def test_requests_that_miss_together_wait_for_one_computation(api, monkeypatch):
    base, settings = api
    key = new_key(settings)
    built = []
    original = workflow_routes.analytics_body

    def slow_body(*args, **kwargs):
        built.append(1)
        time.sleep(0.3)  # long enough for every request to arrive while it runs
        return original(*args, **kwargs)

    monkeypatch.setattr(workflow_routes, "analytics_body", slow_body)
    params = {**MAR, "start_date": "2026-02-25"}

    def read(_) -> bytes:
        with client(base, key) as http:
            response = http.get(WF, params=params)
            assert response.status_code == 200
            return response.content

    with ThreadPoolExecutor(max_workers=10) as pool:
        bodies = set(pool.map(read, range(10)))
    assert len(bodies) == 1 and len(built) == 1


def test_many_concurrent_reads_on_a_small_pool_all_answer(api):
    """More requests in flight than FastAPI has threads, on two connections: a request holds a
    connection only while its endpoint runs, so none waits for one held by a request that waits
    for a thread."""
    base, settings = api
    small = settings.model_copy(update={"api_pool_max": 2, "api_rate_limit_per_minute": 10**6})
    key = new_key(settings)

    def read(day: int) -> int:
        # distinct parameters: each is computed, none is answered from memory
        params = {"start_date": "2026-01-01", "end_date": f"2026-03-{day % 28 + 1:02d}",
                  "granularity": ("daily", "weekly", "hourly")[day % 3]}
        with client(server, key) as http:
            return http.get(WF, params=params).status_code

    with serve(small) as server, ThreadPoolExecutor(max_workers=80) as pool:
        assert set(pool.map(read, range(80))) == {200}


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


# --- events received since the last refresh of the marts ------------------------------------

WATERMARK = dt.datetime(2026, 3, 5, tzinfo=dt.timezone.utc)  # LATE_EVENT, the newest in the marts


def _raw(event_id: str, event_type: str, occurred_at: str, execution_id: str, received_at,
         account="acc_a", workflow="wf_main", step_id=None, contact_id=None, **properties) -> dict:
    return {"event_id": event_id, "event_type": event_type, "occurred_at": occurred_at,
            "received_at": received_at, "account_id": account, "workflow_id": workflow,
            "workflow_version": 1, "execution_id": execution_id, "contact_id": contact_id,
            "step_id": step_id, "properties": properties}


def _after(minutes: int) -> dt.datetime:
    return WATERMARK + dt.timedelta(minutes=minutes)


PENDING_EVENTS = [
    # P1: a new enrolment on Mar 2, and a paid step
    _raw("p_1", "execution.enrolled", "2026-03-02T12:00:00Z", "P1", _after(1), contact_id="k10"),
    _raw("p_2", "step.completed", "2026-03-02T12:01:00Z", "P1", _after(2), step_id="a1",
         duration_ms=500, credits=1, cost_usd=0.0025),
    # X6 (active in the marts, enrolled Mar 3 09:00) completes after 2 h, and pays its step
    _raw("p_3", "execution.completed", "2026-03-03T11:00:00Z", "X6", _after(3)),
    _raw("p_4", "step.completed", "2026-03-03T09:01:00.500Z", "X6", _after(4), step_id="a1",
         duration_ms=500, credits=1, cost_usd=0.0025),
    # X2 (completed) reaches the goal: one more goal, not one more completion
    _raw("p_5", "goal.achieved", "2026-03-03T12:00:00Z", "X2", _after(5), goal_id="demo"),
    # X8 (goal achieved) completes afterwards: nothing changes
    _raw("p_6", "execution.completed", "2026-03-03T11:00:00Z", "X8", _after(6)),
    # P2: enrolled on Mar 4, after the range
    _raw("p_7", "execution.enrolled", "2026-03-04T08:00:00Z", "P2", _after(7), contact_id="k11"),
    # another account's
    _raw("p_8", "execution.enrolled", "2026-03-02T12:00:00Z", "B2", _after(8), account="acc_b",
         workflow="wf_other", contact_id="k12"),
    # received at the watermark: the marts have it by definition, it is not added again
    _raw("q_1", "execution.enrolled", "2026-03-02T15:00:00Z", "Q1", WATERMARK, contact_id="k13"),
]


def _first_stream_update(base: str, key: str) -> dict:
    with httpx.stream("GET", f"{base}{WF}/stream", headers={"Authorization": f"Bearer {key}"},
                      timeout=20) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                return json.loads(line[len("data: "):])
    raise AssertionError("the stream sent no data")


def test_summary_adds_the_events_received_since_the_refresh(api, viewer, monkeypatch):
    base, settings = api
    assert query(settings, "select max(received_at) as t from raw.events")[0]["t"] == WATERMARK
    marts_only = viewer.get(WF, params=MAR).json()["summary"]
    insert_raw(settings, PENDING_EVENTS)
    try:
        # no refresh_state row: the marts were not built by the incremental refresh, so nothing
        # is known to be missing from them and nothing is added
        body = viewer.get(WF, params=MAR).json()
        assert body["summary"] == marts_only and body["freshness"]["as_of"] is None

        execute(settings, "insert into platform.refresh_state (pipeline, events_watermark,"
                          " window_start, window_end) values ('marts', %s, '2026-03-01',"
                          " '2026-03-05')", (WATERMARK,))
        body = viewer.get(WF, params=MAR).json()
        assert body["summary"] == {
            "total_enrolled": 8 + 1,        # P1 (P2 is after the range, Q1 at the watermark)
            "currently_active": 1 + 1 - 1,  # P1 active, X6 completed
            "completed": 4 + 1,             # X6; X2's goal and X8's completion change nothing
            "completion_rate": 55.56,
            "goals_achieved": 2 + 1,        # X2
            "conversion_rate": 33.33,
            # X6 took 2 h and ended on Mar 3: (12600.5 + 7200) / 5 s
            "average_duration_hours": round(19800.5 / 5 / 3600, 4)}
        freshness = body["freshness"]
        assert freshness["events_watermark"] == "2026-03-05T00:00:00+00:00"
        assert freshness["marts_refreshed_at"] is not None
        assert (freshness["pending_events"], freshness["pending_events_capped"]) == (7, False)
        assert freshness["as_of"] > freshness["events_watermark"]
        # the executions' figures and the daily mart's agree on the additions too
        zoned = viewer.get(WF, params={**MAR, "tz": "Etc/GMT"}).json()["summary"]
        assert zoned == body["summary"]
        # both periods of a comparison are adjusted: Mar 2-3 gains P1; X2's goal (on Mar 3)
        # counts in its cohort, Feb 28 - Mar 1
        compared = viewer.get(WF, params={"start_date": "2026-03-02", "end_date": "2026-03-03",
                                          "compare": "previous_period"}).json()
        assert compared["summary"]["total_enrolled"] == 5 + 1
        assert compared["comparison"]["summary"]["total_enrolled"] == 3
        assert compared["comparison"]["summary"]["goals_achieved"] == 1 + 1

        account = viewer.get("/api/v1/analytics/executions/summary",
                             params={"from": "2026-03-01", "to": "2026-03-03"}).json()
        assert (account["executions"], account["succeeded"], account["failed"],
                account["active"]) == (9, 5, 2, 1)
        assert (account["success_rate"], account["failure_rate"]) == (55.56, 22.22)
        assert account["credits"] == 7 + 2 and round(account["cost_usd"], 6) == 0.028
        # ended executions enrolled in the range: X1 3600.5, X2 3600, X7 3600, X8 1800, X3 91,
        # X4 300, X5 1800 s in the marts, and now X6 7200 s
        assert account["average_duration_seconds"] == 21991.5 / 8
        assert account["freshness"]["pending_events"] == 7  # acc_a's, p_8 is acc_b's

        # the stream opens with the same additions, over all time
        first = _first_stream_update(base, new_key(settings))
        assert first["changes"] == {"total_enrolled": 8 + 2, "currently_active": 1 + 2 - 1,
                                    "completed": 4 + 1, "goals_achieved": 2 + 1, "failed": 2,
                                    "exited": 1}

        # bounded: only the oldest MAX_PENDING_EVENTS pending events are read (p_1, p_2: P1)
        monkeypatch.setattr(pending, "MAX_PENDING_EVENTS", 2)
        body = viewer.get(WF, params=MAR).json()
        assert (body["summary"]["total_enrolled"], body["summary"]["currently_active"],
                body["summary"]["completed"], body["summary"]["goals_achieved"]) == (9, 2, 4, 2)
        assert body["freshness"]["pending_events"] == 2
        assert body["freshness"]["pending_events_capped"] is True
        assert body["freshness"]["as_of"] == _after(2).isoformat()
    finally:
        execute(settings, "delete from raw.events where event_id = any(%s)",
                ([e["event_id"] for e in PENDING_EVENTS],))
        execute(settings, "delete from platform.refresh_state")


# --- parameter edges: 400 in the one shape, never a 500 --------------------------------------

FAR = "must be between 1900-01-01 and 2999-12-31"


@pytest.mark.parametrize("path, params, message", [
    # the day after the last would overflow
    (WF, {"start_date": "2026-03-01", "end_date": "9999-12-31"},
     f"end_date {FAR}, got 9999-12-31"),
    (f"{WF}/export", {"start_date": "9999-12-31", "end_date": "9999-12-31", "format": "csv"},
     f"start_date {FAR}, got 9999-12-31"),
    # the period before would start before year 1
    (WF, {"start_date": "0001-01-01", "end_date": "0001-01-31", "compare": "previous_period"},
     f"start_date {FAR}, got 0001-01-01"),
    ("/api/v1/analytics/executions/errors", {"from": "0001-01-01", "to": "0001-01-02"},
     f"from {FAR}, got 0001-01-01"),
    # a zone Python knows (the host's own) but PostgreSQL does not
    (WF, {**MAR, "tz": "localtime"},
     "unknown time zone: 'localtime'; give an IANA name such as Europe/Paris"),
    (f"{WF}/export", {**MAR, "tz": "localtime", "format": "csv"},
     "unknown time zone: 'localtime'; give an IANA name such as Europe/Paris"),
    (WF, {**MAR, "tz": "/etc/localtime"},
     "unknown time zone: '/etc/localtime'; give an IANA name such as Europe/Paris"),
])
def test_parameter_edges_answer_400(viewer, path, params, message):
    response = viewer.get(path, params=params)
    assert response.status_code == 400
    assert response.json()["error"] == {"code": "bad_request", "message": message, "details": None}


@pytest.mark.parametrize("url", [
    "/api/v1/workflows/wf%00main/analytics?start_date=2026-03-01&end_date=2026-03-03",
    "/api/v1/workflows/wf_main/analytics?start_date=2026-03-01&end_date=2026-03-03&tz=Europe/Paris%00",
    # a parameter no route reads still goes into the audit row
    "/api/v1/workflows/wf_main/analytics/actions?start_date=2026-03-01&end_date=2026-03-03&x=%00",
    "/api/v1/jobs/j%00b",
    "/api/v1/experiments/%00/results",
    "/healthz?probe=%00",
])
def test_a_nul_character_in_a_path_or_query_answers_400(viewer, url):
    response = viewer.get(url)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "bad_request", "message": "the path or query contains a NUL character (%00)",
        "details": None}


def test_the_edges_of_the_accepted_window_and_zones_answer_200(viewer):
    edge = viewer.get(WF, params={"start_date": "1900-01-01", "end_date": "1900-01-31",
                                  "compare": "previous_period", "tz": "Pacific/Kiritimati"})
    assert edge.status_code == 200
    assert edge.json()["comparison"]["period"] == {"start_date": "1899-12-01",
                                                   "end_date": "1899-12-31"}
    late = viewer.get(WF, params={"start_date": "2999-12-31", "end_date": "2999-12-31",
                                  "tz": "Pacific/Pago_Pago", "granularity": "hourly"})
    assert late.status_code == 200 and late.json()["summary"]["total_enrolled"] == 0
    assert viewer.get(WF, params={**MAR, "tz": "Etc/GMT+12"}).status_code == 200
