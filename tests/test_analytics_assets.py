"""The analytics assets materialise in process over generated sample data and write what the
sample data planted: its anomalies on their dates, its experiments' outcomes, its budgets."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from assets.analytics.budget_table import status_of
from tests.helpers import query, run_dbt
from warehouse.ingestion import load_files

pytestmark = pytest.mark.db

TABLES = ["metric_forecasts", "metric_anomalies", "alerts", "experiment_results",
          "version_comparison", "budget_alerts", "workflow_roi"]
FORECAST_SERIES = 4  # Prophet fits are the slow part; a few series prove the wiring
# the detector's metric for each planted kind
PLANTED_METRIC = {"error_rate_spike": "error_rate", "cost_spike": "cost_usd",
                  "traffic_drop": "executions"}


@pytest.fixture(scope="module")
def run(warehouse, tmp_path_factory):
    from assets.analytics.definitions import ASSETS
    from warehouse.sample_data import generate

    folder = tmp_path_factory.mktemp("sample")
    # enough volume for the planted anomalies and the experiments to be clear
    manifest = generate(folder, events=300_000, days=90, seed=11)
    for table in ("accounts", "users", "workflows", "workflow_steps", "experiments"):
        load_files(warehouse.warehouse_url, [folder / f"{table}.jsonl"], table)
    load_files(warehouse.warehouse_url, [folder / "events"])
    run_dbt(warehouse, "build")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WFA_DATABASE_URL", warehouse.warehouse_url)
        patch.setenv("WFA_FORECAST_MAX_SERIES", str(FORECAST_SERIES))
        patch.setenv("WFA_ANALYTICS_WORKERS", "2")
        result = dg.materialize(ASSETS, instance=dg.DagsterInstance.ephemeral())
    return manifest, result


def test_every_asset_materialises_with_its_metadata(run, warehouse):
    _, result = run
    assert result.success
    events = {e.asset_key.path[1]: e.materialization.metadata
              for e in result.get_asset_materialization_events()}
    assert set(events) == set(TABLES)
    for table, metadata in events.items():
        count = query(warehouse, f"select count(*) as n from marts.{table}")[0]["n"]
        assert metadata["rows"].value == count > 0, table
        assert metadata["runtime_seconds"].value >= 0
    skipped = events["metric_forecasts"]["series_skipped"].value
    assert skipped["over the series limit"] > 0
    assert events["metric_forecasts"]["series_fitted"].value == FORECAST_SERIES
    assert "day: median under 5 executions" in events["metric_anomalies"]["series_skipped"].value


def test_asset_specs_declare_group_kinds_owners_and_upstream_marts():
    from assets.analytics.definitions import ASSETS

    for asset in ASSETS:
        spec = next(iter(asset.specs))
        assert spec.group_name == "analytics"
        assert spec.key.path[0] == "marts"
        assert {"python", "postgres"} <= set(spec.kinds)
        assert spec.owners == ["team:data-platform"]
        assert spec.deps
    deps = {next(iter(a.specs)).key.path[1]: {d.asset_key.to_user_string()
                                             for d in next(iter(a.specs)).deps} for a in ASSETS}
    assert "marts/fct_workflow_daily" in deps["metric_forecasts"]
    assert "marts/metric_forecasts" in deps["budget_alerts"]
    assert "marts/metric_anomalies" in deps["alerts"]
    assert "reference/manual_minutes_per_action" in deps["workflow_roi"]


def test_every_planted_anomaly_is_found_on_its_date(run, warehouse):
    manifest, _ = run
    assert len(manifest["anomalies"]) == 3
    for planted in manifest["anomalies"]:
        rows = query(warehouse, """
            select direction, severity from marts.metric_anomalies
            where grain = 'day' and workflow_id = %s and metric = %s
              and (ts at time zone 'UTC')::date = %s""",
                     (planted["workflow_id"], PLANTED_METRIC[planted["kind"]], planted["date"]))
        assert rows, planted
        assert rows[0]["direction"] == ("down" if planted["kind"] == "traffic_drop" else "up")


def test_alerts_open_at_high_or_critical_anomalies(run, warehouse):
    alerts = query(warehouse, "select * from marts.alerts")
    assert alerts
    for alert in alerts:
        opening = query(warehouse, """
            select severity from marts.metric_anomalies
            where account_id = %s and workflow_id is not distinct from %s and metric = %s
              and ts = %s""", (alert["account_id"], alert["workflow_id"], alert["metric"],
                              alert["opened_at"]))
        assert opening and opening[0]["severity"] in ("high", "critical")
        assert alert["resolved_at"] is None or alert["resolved_at"] > alert["opened_at"]


def test_experiments_reach_the_outcome_the_data_was_built_with(run, warehouse):
    manifest, _ = run
    expected = {"treatment": "winner", "control": "loser", None: "inconclusive"}
    for planted in manifest["experiments"]:
        row = query(warehouse, "select * from marts.experiment_results where experiment_id = %s",
                    (planted["experiment_id"],))[0]
        assert row["decision"] == expected[planted["expected_winner"]], planted["name"]
        assert row["srm_p_value"] > 0.001
        raw = query(warehouse, """
            select count(*) as enrolled, count(*) filter (where status = 'goal_achieved') as conv
            from marts.fct_executions where experiment_id = %s and variant = 'treatment'""",
                    (planted["experiment_id"],))[0]
        assert (row["enrolled"], row["conversions"]) == (raw["enrolled"], raw["conv"])


def test_forecasts_cover_thirty_days_with_ordered_intervals(run, warehouse):
    rows = query(warehouse, """
        select account_id, workflow_id, metric, count(*) as days, min(ds) as first,
               bool_and(yhat_lower <= yhat and yhat <= yhat_upper) as ordered,
               count(distinct model) as models
        from marts.metric_forecasts group by 1, 2, 3""")
    assert len(rows) == FORECAST_SERIES
    last = query(warehouse, "select max(date) as d from marts.fct_workflow_daily")[0]["d"]
    for row in rows:
        assert row["days"] == 30 and row["ordered"] and row["models"] == 1
        assert row["first"] == last + dt.timedelta(days=1)
    assert any(row["workflow_id"] is None for row in rows)  # the account level comes first


def test_budget_alerts_project_from_the_cost_so_far(run, warehouse):
    rows = query(warehouse, "select * from marts.budget_alerts")
    accounts = query(warehouse, "select count(distinct account_id) as n from marts.fct_workflow_daily")
    assert len(rows) == accounts[0]["n"]
    for row in rows:
        mtd = query(warehouse, """
            select coalesce(sum(cost_usd), 0)::float8 as c from marts.fct_workflow_daily
            where account_id = %s and date >= %s""", (row["account_id"], row["month"]))[0]["c"]
        assert row["cost_month_to_date"] == pytest.approx(mtd)
        assert row["projected_month_end"] >= row["cost_month_to_date"]
        assert row["projected_month_end_low"] <= row["projected_month_end"] <= row[
            "projected_month_end_high"]
        assert row["status"] == status_of(row["projected_month_end"], row["monthly_budget_usd"])
    assert {row["projection_source"] for row in rows} == {"forecast", "run_rate_7d"}
    assert any(row["status"] == "critical" for row in rows)


def test_roi_values_the_seed_minutes_at_the_hourly_rate(run, warehouse):
    row = query(warehouse, "select * from marts.workflow_roi order by cost_usd desc limit 1")[0]
    by_hand = query(warehouse, """
        select sum(a.successes * m.manual_minutes)::float8 as minutes
        from marts.fct_action_daily a join reference.manual_minutes_per_action m using (action_type)
        where a.workflow_id = %s and date_trunc('month', a.date)::date = %s""",
                    (row["workflow_id"], row["month"]))[0]["minutes"]
    assert row["minutes_saved"] == pytest.approx(by_hand) and by_hand > 0
    assert row["time_saved_usd"] == pytest.approx(by_hand / 60 * 40.0)
    assert row["net_value_usd"] == pytest.approx(
        row["time_saved_usd"] + row["goal_value_usd"] - row["cost_usd"])
    assert row["roi"] == pytest.approx(row["net_value_usd"] / row["cost_usd"])


def test_version_and_period_comparisons_are_written(run, warehouse):
    rows = query(warehouse, """select comparison, metric, count(*) as n
                               from marts.version_comparison group by 1, 2""")
    kinds = {(r["comparison"], r["metric"]) for r in rows}
    for comparison in ("version", "period"):
        for metric in ("conversion_rate", "completion_rate", "error_rate",
                       "median_duration_seconds"):
            assert (comparison, metric) in kinds
    assert query(warehouse, """select count(*) as n from marts.version_comparison
                               where significant and verdict = 'no_difference'""")[0]["n"] == 0
