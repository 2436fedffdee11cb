"""Retention: the detail goes after its period, the daily and monthly marts keep their history,
and nothing recomputes a purged day from the raw events that are left."""

from __future__ import annotations

import datetime as dt
import json

import psycopg
import pytest

from tests.helpers import query, run_dbt
from warehouse import incremental, retention
from warehouse.ingestion import load_files

REFERENCE = ("accounts", "users", "workflows", "workflow_steps", "experiments")
# the sample runs 2026-08-01 to 2026-08-30; the clock is set so that 15 days keep their detail
NOW = dt.datetime(2026, 9, 14, 12, tzinfo=dt.timezone.utc)
DETAIL_DAYS, DAILY_DAYS = 30, 61
DAILY_MARTS = ["fct_workflow_daily", "fct_workflow_step_daily", "fct_action_daily",
               "fct_cost_daily", "fct_errors_daily", "fct_user_activity_daily"]


def rows_between(settings, table: str, first: dt.date, last: dt.date) -> list[str]:
    """The rows dated from `first` to `last` (inclusive), as text, in a canonical order."""
    with psycopg.connect(settings.warehouse_url) as conn:
        return [row[0] for row in conn.execute(
            f"select t::text from {table} as t where date between %s and %s order by 1",
            (first, last))]


def refresh(settings) -> incremental.Window | None:
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        window = incremental.plan(conn, overlap_seconds=0)
    if window is not None:
        run_dbt(settings, "run", "--vars", json.dumps(window.dbt_vars()))
        with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
            incremental.record(conn, window)
    return window


@pytest.fixture(scope="module")
def purged(warehouse, tmp_path_factory):
    """Marts built over the whole sample but its last arrival day, then purged as of NOW."""
    from warehouse.sample_data import generate

    folder = tmp_path_factory.mktemp("sample")
    generate(folder, events=4000, days=30, seed=9, start=dt.date(2026, 8, 1))
    for table in REFERENCE:
        load_files(warehouse.warehouse_url, [folder / f"{table}.jsonl"], table)
    days = sorted((folder / "events").iterdir())
    load_files(warehouse.warehouse_url, days[:-1])
    assert refresh(warehouse).first_build
    horizons = retention.Horizons.as_of(NOW, DETAIL_DAYS, DAILY_DAYS)
    assert horizons.detail_before == dt.date(2026, 8, 15)
    assert horizons.daily_before == dt.date(2026, 7, 15)
    before = {mart: rows_between(warehouse, f"marts.{mart}", horizons.daily_before,
                                 dt.date(2026, 9, 30)) for mart in DAILY_MARTS}
    monthly = query(warehouse, "select * from marts.fct_monthly_summary order by 1, 2, 3")
    with psycopg.connect(warehouse.warehouse_url, autocommit=True) as conn:
        dry = retention.purge(conn, horizons, dry_run=True)
        after_dry = query(warehouse, "select count(*) as n from raw.events")[0]["n"]
        done = retention.purge(conn, horizons)
    return warehouse, horizons, before, monthly, dry, after_dry, done, days[-1]


def test_a_dry_run_counts_what_a_purge_deletes_and_deletes_nothing(purged):
    settings, horizons, _, _, dry, after_dry, done, _ = purged
    assert dry == done
    assert dry["raw.events"] > 0 and dry["marts.fct_executions_hourly"] > 0
    assert dry["marts.fct_workflow_daily"] == 0  # no day is older than the daily horizon
    left = query(settings, "select count(*) as n from raw.events")[0]["n"]
    assert after_dry == left + done["raw.events"]
    (run,) = query(settings, "select * from platform.retention_runs")
    assert run["detail_before"] == horizons.detail_before and run["rows_deleted"] == done


def test_the_detail_goes_and_the_aggregates_stay(purged):
    settings, horizons, before, monthly, _, _, _, _ = purged
    midnight = dt.datetime.combine(horizons.detail_before, dt.time(), dt.timezone.utc)
    # what is left before the horizon is the earlier events of the executions carrying on after
    # it, whole; every other event before it went
    left = query(settings, """
        select count(*) as n, count(*) filter (where not exists (
            select 1 from raw.events as later
            where later.execution_id = e.execution_id and later.occurred_at >= %(m)s)) as orphans
        from raw.events as e where occurred_at < %(m)s""", {"m": midnight})[0]
    assert left["n"] > 0 and left["orphans"] == 0
    assert query(settings, "select count(*) as n from marts.fct_executions_hourly"
                           " where hour < %s", (midnight,))[0]["n"] == 0
    for mart in DAILY_MARTS:  # after the daily horizon, every row is still there
        assert rows_between(settings, f"marts.{mart}", horizons.daily_before,
                            dt.date(2026, 9, 30)) == before[mart], mart
    assert query(settings, "select * from marts.fct_monthly_summary order by 1, 2, 3") == monthly


def test_refreshes_after_a_purge_never_recompute_purged_days(purged):
    settings, horizons, _, monthly, _, _, _, last_day = purged
    purged_days = (dt.date(2026, 8, 1), horizons.detail_before - dt.timedelta(days=1))
    kept = {mart: rows_between(settings, f"marts.{mart}", *purged_days) for mart in DAILY_MARTS}
    assert kept["fct_workflow_daily"]
    load_files(settings.warehouse_url, [last_day])  # late events of purged days among them
    window = refresh(settings)
    assert window.start >= horizons.detail_before
    run_dbt(settings, "run", "--vars", json.dumps({"wfa_window_start": "2026-08-01",
                                                   "wfa_window_end": "2026-08-31"}))
    for mart in DAILY_MARTS:
        assert rows_between(settings, f"marts.{mart}", *purged_days) == kept[mart], mart
    # August's summary still counts its purged days: it adds up the daily mart's August, which
    # kept them, and it only grew with the late events
    (summary,) = query(settings, "select enrollments, cost_usd from marts.fct_monthly_summary"
                                 " where month = '2026-08-01' and workflow_id is null"
                                 " and account_id = (select min(account_id) from raw.accounts)")
    (daily,) = query(settings, "select sum(new_enrollments) as enrollments, sum(cost_usd) as cost"
                               " from marts.fct_workflow_daily where date < '2026-09-01'"
                               " and account_id = (select min(account_id) from raw.accounts)")
    (earlier,) = [row for row in monthly if row["month"] == dt.date(2026, 8, 1)
                  and row["workflow_id"] is None and row["account_id"] == query(
                      settings, "select min(account_id) as a from raw.accounts")[0]["a"]]
    assert summary["enrollments"] == daily["enrollments"] >= earlier["enrollments"] > 0
    assert summary["cost_usd"] == daily["cost"]


def test_the_quality_suites_still_pass_after_a_purge(purged):
    """Dated reconciliations cover the days from the horizon on; history-wide ones, whose raw
    side is gone, are off; the purge does not trip the row-count bounds."""
    from quality.runner import validate_marts

    settings, horizons = purged[0], purged[1]
    results = validate_marts(settings.warehouse_url)
    failing = {r.mart: [f.line() for f in r.failures] for r in results if not r.success}
    assert not failing
    evaluated = {r.mart: r.evaluated for r in results}
    assert evaluated["fct_workflow_daily"] > 0
    # a cost moved by a cent on a day after the horizon is still caught
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        conn.execute("update marts.fct_cost_daily set cost_usd = cost_usd + 0.01 where ctid ="
                     " (select ctid from marts.fct_cost_daily where date >= %s and cost_usd > 0"
                     " limit 1)", (horizons.detail_before,))
        try:
            (cost,) = validate_marts(settings.warehouse_url, ["fct_cost_daily"], record=False)
        finally:
            conn.execute("update marts.fct_cost_daily set cost_usd = cost_usd - 0.01 where ctid ="
                         " (select ctid from marts.fct_cost_daily where date >= %s"
                         " and cost_usd > 0 limit 1)", (horizons.detail_before,))
    assert [f.kind for f in cost.failures] == ["reconciliation"]


def test_the_daily_marts_go_after_their_period_and_the_months_stay(purged):
    settings = purged[0]
    months = query(settings, "select * from marts.fct_monthly_summary order by 1, 2, 3")
    later = retention.Horizons.as_of(dt.datetime(2026, 10, 5, tzinfo=dt.timezone.utc),
                                     DETAIL_DAYS, DAILY_DAYS)
    assert later.daily_before == dt.date(2026, 8, 5)
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        done = retention.purge(conn, later)
    assert done["marts.fct_workflow_daily"] > 0
    for mart in DAILY_MARTS:
        assert query(settings, f"select count(*) as n from marts.{mart}"
                               " where date < '2026-08-05'")[0]["n"] == 0
    assert query(settings, "select count(*) as n from raw.events")[0]["n"] == 0
    # every event is now older than the detail horizon: a refresh has nothing to recompute
    window = refresh(settings)
    assert window is None or window.start > window.end
    assert query(settings, "select * from marts.fct_monthly_summary order by 1, 2, 3") == months


def test_a_full_refresh_refuses_after_a_purge_unless_forced(purged):
    settings = purged[0]
    with pytest.raises(AssertionError, match="refusing --full-refresh"):
        run_dbt(settings, "run", "--full-refresh", "--select", "fct_user_activity_daily")
    run_dbt(settings, "run", "--full-refresh", "--select", "fct_user_activity_daily",
            "--vars", "{wfa_force_full_refresh: true}")


def test_wfa_retention_dry_run_follows_the_settable_clock(purged, monkeypatch):
    from click.testing import CliRunner

    from cli.main import main

    settings = purged[0]
    monkeypatch.setenv("WFA_DATABASE_URL", settings.warehouse_url)
    monkeypatch.setenv("WFA_NOW", "2026-11-30T08:00:00Z")
    monkeypatch.setenv("WFA_RETENTION_DETAIL_DAYS", "30")
    monkeypatch.setenv("WFA_RETENTION_DAILY_DAYS", "61")
    runs = query(settings, "select count(*) as n from platform.retention_runs")[0]["n"]
    daily = query(settings, "select count(*) as n from marts.fct_workflow_daily")[0]["n"]
    result = CliRunner().invoke(main, ["retention", "--dry-run"])
    assert result.exit_code == 0, result.output
    # as of 2026-11-30: detail before 2026-10-31, daily marts before 2026-09-30
    assert "detail before 2026-10-31, daily marts before 2026-09-30" in result.output
    assert f"marts.fct_workflow_daily{' ' * 21} would delete {daily:>12,} rows" in result.output
    assert query(settings, "select count(*) as n from platform.retention_runs")[0]["n"] == runs
    assert query(settings, "select count(*) as n from marts.fct_workflow_daily")[0]["n"] == daily
