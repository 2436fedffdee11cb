"""Experiment statistics: pure functions, no database, no Dagster.

Frequentist: Welch's t-test on the per-execution 0/1 indicator (variance p(1-p)/n, Welch–
Satterthwaite degrees of freedom) and a delta-method interval on the relative lift.
Bayesian: a normal posterior on the relative lift with a flat prior (chance to beat control
and a credible interval), as GrowthBook does by default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats

SRM_THRESHOLD = 0.001
MIN_ENROLLED = 50
MIN_CONVERSIONS = 5


def _welch(p_c: float, var_c: float, n_c: int, p_t: float, var_t: float, n_t: int):
    """t statistic, Welch–Satterthwaite df and two-sided p-value for a difference of means,
    given each arm's variance of the mean."""
    se2 = var_c + var_t
    if se2 <= 0:
        return 0.0, float("nan"), 1.0
    t = (p_t - p_c) / math.sqrt(se2)
    df = se2 ** 2 / (var_c ** 2 / (n_c - 1) + var_t ** 2 / (n_t - 1))
    return t, df, float(2 * stats.t.sf(abs(t), df))


def compare_proportions(control_conversions: int, control_total: int,
                        treatment_conversions: int, treatment_total: int,
                        alpha: float = 0.05) -> dict:
    """Treatment against control on a conversion proportion.

    Returns control_rate, treatment_rate, lift (relative, treatment/control - 1), ci_low /
    ci_high (delta-method interval at 1 - alpha, with the Welch t quantile), t, df, p_value
    (two-sided Welch), chance_to_win (P(lift > 0) under the normal posterior) and
    credible_low / credible_high (normal posterior quantiles). Rates are fractions here.
    """
    n_c, n_t = int(control_total), int(treatment_total)
    if n_c < 2 or n_t < 2:
        raise ValueError("each arm needs at least two executions")
    p_c, p_t = control_conversions / n_c, treatment_conversions / n_t
    var_c, var_t = p_c * (1 - p_c) / n_c, p_t * (1 - p_t) / n_t
    t, df, p_value = _welch(p_c, var_c, n_c, p_t, var_t, n_t)
    out = {"control_rate": p_c, "treatment_rate": p_t, "t": t, "df": df, "p_value": p_value,
           "lift": None, "lift_se": None, "ci_low": None, "ci_high": None,
           "chance_to_win": None, "credible_low": None, "credible_high": None}
    if p_c == 0:  # a relative lift over zero is undefined
        return out
    lift = p_t / p_c - 1
    # delta method for Var(p_t / p_c): Var(p_t)/p_c^2 + p_t^2 Var(p_c)/p_c^4
    se = math.sqrt(var_t / p_c ** 2 + p_t ** 2 * var_c / p_c ** 4)
    q_t = float(stats.t.ppf(1 - alpha / 2, df)) if df == df else float("nan")
    q_z = float(stats.norm.ppf(1 - alpha / 2))
    out.update(lift=lift, lift_se=se, ci_low=lift - q_t * se, ci_high=lift + q_t * se,
               chance_to_win=float(stats.norm.cdf(lift / se)) if se > 0 else float(lift > 0),
               credible_low=lift - q_z * se, credible_high=lift + q_z * se)
    return out


def srm_p_value(observed: Mapping[str, int], shares: Mapping[str, float]) -> float:
    """Chi-square goodness of fit of the arms' sizes against the configured traffic shares."""
    names = list(shares)
    counts = np.array([observed.get(n, 0) for n in names], dtype=float)
    weights = np.array([shares[n] for n in names], dtype=float)
    if counts.sum() == 0 or len(names) < 2:
        return 1.0
    expected = counts.sum() * weights / weights.sum()
    return float(stats.chisquare(counts, expected).pvalue)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in the input order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def error_rate_worse(control_errors: int, control_total: int, treatment_errors: int,
                     treatment_total: int, alpha: float = 0.05) -> tuple[bool, float]:
    """Is the treatment's error rate significantly higher (two-sided Welch, higher side)?"""
    r = compare_proportions(control_errors, control_total, treatment_errors, treatment_total, alpha)
    return (r["p_value"] < alpha and r["treatment_rate"] > r["control_rate"]), r["p_value"]


def duration_worse(control: Sequence[float], treatment: Sequence[float],
                   alpha: float = 0.05) -> tuple[bool, float]:
    """Is the treatment significantly slower (Mann-Whitney U, two-sided, higher median)?"""
    c, t = np.asarray(control, float), np.asarray(treatment, float)
    if len(c) < 2 or len(t) < 2:
        return False, 1.0
    p = float(stats.mannwhitneyu(t, c, alternative="two-sided").pvalue)
    return (p < alpha and np.median(t) > np.median(c)), p


def decide(*, srm_p: float, enough_data: bool, adjusted_p: float, lift: float | None,
           guardrails_failed: Sequence[str], alpha: float = 0.05) -> str:
    """winner / loser / inconclusive / insufficient_data / srm_failed, in that precedence:
    a broken split invalidates everything; too little data makes any test meaningless."""
    if srm_p < SRM_THRESHOLD:
        return "srm_failed"
    if not enough_data:
        return "insufficient_data"
    if lift is None or adjusted_p >= alpha:
        return "inconclusive"
    if lift < 0:
        return "loser"
    return "inconclusive" if guardrails_failed else "winner"


def has_enough_data(enrolled: int, conversions: int) -> bool:
    return enrolled >= MIN_ENROLLED and conversions >= MIN_CONVERSIONS
