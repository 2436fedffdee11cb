"""marts.metric_forecasts: the next 30 days of each account's and workflow's daily metrics."""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

from assets.forecasting import forecast
from warehouse.analytics_contract import column_names

HORIZON = 30
MIN_HISTORY_DAYS = 28
METRICS = {"new_enrollments": "new_enrollments", "conversions": "goals_achieved",
           "cost_usd": "cost_usd"}
COLUMNS = column_names("metric_forecasts")  # the contract: warehouse/analytics_contract.py
SQL = """select account_id, workflow_id, date, new_enrollments, goals_achieved, cost_usd
         from marts.fct_workflow_daily"""


def build_series(daily: pd.DataFrame):
    """Yield ((account_id, workflow_id or None, metric), dense daily series) for every account
    and workflow."""
    daily = daily.assign(date=pd.to_datetime(daily["date"]))
    for column in METRICS.values():
        daily[column] = daily[column].astype(float)
    # accounts first, so that a series limit keeps the ones the budget projections read
    levels = [(daily.groupby(["account_id", "date"], as_index=False)[list(METRICS.values())].sum()
               .groupby(["account_id"]), False),
              (daily.groupby(["account_id", "workflow_id"]), True)]
    for groups, per_workflow in levels:
        for key, frame in groups:
            account = key[0]
            workflow = key[1] if per_workflow else None
            frame = frame.set_index("date").sort_index()
            full = pd.date_range(frame.index.min(), frame.index.max(), freq="D")
            for metric, column in METRICS.items():
                yield (account, workflow, metric), frame[column].reindex(full, fill_value=0.0)


def _fit(task):
    key, series = task
    return key, forecast(series, HORIZON)


def forecast_rows(daily: pd.DataFrame, *, max_series: int | None = None,
                  workers: int | None = None) -> tuple[pd.DataFrame, dict]:
    """All forecasts as table rows, and the skipped series counted by reason."""
    tasks, skipped = [], Counter()
    for key, series in build_series(daily):
        if len(series) < MIN_HISTORY_DAYS:
            skipped[f"fewer than {MIN_HISTORY_DAYS} days of history"] += 1
        elif max_series is not None and len(tasks) >= max_series:
            skipped["over the series limit"] += 1
        else:
            tasks.append((key, series))
    trained_at = dt.datetime.now(dt.timezone.utc)
    workers = workers or os.cpu_count() or 1
    if workers > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_fit, tasks, chunksize=max(1, len(tasks) // (4 * workers))))
    else:
        results = [_fit(task) for task in tasks]
    frames = []
    for (account, workflow, metric), fc in results:
        frames.append(fc.assign(account_id=account, workflow_id=workflow, metric=metric,
                                model=fc.attrs["model"], backtest_mase=fc.attrs["backtest_mase"],
                                trained_at=trained_at, ds=fc["ds"].dt.date))
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(COLUMNS))
    models = Counter(fc.attrs["model"] for _, fc in results)
    return rows, {"skipped": dict(skipped), "models": dict(models), "series": len(tasks)}
