"""marts.metric_anomalies: daily and hourly series per workflow and per account, judged by
assets.anomalies.detect; only the anomalous points are stored."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from assets.anomalies import detect
from warehouse.analytics_contract import column_names

COLUMNS = column_names("metric_anomalies")  # the contract: warehouse/analytics_contract.py
MIN_POINTS = {"day": 21, "hour": 72}  # shorter series cannot have a band yet
# below this median volume a series is mostly zeros: any single event would look anomalous
MIN_MEDIAN_EXECUTIONS = {"day": 5, "hour": 5}

# One long frame (account_id, workflow_id, metric, ts, value) per grain; the account level is
# its own aggregate (a p95 or a rate is not a sum of the workflows').
DAILY_SQL = """
with actions as (
    select account_id, workflow_id, date, sum(failures) as failures, sum(executions) as runs
    from marts.fct_action_daily group by 1, 2, 3
), workflow as (
    select d.account_id, d.workflow_id, d.date, d.new_enrollments, d.cost_usd,
           d.p95_duration_seconds, a.failures, a.runs
    from marts.fct_workflow_daily d
    left join actions a using (account_id, workflow_id, date)
), account_p95 as (
    -- fct_execution_outcomes keeps the durations as long as the daily marts keep their days
    select account_id, ended_date as date,
           percentile_cont(0.95) within group (order by duration) as p95
    from marts.fct_execution_outcomes, unnest(durations) as duration
    where status in ('completed', 'goal_achieved')
    group by 1, 2
), account as (
    select account_id, null::text as workflow_id, date, sum(new_enrollments) as new_enrollments,
           sum(cost_usd) as cost_usd, sum(failures) as failures, sum(runs) as runs
    from workflow group by 1, 3
), levels as (
    select account_id, workflow_id, date, new_enrollments, cost_usd, p95_duration_seconds as p95,
           failures, runs from workflow
    union all
    select a.account_id, null, a.date, a.new_enrollments, a.cost_usd, p.p95, a.failures, a.runs
    from account a left join account_p95 p using (account_id, date)
)
select account_id, workflow_id, date::timestamp at time zone 'UTC' as ts,
       new_enrollments::float8 as executions,
       (100.0 * failures / nullif(runs, 0))::float8 as error_rate, runs::float8 as runs,
       p95::float8 as p95_duration_seconds, cost_usd::float8 as cost_usd
from levels
"""
HOURLY_SQL = """
with workflow as (
    select account_id, workflow_id, hour, sum(started) as started, sum(failed) as failed,
           sum(completed) + sum(failed) + sum(exited) as ended
    from marts.fct_executions_hourly group by 1, 2, 3
), levels as (
    select * from workflow
    union all
    select account_id, null, hour, sum(started), sum(failed), sum(ended) from workflow group by 1, 3
)
select account_id, workflow_id, hour as ts, started::float8 as executions,
       failed::float8 as failed, ended::float8 as ended
from levels
"""
DAILY_METRICS = ["executions", "error_rate", "p95_duration_seconds", "cost_usd"]


def hourly_dense(hourly: pd.DataFrame) -> pd.DataFrame:
    """fct_executions_hourly has rows only for hours with activity: fill the gaps with zero
    counts, then derive the error rate (null where nothing ended)."""
    out = []
    hourly = hourly.assign(ts=pd.to_datetime(hourly["ts"], utc=True))
    for (account, workflow), frame in hourly.groupby(["account_id", "workflow_id"], dropna=False):
        frame = frame.set_index("ts").sort_index()
        full = pd.date_range(frame.index.min(), frame.index.max(), freq="h")
        frame = frame[["executions", "failed", "ended"]].reindex(full, fill_value=0.0)
        frame["error_rate"] = 100.0 * frame["failed"] / frame["ended"].replace(0, np.nan)
        frame["runs"] = frame["ended"]
        out.append(frame.rename_axis("ts").reset_index().assign(account_id=account,
                                                                 workflow_id=workflow))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def noise_floor(frame: pd.DataFrame, metric: str) -> np.ndarray | float:
    """The sampling noise a metric has even when nothing is wrong, per point and from earlier
    points only: Poisson for a count of executions, binomial for an error rate at the typical
    number of runs."""
    if metric == "executions":
        level = frame["executions"].expanding().median().shift(1)
        return np.sqrt(level.clip(lower=1.0).fillna(1.0)).to_numpy()
    if metric == "error_rate":
        runs = frame["runs"].fillna(0)
        failures = (frame["error_rate"].fillna(0) * runs / 100).cumsum().shift(1)
        total = runs.cumsum().shift(1).clip(lower=1.0)
        share = (failures / total).clip(lower=0.5 / total, upper=0.5)
        typical = runs.expanding().median().shift(1).clip(lower=1.0)
        return (100 * np.sqrt(share * (1 - share) / typical)).fillna(0.0).to_numpy()
    return 0.0


def judge(frame: pd.DataFrame, metrics: list[str], grain: str, skipped: Counter) -> list[pd.DataFrame]:
    found = []
    frame = frame.assign(ts=pd.to_datetime(frame["ts"], utc=True))
    for (account, workflow), series_frame in frame.groupby(["account_id", "workflow_id"],
                                                           dropna=False):
        series_frame = series_frame.set_index("ts").sort_index()
        if series_frame["executions"].median() < MIN_MEDIAN_EXECUTIONS[grain]:
            skipped[f"{grain}: median under {MIN_MEDIAN_EXECUTIONS[grain]} executions"] += len(metrics)
            continue
        for metric in metrics:
            series = series_frame[metric].astype(float)
            if series.notna().sum() < MIN_POINTS[grain]:
                skipped[f"{grain}: fewer than {MIN_POINTS[grain]} points"] += 1
                continue
            verdicts = detect(series, min_scale=noise_floor(series_frame, metric))
            hits = verdicts[verdicts["is_anomaly"]]
            if len(hits):
                found.append(hits.assign(
                    account_id=account, workflow_id=None if pd.isna(workflow) else workflow,
                    metric=metric, grain=grain,
                    direction=np.where(hits["score"] > 0, "up", "down")))
    return found


def with_hours_kept(rows: pd.DataFrame, kept: pd.DataFrame, since) -> pd.DataFrame:
    """The hourly series come from fct_executions_hourly, detail that retention deletes before
    its horizon (`since`): the hourly anomalies judged before it are `kept` (the table's rows
    from before the purge) rather than lost; everything else is `rows`, judged now."""
    stamps = pd.to_datetime(rows["ts"], utc=True)
    fresh = rows[~((rows["grain"] == "hour") & (stamps < pd.Timestamp(since)))]
    parts = [frame for frame in (kept[list(COLUMNS)], fresh) if len(frame)]
    return pd.concat(parts, ignore_index=True) if parts else rows


def anomaly_rows(daily: pd.DataFrame, hourly: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    skipped: Counter = Counter()
    found = judge(daily, DAILY_METRICS, "day", skipped)
    if len(hourly):
        found += judge(hourly_dense(hourly), ["executions", "error_rate"], "hour", skipped)
    rows = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=list(COLUMNS))
    return rows[list(COLUMNS)], {"skipped": dict(skipped)}
