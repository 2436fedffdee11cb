"""Forecasts: the shape of the output, Prophet against the seasonal naive, and the fallback."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assets.forecasting import backtest, forecast, mase, seasonal_naive

WEEKLY = np.array([1.0, 1.1, 1.05, 1.0, 0.95, 0.5, 0.4])


def seasonal_series(days: int = 120, seed: int = 1, noise: float = 12.0) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    y = 100 * WEEKLY[t % 7] + 0.3 * t + rng.normal(0, noise, days)
    return pd.Series(y, index=pd.date_range("2026-01-05", periods=days, freq="D"))


def test_mase_against_hand_computed_values():
    train = np.array([1.0, 2, 3, 2, 2, 5])  # |2-1|, |2-2|, |5-3| -> scale 1
    assert mase(np.array([4.0, 6]), np.array([3.0, 3]), train, 3) == pytest.approx(2.0)


def test_prophet_beats_the_seasonal_naive_on_a_noisy_seasonal_series_and_is_served():
    series = seasonal_series()
    scores = backtest(series, 28)
    assert scores["prophet"] < scores["seasonal_naive"]
    result = forecast(series, 30)
    assert result.attrs["model"] == "prophet"
    assert result.attrs["backtest_mase"] == pytest.approx(scores["prophet"])
    assert list(result.columns) == ["ds", "yhat", "yhat_lower", "yhat_upper"]
    assert len(result) == 30
    assert list(result["ds"]) == list(pd.date_range(series.index[-1] + pd.Timedelta(days=1),
                                                    periods=30, freq="D"))
    assert (result["yhat_lower"] < result["yhat"]).all()
    assert (result["yhat"] < result["yhat_upper"]).all()
    # the weekly shape carries into the future: weekends below weekdays
    weekend = result["ds"].dt.weekday >= 5
    assert result.loc[weekend, "yhat"].mean() < 0.7 * result.loc[~weekend, "yhat"].mean()


def test_the_seasonal_naive_is_served_where_prophet_loses():
    # a step change late in the history: Prophet places no changepoints in the last 20% of
    # its training data, so it cannot follow the step; the last week can
    rng = np.random.default_rng(7)
    t = np.arange(120)
    y = 100 * WEEKLY[t % 7] + np.where(t >= 80, 150.0, 0.0) + rng.normal(0, 1.0, 120)
    series = pd.Series(y, index=pd.date_range("2026-01-05", periods=len(y), freq="D"))
    scores = backtest(series, 28)
    assert scores["seasonal_naive"] < scores["prophet"]
    result = forecast(series, 14)
    assert result.attrs["model"] == "seasonal_naive"
    assert np.allclose(result["yhat"], np.tile(y[-7:], 2))
    assert (result["yhat_lower"] <= result["yhat"]).all() and (
        result["yhat"] <= result["yhat_upper"]).all()


def test_a_short_history_gets_the_seasonal_naive_without_a_backtest():
    series = seasonal_series(days=30)
    result = forecast(series, 10)
    assert result.attrs["model"] == "seasonal_naive" and np.isnan(result.attrs["backtest_mase"])
    assert np.allclose(result["yhat"], np.r_[series.to_numpy()[-7:], series.to_numpy()[-7:-4]])


def test_seasonal_naive_intervals_widen_with_the_horizon():
    result = seasonal_naive(seasonal_series(), 21)
    width = (result["yhat_upper"] - result["yhat_lower"]).to_numpy()
    assert width[0] > 0
    assert width[7] == pytest.approx(width[0] * np.sqrt(2))
    assert width[14] == pytest.approx(width[0] * np.sqrt(3))


def test_hourly_series_forecast_hours():
    index = pd.date_range("2026-03-01", periods=24 * 10, freq="h")
    y = 10 + 5 * np.sin(2 * np.pi * index.hour.to_numpy() / 24)
    result = forecast(pd.Series(y, index=index), 48)  # too short to backtest hourly: naive
    assert len(result) == 48 and result["ds"].iloc[0] == index[-1] + pd.Timedelta(hours=1)
    assert np.allclose(result["yhat"].to_numpy()[:24], y[-24:])
