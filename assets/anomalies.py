"""A robust, seasonal, streaming anomaly detector: a pure function over a pandas Series.

Each point is judged only from the points before it (and itself): the expected value is the
median of the same phase in earlier seasons (same weekday for daily data, same time of day for
sub-daily data), and the band is a multiple of the median absolute deviation of the earlier
residuals. Medians rather than means, so that past anomalies neither drag the expectation nor
widen the band; and nothing after a point is read, so adding points never changes a verdict.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

THRESHOLD = 4.0  # |score| at which a point is an anomaly; the band is expected ± THRESHOLD·scale
# severity by |score|: [4, 6) low, [6, 9) medium, [9, 15) high, ≥ 15 critical
SEVERITIES = ((15.0, "critical"), (9.0, "high"), (6.0, "medium"), (THRESHOLD, "low"))
MAD_TO_SIGMA = 1.4826
MIN_SEASONS = 2    # same-phase values needed before a point can be judged
MIN_RESIDUALS = 7  # earlier residuals needed for a band
COLUMNS = ["ts", "value", "expected", "lower", "upper", "score", "is_anomaly", "severity"]


def seasonality(index: pd.Index) -> tuple[int, int, int]:
    """(period in samples, seasons to look back, residual window) for the index's frequency:
    weekly for daily data, daily for hourly and finer data."""
    if len(index) < 2 or not isinstance(index, pd.DatetimeIndex):
        return 7, 4, 28
    nanos = index.as_unit("ns").asi8
    seconds = max(float(np.median(np.diff(nanos))) / 1e9, 1.0)
    if seconds >= 86400:
        return 7, 4, 28
    period = max(2, round(86400 / seconds))
    return period, 7, min(max(7, period), 7 * 24)


def _nanmedian_rows(matrix: np.ndarray, minimum: int) -> np.ndarray:
    """Row medians ignoring NaN; NaN where a row has fewer than `minimum` values. Sorting puts
    NaN last, so the median sits at the middle of each row's finite prefix (much faster than
    numpy's nanmedian on many short rows)."""
    ordered = np.sort(matrix, axis=1)
    count = np.isfinite(matrix).sum(axis=1)
    lo = np.clip((count - 1) // 2, 0, None)[:, None]
    hi = np.clip(count // 2, 0, matrix.shape[1] - 1)[:, None]
    median = 0.5 * (np.take_along_axis(ordered, lo, 1) + np.take_along_axis(ordered, hi, 1))[:, 0]
    return np.where(count >= max(minimum, 1), median, np.nan)


def score_values(x: np.ndarray, period: int, seasons: int, window: int, min_scale=0.0):
    """Expected value, scale and score of every point of x, each from x[:t+1] only."""
    n = len(x)
    lags = np.full((n, seasons), np.nan)
    for k in range(1, seasons + 1):
        lags[period * k:, k - 1] = x[: n - period * k] if n > period * k else []
    expected = _nanmedian_rows(lags, MIN_SEASONS)
    resid = x - expected
    # the residuals strictly before t: window over a NaN-padded copy shifted by one
    past = sliding_window_view(np.concatenate([np.full(window, np.nan), resid[:-1]]), window)
    # the band's width from a long window; its centre from the last season only, so that a
    # lasting level shift stops alarming after a few points instead of a few weeks
    recent = past[:, -min(period, window):]
    centre = _nanmedian_rows(recent, min(MIN_RESIDUALS, recent.shape[1]))
    spread = _nanmedian_rows(past, MIN_RESIDUALS)
    mad = _nanmedian_rows(np.abs(past - spread[:, None]), MIN_RESIDUALS) * MAD_TO_SIGMA
    level = _nanmedian_rows(np.abs(sliding_window_view(
        np.concatenate([np.full(window, np.nan), x[:-1]]), window)), 1)
    # a floor, so that a flat history (MAD 0) does not turn every wiggle into an alarm
    known = np.fmax(np.nan_to_num(np.asarray(min_scale, dtype=float)), 1e-9)
    floor = np.maximum(0.05 * np.abs(expected), 0.01 * np.nan_to_num(level)) + known
    scale = np.fmax(mad, floor)
    scale[~np.isfinite(mad)] = np.nan
    score = (resid - centre) / scale
    return expected + centre, scale, score


def severity_of(score: float) -> str | None:
    if not np.isfinite(score):
        return None
    for bound, name in SEVERITIES:
        if abs(score) >= bound:
            return name
    return None


def detect(series: pd.Series, *, min_scale: float | np.ndarray = 0.0) -> pd.DataFrame:
    """Judge every point of a time-indexed series.

    Returns one row per point: ts, value, expected, lower, upper, score (robust z-score of the
    seasonal residual), is_anomaly (|score| ≥ 4) and severity (None, low, medium, high,
    critical). Points without enough history have NaN expected/score and are not anomalies.
    Missing values are treated as gaps (never anomalies, never history). `min_scale` is the
    smallest scale the caller knows the noise has (e.g. the Poisson or binomial standard
    deviation of a count or a rate), so that a quiet history does not make noise look anomalous:
    a number, or one per point (in the series' order, each from earlier data only, to keep the
    no-lookahead property).
    """
    order = np.argsort(series.index, kind="stable")
    s = series.iloc[order]
    if np.ndim(min_scale):
        min_scale = np.asarray(min_scale, dtype=float)[order]
    x = s.to_numpy(dtype=float)
    period, seasons, window = seasonality(s.index)
    if len(x) == 0:
        return pd.DataFrame(columns=COLUMNS)
    expected, scale, score = score_values(x, period, seasons, window, min_scale)
    score = np.where(np.isfinite(x), score, np.nan)
    is_anomaly = np.abs(np.nan_to_num(score)) >= THRESHOLD
    return pd.DataFrame({
        "ts": s.index, "value": x, "expected": expected,
        "lower": expected - THRESHOLD * scale, "upper": expected + THRESHOLD * scale,
        "score": score, "is_anomaly": is_anomaly,
        "severity": pd.Series([severity_of(v) if a else None for v, a in zip(score, is_anomaly)],
                              dtype=object),
    })
