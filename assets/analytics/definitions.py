"""The analytics assets: forecasts, anomalies and alerts, experiments, version and period
comparison, budgets and ROI, each a table in `marts` computed in Python from the dbt marts."""

# No `from __future__ import annotations`: Dagster reads the return annotations at runtime.
import datetime as dt
import time

import dagster as dg
import pandas as pd
import psycopg

from assets.analytics import (
    alerts,
    anomaly_table,
    budget_table,
    comparison_table,
    experiment_table,
    forecast_table,
    roi_table,
)
from assets.analytics.io import read_frame, write_table
from warehouse import retention
from warehouse.settings import DATA_OWNER, get_settings

GROUP = "analytics"
KINDS = {"python", "postgres"}
SEED = dg.AssetKey(["reference", "manual_minutes_per_action"])


def mart(name: str) -> dg.AssetKey:
    return dg.AssetKey(["marts", name])


def _asset(name: str, deps: list[dg.AssetKey], description: str):
    return dg.asset(key=mart(name), deps=deps, group_name=GROUP, kinds=KINDS, owners=[DATA_OWNER],
                    description=description)


def _exists(url: str, table: str) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute("select to_regclass(%s)", (table,)).fetchone()[0] is not None


def _detail_kept_from(url: str) -> dt.datetime | None:
    """The first instant whose detail retention kept (warehouse/retention.py); None before
    any purge."""
    with psycopg.connect(url) as conn:
        horizon = retention.detail_horizon(conn)
    return None if horizon is None else dt.datetime.combine(horizon, dt.time(), dt.timezone.utc)


def _result(table: str, rows: int, started: float, **extra) -> dg.MaterializeResult:
    metadata = {"rows": rows, "dagster/row_count": rows, "dagster/table_name": table,
                "runtime_seconds": round(time.monotonic() - started, 3)}
    metadata.update({k: dg.MetadataValue.json(v) if isinstance(v, dict) else v
                     for k, v in extra.items()})
    return dg.MaterializeResult(metadata=metadata)


@_asset("metric_forecasts", [mart("fct_workflow_daily")],
        "30-day Prophet forecasts (80% intervals) of new enrolments, conversions and cost per "
        "account and workflow, or the seasonal naive where Prophet loses the 28-day backtest.")
def metric_forecasts() -> dg.MaterializeResult:
    started, settings = time.monotonic(), get_settings()
    url = settings.warehouse_url
    rows, info = forecast_table.forecast_rows(read_frame(url, forecast_table.SQL),
                                              max_series=settings.forecast_max_series,
                                              workers=settings.analytics_workers)
    count = write_table(url, "metric_forecasts", rows)
    return _result("marts.metric_forecasts", count, started, series_fitted=info["series"],
                   models=info["models"], series_skipped=info["skipped"])


@_asset("metric_anomalies",
        [mart("fct_workflow_daily"), mart("fct_action_daily"), mart("fct_execution_outcomes"),
         mart("fct_executions_hourly")],
        "Anomalous points of daily and hourly executions, error rate, p95 duration and cost, "
        "per workflow and account (robust seasonal detector, judged without lookahead).")
def metric_anomalies() -> dg.MaterializeResult:
    started, url = time.monotonic(), get_settings().warehouse_url
    rows, info = anomaly_table.anomaly_rows(read_frame(url, anomaly_table.DAILY_SQL),
                                            read_frame(url, anomaly_table.HOURLY_SQL))
    since = _detail_kept_from(url)
    if since is not None:  # the hours retention deleted keep their anomalies as judged
        kept = pd.DataFrame(columns=list(anomaly_table.COLUMNS))
        if _exists(url, "marts.metric_anomalies"):
            kept = read_frame(url, "select * from marts.metric_anomalies"
                                   " where grain = 'hour' and ts < %s", (since,))
        rows = anomaly_table.with_hours_kept(rows, kept, since)
    count = write_table(url, "metric_anomalies", rows)
    return _result("marts.metric_anomalies", count, started, series_skipped=info["skipped"],
                   by_severity=rows["severity"].value_counts().to_dict())


@_asset("alerts", [mart("metric_anomalies"), mart("fct_workflow_daily"),
                   mart("fct_executions_hourly")],
        "Alerts opened by high or critical anomalies, resolved when the metric is back in band.")
def alerts_table() -> dg.MaterializeResult:
    started, url = time.monotonic(), get_settings().warehouse_url
    anomalies = read_frame(url, "select * from marts.metric_anomalies")
    last = read_frame(url, """select (select max(date) from marts.fct_workflow_daily)::timestamp
                                     at time zone 'UTC' as day,
                                     (select max(hour) from marts.fct_executions_hourly) as hour""")
    last_ts = {grain: pd.Timestamp(last[grain][0] or pd.Timestamp.min.tz_localize("UTC"))
               for grain in ("day", "hour")}
    rows = alerts.alert_rows(anomalies, last_ts)
    count = write_table(url, "alerts", rows)
    return _result("marts.alerts", count, started,
                   open_alerts=int(rows["resolved_at"].isna().sum()))


@_asset("experiment_results", [mart("fct_execution_outcomes"),
                               dg.AssetKey(["raw", "experiments"])],
        "Each experiment variant against control: lift with a delta-method CI, Welch p-value, "
        "chance to beat control, SRM, Holm correction, guardrails and a decision.")
def experiment_results() -> dg.MaterializeResult:
    started, url = time.monotonic(), get_settings().warehouse_url
    rows = experiment_table.experiment_rows(read_frame(url, experiment_table.EXPERIMENTS_SQL),
                                            read_frame(url, experiment_table.EXECUTIONS_SQL))
    count = write_table(url, "experiment_results", rows)
    return _result("marts.experiment_results", count, started,
                   decisions=rows["decision"].value_counts().to_dict())


@_asset("version_comparison", [mart("fct_execution_outcomes")],
        "Each workflow version against the previous one, and the last 28 days against the 28 "
        "before, on conversion, completion, error rate and median duration.")
def version_comparison() -> dg.MaterializeResult:
    started, url = time.monotonic(), get_settings().warehouse_url
    rows = comparison_table.comparison_rows(read_frame(url, comparison_table.SQL))
    count = write_table(url, "version_comparison", rows)
    return _result("marts.version_comparison", count, started,
                   verdicts=rows["verdict"].value_counts().to_dict())


@_asset("budget_alerts", [mart("metric_forecasts"), mart("fct_workflow_daily"),
                          mart("dim_accounts")],
        "Per account: cost this month, projected to month end and over 30 days, against budget.")
def budget_alerts() -> dg.MaterializeResult:
    started, url = time.monotonic(), get_settings().warehouse_url
    rows = budget_table.budget_rows(read_frame(url, budget_table.COST_SQL),
                                    read_frame(url, budget_table.BUDGET_SQL),
                                    read_frame(url, budget_table.FORECAST_SQL))
    count = write_table(url, "budget_alerts", rows)
    return _result("marts.budget_alerts", count, started,
                   by_status=rows["status"].value_counts().to_dict())


@_asset("workflow_roi", [mart("fct_action_daily"), mart("fct_execution_outcomes"),
                         mart("fct_workflow_daily"), SEED],
        "Per workflow and month: manual time saved (seed minutes × hourly rate) plus goal "
        "value, against cost.")
def workflow_roi() -> dg.MaterializeResult:
    started, settings = time.monotonic(), get_settings()
    url = settings.warehouse_url
    frame = read_frame(url, roi_table.roi_sql("reference.manual_minutes_per_action"))
    rows = roi_table.roi_rows(frame, settings.hourly_rate_usd)
    count = write_table(url, "workflow_roi", rows)
    return _result("marts.workflow_roi", count, started, hourly_rate_usd=settings.hourly_rate_usd)


ASSETS = [metric_forecasts, metric_anomalies, alerts_table, experiment_results,
          version_comparison, budget_alerts, workflow_roi]


def build_defs() -> dg.Definitions:
    return dg.Definitions(assets=ASSETS)
