"""The whole pipeline, a retention purge, the pipeline again: the checks pass, the answers the
daily marts keep are the same, the analytics tables keep their closed periods, and the answers
computed from the purged detail say so (409 detail_purged) instead of changing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import psycopg
import pytest

from api.infra.keys import create_key
from orchestration.partitions import RANGE_END, RANGE_START
from tests.api_server import client, serve
from tests.helpers import query
from warehouse import retention
from warehouse.ingestion import load_files
from warehouse.runtime import prepare_dbt_manifest

pytestmark = pytest.mark.db

REFERENCE = ("accounts", "users", "workflows", "workflow_steps", "experiments")
# the sample runs 2026-08-01 to 2026-08-30; as of NOW, 30 days of detail keep 2026-08-15 on
NOW = dt.datetime(2026, 9, 14, 12, tzinfo=dt.timezone.utc)
DETAIL_DAYS, DAILY_DAYS = 30, 61
HORIZON = dt.date(2026, 8, 15)
PARIS = ZoneInfo("Europe/Paris")
AUG = {"start_date": "2026-08-01", "end_date": "2026-08-21"}
AUG_PLATFORM = {"from": "2026-08-01", "to": "2026-08-21"}
KEPT = {"start_date": "2026-08-16", "end_date": "2026-08-21"}  # whole days with detail, Paris too
KEPT_PLATFORM = {"from": "2026-08-15", "to": "2026-08-21"}
# columns that say when a table was written, not what it holds
STAMPS = ("computed_at", "trained_at")
# the hourly anomalies come from the hourly mart, detail: those of purged hours are kept as they
# were judged, later ones are judged again on the hours left
KEPT_ANOMALIES = "grain = 'day' or ts < '2026-08-15T00:00:00Z'"
ANALYTICS = ("experiment_results", "version_comparison", "workflow_roi", "metric_forecasts",
             "budget_alerts")


def run_pipeline(tags: dict[str, str] | None = None) -> dg.ExecuteInProcessResult:
    """`wfa run` (the refresh_all job in process, over what is new), or with `tags` naming
    partitions, `wfa backfill`."""
    from orchestration.definitions import build_definitions
    from orchestration.defs.jobs import refresh_tags

    return build_definitions().resolve_job_def("refresh_all").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False,
        tags=tags or refresh_tags())


def failed_checks(result: dg.ExecuteInProcessResult) -> list[str]:
    return sorted(f"{e.event_specific_data.asset_key.to_user_string()}:"
                  f"{e.event_specific_data.check_name}" for e in result.all_events
                  if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
                  and not e.event_specific_data.passed)


def table_rows(settings, table: str, where: str = "true") -> list[str]:
    """A table's rows as text, without its write stamps, in a canonical order."""
    with psycopg.connect(settings.warehouse_url) as conn:
        columns = [c.name for c in conn.execute(f"select * from marts.{table} limit 0").description
                   if c.name not in STAMPS]
        return [row[0] for row in conn.execute(
            f"select row({', '.join(columns)})::text from marts.{table} where {where} order by 1")]


def answers(settings, key: str, workflow: str) -> dict[str, tuple[int, object]]:
    """(status, body) of each request, by a name: the body as JSON, a CSV as its line count."""
    wf = f"/api/v1/workflows/{workflow}/analytics"
    requests = {
        # from the daily marts
        "summary_utc": (wf, AUG),
        "summary_utc_previous": (wf, {**AUG, "compare": "previous_period"}),
        "summary_weekly": (wf, {**AUG, "granularity": "weekly"}),
        "funnel": (wf + "/funnel", AUG),
        "actions": (wf + "/actions", AUG),
        "export_json_utc": (wf + "/export", {**AUG, "format": "json"}),
        "costs": ("/api/v1/analytics/costs", AUG_PLATFORM),
        "costs_breakdown": ("/api/v1/analytics/costs/breakdown", AUG_PLATFORM),
        "errors": ("/api/v1/analytics/executions/errors", AUG_PLATFORM),
        "rankings_cost": ("/api/v1/analytics/workflows/rankings", {**AUG_PLATFORM, "by": "cost"}),
        "anomalies": (f"/api/v1/workflows/{workflow}/analytics/anomalies", AUG),
        # from the detail, over days it still has
        "summary_paris_kept": (wf, {**KEPT, "tz": "Europe/Paris"}),
        "hourly_kept": (wf, {**KEPT, "granularity": "hourly"}),
        "csv_kept": (wf + "/export", KEPT),
        "executions_summary_kept": ("/api/v1/analytics/executions/summary", KEPT_PLATFORM),
        # from the detail, over purged days
        "summary_paris": (wf, {**AUG, "tz": "Europe/Paris"}),
        "hourly": (wf, {**AUG, "granularity": "hourly"}),
        "csv": (wf + "/export", AUG),
        "export_json_paris": (wf + "/export", {**AUG, "format": "json", "tz": "Europe/Paris"}),
        "export_pdf_paris": (wf + "/export", {**AUG, "format": "pdf", "tz": "Europe/Paris"}),
        "executions": ("/api/v1/analytics/executions", AUG_PLATFORM),
        "executions_by_status": ("/api/v1/analytics/executions",
                                 {**AUG_PLATFORM, "group_by": "status"}),
        "executions_summary": ("/api/v1/analytics/executions/summary", AUG_PLATFORM),
        "rankings_slowest": ("/api/v1/analytics/workflows/rankings",
                             {**AUG_PLATFORM, "by": "slowest"}),
        "rankings_failure_rate": ("/api/v1/analytics/workflows/rankings",
                                  {**AUG_PLATFORM, "by": "failure_rate"}),
    }
    found = {}
    with serve(settings) as base, client(base, key) as http:
        for name, (path, params) in requests.items():
            response = http.get(path, params=params)
            kind = response.headers.get("content-type", "")
            if response.status_code == 200 and kind.startswith("text/csv"):
                body = len(response.text.splitlines())
            elif response.status_code == 200 and kind.startswith("application/pdf"):
                body = response.content[:5]
            else:
                body = response.json()
                if isinstance(body, dict) and "freshness" in body:
                    body.pop("freshness")  # says when the marts were refreshed
            found[name] = (response.status_code, body)
    return found


def enrolled(settings, start: dt.datetime, end: dt.datetime, account: str,
             workflow: str | None = None) -> int:
    """Executions enrolled in [start, end), straight from the raw events (first enrolment)."""
    return query(settings, """
        select count(*) as n from (
            select execution_id, min(occurred_at) as enrolled_at from raw.events
            where event_type = 'execution.enrolled' and account_id = %(acc)s
              and (%(wf)s::text is null or workflow_id = %(wf)s)
            group by 1) as executions
        where enrolled_at >= %(start)s and enrolled_at < %(end)s""",
                 {"acc": account, "wf": workflow, "start": start, "end": end})[0]["n"]


def midnight(day: str, tz=dt.timezone.utc) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), tz)


@pytest.fixture(scope="module")
def roundtrip(warehouse, tmp_path_factory):
    from warehouse.sample_data import generate

    folder = tmp_path_factory.mktemp("sample")
    generate(folder, events=50_000, days=30, seed=9, start=dt.date(2026, 8, 1))
    for table in REFERENCE:
        load_files(warehouse.warehouse_url, [folder / f"{table}.jsonl"], table)
    load_files(warehouse.warehouse_url, [folder / "events"])
    prepare_dbt_manifest(warehouse)
    settings = warehouse.model_copy(update={"home": tmp_path_factory.mktemp("api_home")})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WFA_DATABASE_URL", warehouse.warehouse_url)
        patch.setenv("WFA_FORECAST_MAX_SERIES", "2")  # Prophet fits are tested elsewhere
        patch.setenv("WFA_ANALYTICS_WORKERS", "1")
        first = run_pipeline()
        # the busiest workflow of August 1-21, as a user would look at it
        (busiest,) = query(warehouse, """
            select workflow_id, account_id from marts.fct_workflow_daily
            where date between '2026-08-01' and '2026-08-21'
            group by 1, 2 order by sum(new_enrollments) desc, 1 limit 1""")
        workflow, account = busiest["workflow_id"], busiest["account_id"]
        key = create_key(warehouse.warehouse_url, account, "viewer", ["read"])[1]
        raw = {
            "utc": enrolled(warehouse, midnight("2026-08-01"), midnight("2026-08-22"), account,
                            workflow),
            "paris": enrolled(warehouse, midnight("2026-08-01", PARIS),
                              midnight("2026-08-22", PARIS), account, workflow),
            "account": enrolled(warehouse, midnight("2026-08-01"), midnight("2026-08-22"),
                                account),
            "goal_value_august": query(warehouse, """
                select sum(value) as v from (
                    select distinct on (execution_id) (properties ->> 'value_usd')::numeric as value,
                           occurred_at
                    from raw.events where event_type = 'goal.achieved'
                    order by execution_id, occurred_at, event_id) as goals
                where occurred_at >= '2026-08-01' and occurred_at < '2026-09-01'""")[0]["v"],
        }
        # the events before the horizon, but those of the executions that carry on after it
        raw["events_before_horizon"] = query(warehouse, """
            select count(*) as n from raw.events as e
            where occurred_at < %(m)s and not exists (
                select 1 from raw.events as later
                where later.execution_id = e.execution_id and later.occurred_at >= %(m)s)""",
                                              {"m": midnight(HORIZON.isoformat())})[0]["n"]
        # each experiment's arms as fct_executions counts them while it has every execution
        raw["arms"] = query(warehouse, """
            select experiment_id, variant, count(*) as enrolled,
                   count(*) filter (where status = 'goal_achieved') as conversions
            from marts.fct_executions where experiment_id is not null group by 1, 2
            order by 1, 2""")
        before = answers(settings, key, workflow)
        tables = {t: table_rows(warehouse, t) for t in ANALYTICS}
        anomalies = table_rows(warehouse, "metric_anomalies", KEPT_ANOMALIES)
        with psycopg.connect(warehouse.warehouse_url, autocommit=True) as conn:
            deleted = retention.purge(conn, retention.Horizons.as_of(NOW, DETAIL_DAYS, DAILY_DAYS))
        second = run_pipeline()
        # a backfill of the whole sample recomputes the kept days from the events left (and
        # none before the horizon): the same figures again
        third = run_pipeline({RANGE_START: "2026-08-01", RANGE_END: "2026-08-30"})
        after = answers(settings, key, workflow)
    return {"first": first, "second": second, "third": third, "raw": raw, "before": before, "after": after,
            "tables": tables, "anomalies": anomalies, "deleted": deleted, "workflow": workflow,
            "settings": warehouse}


def test_the_pipeline_passes_every_check_before_and_after_the_purge(roundtrip):
    # the purge did cut the detail: every raw event before the horizon but those of the
    # executions that carry on after it
    assert roundtrip["deleted"]["raw.events"] == roundtrip["raw"]["events_before_horizon"] > 0
    assert roundtrip["deleted"]["marts.fct_executions"] > 0
    for run in ("first", "second", "third"):
        result = roundtrip[run]
        assert result.success, run
        assert failed_checks(result) == [], run
    checks = {e.event_specific_data.check_name for e in roundtrip["second"].all_events
              if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION}
    assert {"assert_workflow_daily_reconciles_with_executions", "assert_costs_reconcile",
            "assert_errors_counted_once", "assert_execution_outcomes_count_every_execution"
            } <= checks


def test_before_the_purge_the_answers_count_what_the_raw_events_hold(roundtrip):
    before, raw = roundtrip["before"], roundtrip["raw"]
    assert {status for status, _ in before.values()} == {200}
    assert before["summary_utc"][1]["summary"]["total_enrolled"] == raw["utc"]
    assert before["summary_paris"][1]["summary"]["total_enrolled"] == raw["paris"]
    assert before["csv"][1] == raw["utc"] + 1  # a header and one line per execution
    assert before["executions_summary"][1]["executions"] == raw["account"]


DAILY = ("summary_utc", "summary_utc_previous", "summary_weekly", "funnel", "actions",
         "export_json_utc", "costs", "costs_breakdown", "errors", "rankings_cost", "anomalies",
         "summary_paris_kept", "hourly_kept", "csv_kept", "executions_summary_kept")
FROM_DETAIL_UTC = ("hourly", "csv", "executions", "executions_by_status", "executions_summary",
                   "rankings_slowest", "rankings_failure_rate")
FROM_DETAIL_PARIS = ("summary_paris", "export_json_paris", "export_pdf_paris")


def test_the_answers_the_daily_marts_keep_are_the_same_after_the_purge(roundtrip):
    before, after = roundtrip["before"], roundtrip["after"]
    for name in DAILY:
        assert after[name] == before[name], name
    assert after["summary_utc"][1]["summary"]["total_enrolled"] == roundtrip["raw"]["utc"]


def test_answers_from_the_purged_detail_are_refused_naming_the_first_day_with_detail(roundtrip):
    after = roundtrip["after"]
    for names, day, zone in ((FROM_DETAIL_UTC, "2026-08-15", "UTC"),
                             (FROM_DETAIL_PARIS, "2026-08-16", "Europe/Paris")):
        for name in names:
            status, body = after[name]
            assert status == 409, name
            assert body["error"]["code"] == "detail_purged", name
            assert body["error"]["details"] == {
                "first_day_with_detail": day, "time_zone": zone,
                "detail_kept_from": "2026-08-15T00:00:00+00:00"}, name
            assert f"ask from {day} ({zone}) on" in body["error"]["message"], name
    assert set(DAILY) | set(FROM_DETAIL_UTC) | set(FROM_DETAIL_PARIS) == set(after)


def test_the_analytics_tables_keep_their_closed_periods(roundtrip):
    settings, tables = roundtrip["settings"], roundtrip["tables"]
    # recomputed after the purge (a failing check upstream would leave them as they were)
    rebuilt = {e.asset_key.path[-1] for e in roundtrip["third"].get_asset_materialization_events()}
    assert {*ANALYTICS, "metric_anomalies"} <= rebuilt
    for table in ANALYTICS:
        assert tables[table], table
        assert table_rows(settings, table) == tables[table], table
    # the daily anomalies, and the hourly ones judged before the horizon, are as they were
    assert roundtrip["anomalies"]
    assert table_rows(settings, "metric_anomalies", KEPT_ANOMALIES) == roundtrip["anomalies"]
    # August's goal value: every goal of the month, though most of its detail is gone
    (roi,) = query(settings, "select sum(goal_value_usd) as v from marts.workflow_roi"
                             " where month = '2026-08-01'")
    assert roi["v"] == pytest.approx(float(roundtrip["raw"]["goal_value_august"]), abs=1e-6)
    # every experiment's arms still count every execution they had before the purge
    arms = query(settings, """
        select experiment_id, variant, enrolled, conversions from marts.experiment_results
        union
        select experiment_id, control_variant, control_enrolled, control_conversions
        from marts.experiment_results
        order by 1, 2""")
    assert arms == roundtrip["raw"]["arms"]
