"""Experiment statistics against numbers derived by hand and through scipy directly."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from assets.analytics.experiment_table import experiment_rows
from assets.experiments import (
    compare_proportions,
    decide,
    duration_worse,
    error_rate_worse,
    holm,
    srm_p_value,
)


def test_compare_proportions_matches_hand_computed_welch_and_delta_method():
    r = compare_proportions(100, 1000, 130, 1000)
    # p_c = 0.1, p_t = 0.13; Var = p(1-p)/n: 9e-5 and 1.131e-4
    assert r["control_rate"] == 0.1 and r["treatment_rate"] == 0.13
    assert r["t"] ** 2 == pytest.approx(0.03 ** 2 / 2.031e-4, rel=1e-12)
    df = 2.031e-4 ** 2 / ((9e-5 ** 2 + 1.131e-4 ** 2) / 999)
    assert r["df"] == pytest.approx(df, rel=1e-12)
    assert r["lift"] == pytest.approx(0.3, rel=1e-12)
    # delta method: 1.131e-4 / 0.1^2 + 0.13^2 * 9e-5 / 0.1^4 = 0.01131 + 0.01521
    assert r["lift_se"] ** 2 == pytest.approx(0.02652, rel=1e-12)
    q = stats.t.ppf(0.975, df)
    assert r["ci_low"] == pytest.approx(0.3 - q * math.sqrt(0.02652), rel=1e-12)
    assert r["ci_high"] == pytest.approx(0.3 + q * math.sqrt(0.02652), rel=1e-12)
    # the same test through scipy: Welch on summary statistics with sd = sqrt(p(1-p))
    welch = stats.ttest_ind_from_stats(0.13, math.sqrt(0.13 * 0.87), 1000,
                                       0.1, math.sqrt(0.1 * 0.9), 1000, equal_var=False)
    assert r["p_value"] == pytest.approx(welch.pvalue, rel=1e-10)
    assert 0.03 < r["p_value"] < 0.04
    # normal posterior on the lift: P(lift > 0) = Phi(0.3 / se)
    z = 0.3 / math.sqrt(0.02652)
    assert r["chance_to_win"] == pytest.approx(0.5 * (1 + math.erf(z / math.sqrt(2))), rel=1e-12)
    assert r["credible_low"] == pytest.approx(0.3 - 1.959963984540054 * math.sqrt(0.02652))


def test_unequal_arms_use_welch_satterthwaite_degrees_of_freedom():
    r = compare_proportions(30, 200, 90, 1000)
    welch = stats.ttest_ind_from_stats(0.09, math.sqrt(0.09 * 0.91), 1000,
                                       0.15, math.sqrt(0.15 * 0.85), 200, equal_var=False)
    assert r["p_value"] == pytest.approx(welch.pvalue, rel=1e-10)
    assert r["lift"] == pytest.approx(0.09 / 0.15 - 1)
    assert r["lift"] < 0 and r["chance_to_win"] < 0.5


def test_srm_fires_on_a_skewed_split_and_not_on_a_fair_one():
    # chi-square = 2 * 500^2 / 5000 = 100 with one degree of freedom
    skewed = srm_p_value({"control": 5500, "treatment": 4500}, {"control": 0.5, "treatment": 0.5})
    assert skewed == pytest.approx(math.erfc(math.sqrt(100 / 2)), rel=1e-6)
    assert skewed < 0.001
    # 5020 / 4980: chi-square 0.16, p = erfc(sqrt(0.08)) = 0.6892
    fair = srm_p_value({"control": 5020, "treatment": 4980}, {"control": 0.5, "treatment": 0.5})
    assert fair == pytest.approx(math.erfc(math.sqrt(0.08)), rel=1e-9)
    # a 70/30 design is fair at 700/300 and skewed at 500/500
    assert srm_p_value({"control": 700, "treatment": 300}, {"control": 0.7, "treatment": 0.3}) == 1.0
    assert srm_p_value({"control": 500, "treatment": 500}, {"control": 0.7, "treatment": 0.3}) < 1e-6


def test_holm_adjusts_step_down_and_keeps_monotonicity():
    # sorted 0.01, 0.03, 0.04: 3*0.01 = 0.03, 2*0.03 = 0.06, max(0.06, 1*0.04) = 0.06
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([0.02]) == [0.02]


def test_guardrails_error_rate_and_duration():
    worse, p = error_rate_worse(20, 1000, 60, 1000)
    assert worse and p < 0.001
    assert not error_rate_worse(60, 1000, 20, 1000)[0]  # better is not a failed guardrail
    fast = np.linspace(50, 150, 300)
    slow = fast + 40
    worse, p = duration_worse(fast, slow)
    assert worse and p == pytest.approx(stats.mannwhitneyu(slow, fast).pvalue)
    assert not duration_worse(slow, fast)[0]


@pytest.mark.parametrize("kwargs, expected", [
    (dict(srm_p=0.0001, enough_data=True, adjusted_p=0.001, lift=0.2, guardrails_failed=[]),
     "srm_failed"),
    (dict(srm_p=0.5, enough_data=False, adjusted_p=0.001, lift=0.2, guardrails_failed=[]),
     "insufficient_data"),
    (dict(srm_p=0.5, enough_data=True, adjusted_p=0.001, lift=0.2, guardrails_failed=[]), "winner"),
    (dict(srm_p=0.5, enough_data=True, adjusted_p=0.001, lift=-0.2, guardrails_failed=[]), "loser"),
    (dict(srm_p=0.5, enough_data=True, adjusted_p=0.2, lift=0.2, guardrails_failed=[]),
     "inconclusive"),
    (dict(srm_p=0.5, enough_data=True, adjusted_p=0.001, lift=0.2,
          guardrails_failed=["error_rate"]), "inconclusive"),
])
def test_decisions(kwargs, expected):
    assert decide(**kwargs) == expected


def _arm(experiment: str, variant: str, n: int, converted: int, errors: int,
         duration: float) -> pd.DataFrame:
    """Rows as marts.fct_execution_outcomes holds them: a count and durations per status."""
    counts = {"goal_achieved": converted, "error": errors, "exited": n - converted - errors}
    return pd.DataFrame([{"experiment_id": experiment, "variant": variant, "status": status,
                          "executions": count, "durations": [duration] * count}
                         for status, count in counts.items() if count])


def test_the_guardrail_blocks_a_better_converting_but_failing_variant_and_names_it():
    experiments = pd.DataFrame([
        {"experiment_id": "e1", "workflow_id": "w", "name": "failing", "control_variant": "a",
         "variants": {"a": 0.5, "b": 0.5}},
        {"experiment_id": "e2", "workflow_id": "w", "name": "clean", "control_variant": "a",
         "variants": {"a": 0.5, "b": 0.5}},
        {"experiment_id": "e3", "workflow_id": "w", "name": "skewed", "control_variant": "a",
         "variants": '{"a": 0.5, "b": 0.5}'},
        {"experiment_id": "e4", "workflow_id": "w", "name": "tiny", "control_variant": "a",
         "variants": {"a": 0.5, "b": 0.5}},
    ])
    executions = pd.concat([
        _arm("e1", "a", 1000, 100, 20, 60.0), _arm("e1", "b", 1000, 160, 80, 60.0),
        _arm("e2", "a", 1000, 100, 20, 60.0), _arm("e2", "b", 1000, 160, 20, 60.0),
        _arm("e3", "a", 1200, 100, 20, 60.0), _arm("e3", "b", 800, 160, 20, 60.0),
        _arm("e4", "a", 40, 10, 0, 60.0), _arm("e4", "b", 40, 20, 0, 60.0),
    ])
    rows = experiment_rows(experiments, executions).set_index("experiment_id")
    assert rows.loc["e1", "decision"] == "inconclusive"
    assert rows.loc["e1", "guardrail_failed"] == "error_rate"
    assert rows.loc["e2", "decision"] == "winner" and pd.isna(rows.loc["e2", "guardrail_failed"])
    assert rows.loc["e3", "decision"] == "srm_failed"
    assert rows.loc["e4", "decision"] == "insufficient_data"
    e2 = rows.loc["e2"]
    assert (e2["enrolled"], e2["conversions"], e2["control_enrolled"]) == (1000, 160, 1000)
    assert e2["conversion_rate"] == pytest.approx(16.0) and e2["lift"] == pytest.approx(0.6)
    assert e2["p_value_holm"] == pytest.approx(e2["p_value"])  # one variant: nothing to adjust
