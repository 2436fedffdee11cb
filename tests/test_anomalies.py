"""The anomaly detector on synthetic series with known anomalies, and the alerts it opens."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assets.analytics.alerts import alert_rows
from assets.anomalies import detect, severity_of

WEEKLY = np.array([1.0, 1.1, 1.05, 1.0, 0.95, 0.5, 0.4])  # quiet weekends


def daily_counts(days: int = 120, level: float = 200.0, seed: int = 1) -> pd.Series:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2026-01-05", periods=days, freq="D", tz="UTC")  # a Monday
    trend = 1 + 0.003 * np.arange(days)
    return pd.Series(rng.poisson(level * WEEKLY[np.arange(days) % 7] * trend).astype(float),
                     index=index)


def test_planted_spike_and_drop_are_found_on_their_dates():
    series = daily_counts()
    series.iloc[60] *= 3.0   # a Wednesday spike
    series.iloc[85] *= 0.2   # a Tuesday drop of 80%
    series.iloc[96] *= 3.0   # a Saturday spike: large against a quiet weekend only
    verdicts = detect(series).set_index("ts")
    found = verdicts.index[verdicts["is_anomaly"]]
    for day in (60, 85, 96):
        assert series.index[day] in found
    assert verdicts.loc[series.index[60], "score"] > 0 > verdicts.loc[series.index[85], "score"]
    assert verdicts.loc[series.index[60], "severity"] in ("high", "critical")
    # besides the three, at most one false alarm in 120 days
    assert len(found) <= 4


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_clean_series_raise_few_false_alarms(seed):
    verdicts = detect(daily_counts(seed=seed))
    assert verdicts["score"].notna().sum() > 80  # judged, not skipped
    assert verdicts["is_anomaly"].sum() <= 1


def test_a_weekday_level_on_a_weekend_is_anomalous():
    """Weekly seasonality: a normal weekday value is an anomaly on a quiet Sunday."""
    series = daily_counts()
    sunday = next(i for i in range(80, 100) if series.index[i].weekday() == 6)
    series.iloc[sunday] = series.iloc[sunday - 3]  # Thursday's level
    verdicts = detect(series).set_index("ts")
    assert verdicts.loc[series.index[sunday], "is_anomaly"]


def test_adding_later_points_never_changes_earlier_verdicts():
    series = daily_counts(days=100)
    series.iloc[50] *= 4
    series.iloc[70] = 0.0
    full = detect(series)
    for cut in (30, 51, 52, 71, 99):
        prefix = detect(series.iloc[:cut])
        pd.testing.assert_frame_equal(prefix, full.iloc[:cut], check_dtype=False)


def test_hourly_series_use_the_daily_season():
    rng = np.random.default_rng(5)
    index = pd.date_range("2026-03-01", periods=24 * 21, freq="h", tz="UTC")
    shape = 20 + 60 * np.sin(np.pi * (index.hour.to_numpy() / 24)) ** 2  # busy afternoons
    series = pd.Series(rng.poisson(shape).astype(float), index=index)
    night = 24 * 18 + 3  # 03:00, normally quiet
    series.iloc[night] = 80.0
    verdicts = detect(series)
    assert verdicts.loc[night, "is_anomaly"]
    assert verdicts["is_anomaly"].sum() <= 4
    # the first days have no history to judge from
    assert verdicts.loc[: 24 * 2 - 1, "score"].isna().all()


def test_short_and_gappy_series_are_not_judged():
    series = pd.Series([1.0, 2.0, np.nan, 100.0],
                       index=pd.date_range("2026-01-01", periods=4, freq="D"))
    verdicts = detect(series)
    assert list(verdicts.columns) == ["ts", "value", "expected", "lower", "upper", "score",
                                      "is_anomaly", "severity"]
    assert not verdicts["is_anomaly"].any()


def test_severity_grows_with_the_score():
    assert [severity_of(s) for s in (3.9, -4.0, 6.5, -9.0, 20.0)] == [
        None, "low", "medium", "high", "critical"]


def test_alerts_open_on_high_severity_and_resolve_when_back_in_band():
    ts = pd.date_range("2026-05-01", periods=10, freq="D", tz="UTC")

    def point(i, severity, score=10.0):
        return {"account_id": "a", "workflow_id": "w", "metric": "cost_usd", "grain": "day",
                "ts": ts[i], "value": 9.0, "expected": 1.0, "score": score, "severity": severity}

    anomalies = pd.DataFrame([
        point(1, "low", 4.5),              # low: no alert
        point(3, "high"), point(4, "critical"), point(5, "medium"),  # one episode, back on day 6
        point(9, "critical"),              # still anomalous on the last day: open
    ])
    alerts = alert_rows(anomalies, {"day": ts[9], "hour": ts[9]}).sort_values("opened_at")
    assert list(alerts["opened_at"]) == [ts[3], ts[9]]
    assert alerts.iloc[0]["resolved_at"] == ts[6]
    assert alerts.iloc[0]["severity"] == "critical"  # the worst point of the episode
    assert pd.isna(alerts.iloc[1]["resolved_at"])
    assert alerts["alert_id"].is_unique


def test_the_table_keeps_earlier_verdicts_as_days_are_added():
    """The asset's noise floors come from earlier points only, like the detector itself."""
    from assets.analytics.anomaly_table import anomaly_rows

    counts = daily_counts(days=100)
    counts.iloc[70] *= 3
    rng = np.random.default_rng(9)
    runs = counts * 3
    failures = rng.binomial(runs.astype(int), 0.03)
    failures[60] = int(runs.iloc[60] * 0.3)
    daily = pd.DataFrame({
        "account_id": "a", "workflow_id": "w", "ts": counts.index, "executions": counts.values,
        "error_rate": 100 * failures / runs.values, "runs": runs.values,
        "p95_duration_seconds": rng.normal(600, 20, 100), "cost_usd": counts.values * 0.01})
    full, _ = anomaly_rows(daily, pd.DataFrame())
    assert {("executions", counts.index[70]), ("error_rate", counts.index[60])} <= set(
        zip(full["metric"], full["ts"]))
    for cut in (65, 75, 90):
        prefix, _ = anomaly_rows(daily.iloc[:cut], pd.DataFrame())
        expected = full[full["ts"] < counts.index[cut]].reset_index(drop=True)
        pd.testing.assert_frame_equal(prefix.reset_index(drop=True), expected, check_dtype=False)
