"""marts.alerts: an alert opens at a high or critical anomaly and resolves at the first later
point of the series that is back inside its band."""

from __future__ import annotations

import hashlib

import pandas as pd

from warehouse.analytics_contract import column_names

COLUMNS = column_names("alerts")  # the contract: warehouse/analytics_contract.py
OPENING = {"high", "critical"}
RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}
STEP = {"day": pd.Timedelta(days=1), "hour": pd.Timedelta(hours=1)}
KIND = {"day": "anomaly_daily", "hour": "anomaly_hourly"}


def alert_rows(anomalies: pd.DataFrame, last_ts: dict[str, pd.Timestamp]) -> pd.DataFrame:
    """`anomalies` holds only the points outside the band, so a series is back in its band at
    the first step after a run of consecutive anomalies; if that step is after the last data
    (`last_ts` per grain), the alert is still open."""
    rows = []
    keys = ["account_id", "workflow_id", "metric", "grain"]
    for (account, workflow, metric, grain), frame in anomalies.groupby(keys, dropna=False):
        step = STEP[grain]
        points = frame.assign(ts=pd.to_datetime(frame["ts"], utc=True)).sort_values("ts")
        open_alert, previous = None, None
        for point in points.itertuples(index=False):
            if open_alert is not None and point.ts != previous + step:
                open_alert["resolved_at"] = previous + step
                rows.append(open_alert)
                open_alert = None
            if open_alert is None and point.severity in OPENING:
                workflow_id = None if pd.isna(workflow) else workflow
                where = f"workflow {workflow_id}" if workflow_id else f"account {account}"
                open_alert = {
                    "alert_id": hashlib.sha1(f"{account}|{workflow_id}|{metric}|{grain}|"
                                             f"{point.ts.isoformat()}".encode()).hexdigest()[:16],
                    "kind": KIND[grain],
                    "account_id": account, "workflow_id": workflow_id, "metric": metric,
                    "opened_at": point.ts, "resolved_at": None, "severity": point.severity,
                    "message": (f"{metric} {'above' if point.score > 0 else 'below'} its band "
                                f"for {where}: {point.value:.4g} against {point.expected:.4g} "
                                f"expected"),
                }
            elif open_alert is not None and RANK[point.severity] > RANK[open_alert["severity"]]:
                open_alert["severity"] = point.severity  # the worst point of the episode
            previous = point.ts
        if open_alert is not None:
            end = previous + step
            open_alert["resolved_at"] = end if end <= last_ts[grain] else None
            rows.append(open_alert)
    return pd.DataFrame(rows, columns=list(COLUMNS))
