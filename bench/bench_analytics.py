"""The analytics parts: the anomaly detector on NAB, forecasts on Prophet's example series,
forecast and detection throughput, and the runtime of the analytics assets.

    python bench/bench_analytics.py [--parts nab,mase,forecast,detect,assets]
                                    [--forecast-series 500] [--detect-series 10000]
                                    [--events 300000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assets.anomalies import THRESHOLD, detect, seasonality  # noqa: E402
from assets.forecasting import mase, prophet_forecast, seasonal_naive  # noqa: E402
from bench.benchmark_data import (  # noqa: E402
    BenchmarkDataError,
    nab_series,
    nab_windows,
    peyton_manning,
)
from bench.nab_scoring import Tally, score_file  # noqa: E402


def episode_onsets(flags: np.ndarray, cooldown: int) -> np.ndarray:
    """One detection per episode, as an alert opens once: the first flagged point, then nothing
    for `cooldown` points (one season)."""
    out, last = np.zeros_like(flags), None
    for i in np.flatnonzero(flags):
        if last is None or i - last > cooldown:
            out[i], last = True, i
    return out


def nab(thresholds=(THRESHOLD, 5.0, 6.0, 8.0, 10.0, 15.0)) -> dict:
    """Score the detector's episode onsets on every NAB series in bench/data/nab, at its own
    threshold and at the best of a few (NAB itself reports each detector at its best
    threshold)."""
    labels = nab_windows()
    tallies = {t: Tally() for t in thresholds}
    started = time.perf_counter()
    for name, windows in sorted(labels.items()):
        frame = nab_series(name)
        series = pd.Series(frame["value"].to_numpy(float), index=frame["timestamp"])
        scores = np.abs(np.nan_to_num(detect(series)["score"].to_numpy()))
        ts = frame["timestamp"].to_numpy()
        rows = [(int(np.searchsorted(ts, np.datetime64(pd.Timestamp(a)), "left")),
                 int(np.searchsorted(ts, np.datetime64(pd.Timestamp(b)), "right")) - 1)
                for a, b in windows]
        cooldown = seasonality(series.index)[0]
        for t, tally in tallies.items():
            score_file(episode_onsets(scores >= t, cooldown), rows, tally)
    out = {}
    for t, tally in tallies.items():
        p, r, f1 = tally.f1
        out[t] = {"nab_standard": round(tally.score, 1), "precision": round(p, 3),
                  "recall": round(r, 3), "f1": round(f1, 3), "windows": tally.windows}
    best = max(out, key=lambda t: out[t]["nab_standard"])
    return {"at_threshold": out[THRESHOLD], "best_threshold": best, "at_best": out[best],
            "seconds": round(time.perf_counter() - started, 1)}


def prophet_mase() -> dict:
    """Prophet's standard holdout on the Peyton Manning series: fit on all but the last 365
    days, forecast them, MASE against the lag-7 seasonal naive and the 80% interval coverage."""
    frame = peyton_manning()
    series = pd.Series(frame["y"].to_numpy(float), index=pd.DatetimeIndex(frame["ds"]))
    series = series.asfreq("D").interpolate()  # a few days are missing; the naive needs a grid
    train, test = series.iloc[:-365], series.to_numpy()[-365:]
    started = time.perf_counter()
    prophet = prophet_forecast(train, 365)
    naive = seasonal_naive(train, 365, 7)
    y = train.to_numpy()
    coverage = float(np.mean((test >= prophet["yhat_lower"]) & (test <= prophet["yhat_upper"])))
    return {"prophet_mase": round(mase(test, prophet["yhat"].to_numpy(), y, 7), 3),
            "seasonal_naive_mase": round(mase(test, naive["yhat"].to_numpy(), y, 7), 3),
            "prophet_80pct_coverage": round(coverage, 3),
            "prophet_mape_exp": round(float(np.mean(np.abs(np.exp(prophet["yhat"]) - np.exp(test))
                                                    / np.exp(test))), 3),
            "seconds": round(time.perf_counter() - started, 1)}


def synthetic_daily(n_series: int, days: int, seed: int = 0) -> pd.DataFrame:
    """fct_workflow_daily-shaped rows for n_series workflows."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2026-08-01", periods=days, freq="D")
    weekly = np.array([1.0, 1.1, 1.05, 1.0, 0.95, 0.5, 0.4])[dates.day_of_week]
    frames = []
    for i in range(n_series):
        level = rng.uniform(5, 200)
        enrol = rng.poisson(level * weekly)
        frames.append(pd.DataFrame({
            "account_id": f"acc_{i // 10:03d}", "workflow_id": f"wf_{i:05d}", "date": dates,
            "new_enrollments": enrol, "goals_achieved": rng.binomial(enrol, 0.2),
            "cost_usd": enrol * rng.uniform(0.001, 0.01)}))
    return pd.concat(frames, ignore_index=True)


def forecast_throughput(n_series: int) -> dict:
    from assets.analytics.forecast_table import forecast_rows

    # n_series forecasts in total: a third per metric of n_series/3 workflows (account level too)
    workflows = max(1, n_series // 3)
    daily = synthetic_daily(workflows, 90)
    started = time.perf_counter()
    rows, info = forecast_rows(daily, max_series=n_series)
    return {"series": info["series"], "models": info["models"],
            "seconds": round(time.perf_counter() - started, 1), "cores": os.cpu_count()}


def detect_throughput(n_series: int) -> dict:
    rng = np.random.default_rng(1)
    index = pd.date_range("2026-08-01", periods=90, freq="D")
    weekly = np.array([1.0, 1.1, 1.05, 1.0, 0.95, 0.5, 0.4])[index.day_of_week]
    data = rng.poisson(rng.uniform(5, 200, (n_series, 1)) * weekly).astype(float)
    started = time.perf_counter()
    flagged = sum(int(detect(pd.Series(row, index=index))["is_anomaly"].sum()) for row in data)
    seconds = time.perf_counter() - started
    return {"series": n_series, "points": n_series * 90, "seconds": round(seconds, 1),
            "false_alarm_rate": round(flagged / (n_series * 90), 5)}


def assets_runtime(events: int) -> dict:
    """Materialise every analytics asset (forecasts unlimited) over generated sample data."""
    import dagster as dg

    from assets.analytics.definitions import ASSETS
    from bench.common import bench_database, scratch_dir
    from warehouse.ingestion import load_files
    from warehouse.runtime import dbt_command
    from warehouse.sample_data import generate

    with bench_database() as settings:
        folder = scratch_dir() / f"analytics_{events}"
        generate(folder, events=events, days=90, seed=11)
        for table in ("accounts", "users", "workflows", "workflow_steps", "experiments"):
            load_files(settings.warehouse_url, [folder / f"{table}.jsonl"], table)
        load_files(settings.warehouse_url, [folder / "events"])
        if dbt_command(settings, "build", "--quiet", capture=True).returncode != 0:
            raise RuntimeError("dbt build failed")
        os.environ["WFA_DATABASE_URL"] = settings.warehouse_url
        started = time.perf_counter()
        result = dg.materialize(ASSETS, instance=dg.DagsterInstance.ephemeral())
        total = time.perf_counter() - started
        per_asset = {e.asset_key.path[1]: {"rows": e.materialization.metadata["rows"].value,
                                           "seconds": e.materialization.metadata[
                                               "runtime_seconds"].value}
                     for e in result.get_asset_materialization_events()}
        del os.environ["WFA_DATABASE_URL"]
    return {"events": events, "success": result.success, "seconds": round(total, 1),
            "assets": per_asset}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parts", default="nab,mase,detect,forecast,assets")
    parser.add_argument("--forecast-series", type=int, default=500)
    parser.add_argument("--detect-series", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=300_000)
    args = parser.parse_args()
    parts = args.parts.split(",")
    runs = {"nab": nab, "mase": prophet_mase,
            "detect": lambda: detect_throughput(args.detect_series),
            "forecast": lambda: forecast_throughput(args.forecast_series),
            "assets": lambda: assets_runtime(args.events)}
    for part in parts:
        try:
            result = runs[part]()
        except BenchmarkDataError as error:
            raise SystemExit(f"{part}: {error}") from None
        print(f"{part}: {json.dumps(result, default=str)}", flush=True)


if __name__ == "__main__":
    main()
