"""Ingestion over HTTP, the live stream, platform endpoints, refresh jobs, and the BI role."""

from __future__ import annotations

import json
import time

import httpx
import psycopg
import pytest

from api.infra.live import COMMIT_LAG
from tests.api_server import client
from tests.helpers import execute, query
from tests.processes import daemon_process
from tests.test_api import MAR, WF, api, new_key  # noqa: F401 - the module's own server

pytestmark = pytest.mark.db

P = {"from": "2026-03-01", "to": "2026-03-03"}


def enrolment(event_id: str, execution_id: str, account="acc_a", workflow="wf_main") -> dict:
    return {"event_id": event_id, "event_type": "execution.enrolled",
            "occurred_at": "2026-03-03T12:00:00+01:00", "account_id": account,
            "workflow_id": workflow, "workflow_version": 1, "execution_id": execution_id,
            "contact_id": "k9", "properties": {"enrollment_source": "api"}}


@pytest.fixture(scope="module")
def ingestor(api):
    base, settings = api
    with client(base, new_key(settings, scopes=("ingest", "read"))) as http:
        yield http


# --- ingestion ------------------------------------------------------------------------------

def test_ingest_reports_each_event(api, ingestor):
    body = [
        enrolment("api_1", "N1"),
        {"event_id": "ev_001", "event_type": "execution.enrolled",  # stored by the scenario
         "occurred_at": "2026-03-01T09:00:00Z", "account_id": "acc_a", "workflow_id": "wf_main",
         "workflow_version": 1, "execution_id": "X1", "contact_id": "k1"},
        enrolment("api_1", "N1"),                                 # repeated in this body
        {**enrolment("api_2", "N2"), "event_type": "execution.teleported"},
        enrolment("api_3", "N3", account="acc_b", workflow="wf_other"),  # not this key's account
        {**enrolment("api_4", "N4"), "occurred_at": "yesterday"},
    ]
    response = ingestor.post("/api/v1/events", json=body)
    result = response.json()
    assert response.status_code == 200
    assert (result["received"], result["accepted"], result["duplicates"], result["rejected"]) == (
        6, 1, 2, 3)
    assert [r["status"] for r in result["results"]] == [
        "accepted", "duplicate", "duplicate", "rejected", "rejected", "rejected"]
    reasons = [r["reason"] for r in result["results"]]
    assert reasons[1] == "event_id already stored"
    assert reasons[3].startswith("unknown event_type")
    assert "account" in reasons[4] and reasons[5].startswith("bad timestamp in occurred_at")
    settings = api[1]
    stored = query(settings, "select occurred_at at time zone 'UTC' as t from raw.events"
                             " where event_id = 'api_1'")
    assert str(stored[0]["t"]) == "2026-03-03 11:00:00"
    kept = query(settings, "select line_number, reason from raw.events_rejected"
                           " where source_file like 'api:%%' order by line_number")
    assert [r["line_number"] for r in kept] == [4, 5, 6]
    # sent again: nothing new, nothing counted twice
    again = ingestor.post("/api/v1/events", json=body[:1]).json()
    assert (again["accepted"], again["duplicates"]) == (0, 1)
    assert query(settings, "select count(*) as n from raw.events where event_id like 'api_%%'"
                 )[0]["n"] == 1


def test_ingest_ndjson_and_limits(api, ingestor):
    lines = "\n".join([json.dumps(enrolment("nd_1", "N5")), "{not json", ""])
    result = ingestor.post("/api/v1/events", content=lines,
                           headers={"Content-Type": "application/x-ndjson"}).json()
    assert [r["status"] for r in result["results"]] == ["accepted", "rejected"]
    kept = query(api[1], "select raw_line from raw.events_rejected where line_number = 2"
                         " and reason like 'not JSON%%'")
    assert [r["raw_line"] for r in kept] == ["{not json"]
    too_many = ingestor.post("/api/v1/events", json=[{}] * 10_001)
    assert too_many.status_code == 400 and "at most 10,000" in too_many.json()["error"]["message"]
    assert ingestor.post("/api/v1/events", content=b"[1,").status_code == 400


# --- the live stream ------------------------------------------------------------------------

def _events(lines):
    """SSE events as (id, name, data) from an iterator of lines."""
    event = {}
    for line in lines:
        if line.startswith(":"):
            continue
        if not line:
            if "data" in event:
                yield event.get("id"), event.get("event"), json.loads(event["data"])
            event = {}
            continue
        name, _, value = line.partition(": ")
        event[name] = value


def test_stream_sends_changes_after_an_ingest_and_resumes(api, ingestor):
    base, settings = api
    key = new_key(settings)
    headers = {"Authorization": f"Bearer {key}"}
    url = f"{base}{WF}/stream"
    # Events of the previous tests received within the commit lag would count as new on this
    # stream (rightly: the marts do not hold them); let them age out so only live_1 is new.
    time.sleep(COMMIT_LAG.total_seconds() + 0.5)
    with httpx.stream("GET", url, headers=headers, timeout=20) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response.iter_lines())
        first_id, name, first = next(events)
        assert name == "metrics_update"
        assert first["changes"]["total_enrolled"] == 8 and first["changes"]["currently_active"] == 1
        started = time.monotonic()
        ingestor.post("/api/v1/events", json=[enrolment("live_1", "L1")])
        _, name, update = next(events)
        assert time.monotonic() - started < 5
        assert update["changes"] == {"total_enrolled": 9, "currently_active": 2,
                                     "new_enrollments_delta": 1}
    # Reconnecting from before the ingest replays it on top of the marts' figures.
    with httpx.stream("GET", url, headers={**headers, "Last-Event-ID": first_id},
                      timeout=20) as response:
        _, _, resumed = next(_events(response.iter_lines()))
        assert resumed["changes"]["total_enrolled"] == 9
    with httpx.stream("GET", f"{base}/api/v1/workflows/wf_other/analytics/stream",
                      headers=headers, timeout=20) as response:
        assert response.status_code == 404


# --- platform endpoints ---------------------------------------------------------------------

def test_execution_summary_and_series(api):
    with client(api[0], new_key(api[1])) as http:
        summary = http.get("/api/v1/analytics/executions/summary", params=P).json()
        assert (summary["executions"], summary["succeeded"], summary["failed"],
                summary["active"]) == (8, 4, 2, 1)
        assert (summary["success_rate"], summary["failure_rate"]) == (50.0, 25.0)
        assert round(summary["cost_usd"], 6) == 0.023 and summary["credits"] == 7
        series = http.get("/api/v1/analytics/executions",
                          params={**P, "group_by": "workflow"}).json()["series"]
        assert [(s["bucket"][:10], s["grp"], s["started"]) for s in series] == [
            ("2026-03-01", "wf_main", 3), ("2026-03-02", "wf_main", 2),
            ("2026-03-03", "wf_main", 3)]
        by_status = http.get("/api/v1/analytics/executions",
                             params={**P, "group_by": "status"}).json()["series"]
        assert sum(s["executions"] for s in by_status if s["grp"] == "error") == 2


def test_errors_rankings_costs_retention(api):
    with client(api[0], new_key(api[1])) as http:
        errors = http.get("/api/v1/analytics/executions/errors", params=P).json()
        assert errors["total_errors"] == 2
        assert sorted((e["error_type"], e["errors"], e["trend"]) for e in errors["by_error_type"]) \
            == [("api_timeout", 1, "new"), ("configuration_error", 1, "new")]
        ranked = http.get("/api/v1/analytics/workflows/rankings",
                          params={**P, "by": "failure_rate"}).json()["rankings"]
        assert [(r["workflow_id"], r["value"]) for r in ranked] == [("wf_main", 25.0)]
        costs = http.get("/api/v1/analytics/costs", params=P).json()
        assert round(costs["total_cost_usd"], 6) == 0.023 and costs["total_credits"] == 7
        breakdown = http.get("/api/v1/analytics/costs/breakdown", params=P).json()["breakdown"]
        assert [(b["grp"], round(b["cost_usd"], 6), b["credits"]) for b in breakdown] == [
            ("send_email", 0.013, 5), ("http_request", 0.01, 2)]
        retention = http.get("/api/v1/analytics/retention",
                             params={**P, "cohort_type": "user", "grain": "day"}).json()
        sizes = {c["cohort_start"]: c["cohort_size"] for c in retention["cohorts"]}
        assert sizes == {"2026-03-01": 1, "2026-03-02": 2}
        assert http.get("/api/v1/analytics/retention",
                        params={**P, "grain": "year"}).status_code == 400


def test_marts_not_built_yet_answer_a_clear_404(api):
    with client(api[0], new_key(api[1])) as http:
        forecast = http.get(f"{WF}/forecast")
        assert forecast.status_code == 404
        assert forecast.json()["error"]["code"] in ("not_available",)
        assert http.get(f"{WF}/anomalies", params=MAR).status_code == 404
        assert http.get("/api/v1/experiments/exp_1/results").json()["error"]["code"] == \
            "not_available"
        assert http.get("/api/v1/experiments/exp_x/results").json()["error"]["code"] == \
            "not_found"



def test_marts_built_later_are_served(api):
    base, settings = api
    # the columns of the tables the analytics assets write (assets/analytics)
    execute(settings, "create table marts.metric_anomalies (account_id text, workflow_id text,"
                      " metric text, grain text, ts timestamptz, value double precision,"
                      " expected double precision)")
    execute(settings, "insert into marts.metric_anomalies values"
                      " ('acc_a', 'wf_main', 'error_rate', 'day', '2026-03-02', 2, 0.1),"
                      " ('acc_a', 'wf_main', 'error_rate', 'day', '2026-04-01', 5, 0.1)")
    execute(settings, "create table marts.metric_forecasts (forecast_date date, value numeric)")
    try:
        with client(base, new_key(settings)) as http:
            body = http.get(f"{WF}/anomalies", params=MAR).json()
            assert [(a["ts"][:10], a["metric"], a["value"]) for a in body["anomalies"]] == [
                ("2026-03-02", "error_rate", 2.0)]
            odd = http.get(f"{WF}/forecast")  # a table without the columns it filters on
            assert odd.status_code == 404 and "lacks a column" in odd.json()["error"]["message"]
    finally:
        execute(settings, "drop table marts.metric_anomalies, marts.metric_forecasts")

# --- the BI role ----------------------------------------------------------------------------

def test_bi_role_reads_marts_and_nothing_else(api):
    from warehouse.bi_role import grant_bi

    settings = api[1]
    grant_bi(settings.warehouse_url, "wfa_bi_test", "bi-secret")
    url = settings.warehouse_url.replace("postgres@", "wfa_bi_test:bi-secret@", 1)
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from marts.fct_executions").fetchone()[0] == 9
    for table in ("raw.events", "platform.api_keys"):
        with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"select 1 from {table} limit 1")


# --- refresh jobs (a real Dagster run, executed by a real daemon) ----------------------------

def test_refresh_runs_dagster_and_the_summary_follows(api, monkeypatch):
    base, settings = api
    # The refresh is planned from the warehouse in the environment, as under `wfa serve`.
    monkeypatch.setenv("WFA_DATABASE_URL", settings.warehouse_url)
    with client(base, new_key(settings, role="admin", scopes=("read", "ingest"))) as admin:
        admin.post("/api/v1/events", json=[
            {**enrolment("fresh_1", "F1"), "occurred_at": "2026-03-02T12:00:00Z"}])
        queued = admin.post(f"{WF}/refresh")
        assert queued.status_code == 202
        body = queued.json()
        assert body["status"] == "queued" and body["estimated_completion_seconds"] == 30
        deadline = time.monotonic() + 400
        with daemon_process(settings):  # started after the request: its sensor finds it queued
            while True:
                job = admin.get(f"/api/v1/jobs/{body['job_id']}").json()
                if job["status"] in ("success", "failure") or time.monotonic() > deadline:
                    break
                time.sleep(2)
        assert job["status"] == "success", job
        assert job["run_id"] and job["finished_at"] >= job["started_at"]
        day = {"start_date": "2026-03-02", "end_date": "2026-03-02"}
        assert admin.get(WF, params=day).json()["summary"]["total_enrolled"] == 3  # X3, X4, F1
    with client(base, new_key(settings, account="acc_b")) as other:
        assert other.get(f"/api/v1/jobs/{body['job_id']}").status_code == 404
