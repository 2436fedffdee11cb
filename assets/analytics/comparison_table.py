"""marts.version_comparison: each workflow version against the one before it, and each
workflow's last 28 days against the 28 days before, on conversion, completion, error rate and
median duration."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from assets.analytics.arms import OUTCOMES, Arm, expand, proportions
from assets.experiments import duration_worse
from warehouse.analytics_contract import column_names

PERIOD_DAYS = 28
ALPHA = 0.05
COLUMNS = column_names("version_comparison")  # the contract: warehouse/analytics_contract.py
# enrolled_at to the UTC day: the periods compared are whole UTC days
SQL = f"""select account_id, workflow_id, workflow_version, enrolled_date as enrolled_at, status,
                 executions, durations
          from {OUTCOMES}"""
# metric -> (count attribute, higher is better)
PROPORTIONS = {"conversion_rate": ("conversions", True), "completion_rate": ("completions", True),
               "error_rate": ("errors", False)}


def compare_arms(base: Arm, cand: Arm) -> list[dict]:
    """One row per metric; `chance_to_win` and the verdict read 'better' as the good direction."""
    rows = []
    for metric, (attr, higher_better) in PROPORTIONS.items():
        b, c = getattr(base, attr), getattr(cand, attr)
        s = proportions(b, base.enrolled, c, cand.enrolled)
        p = s.get("p_value")
        lift, win = s.get("lift"), s.get("chance_to_win")
        rows.append({"metric": metric, "baseline_n": base.enrolled, "candidate_n": cand.enrolled,
                     "baseline_value": base.rate(b), "candidate_value": cand.rate(c),
                     "lift": lift, "ci_low": s.get("ci_low"), "ci_high": s.get("ci_high"),
                     "p_value": p,
                     "chance_to_win": None if win is None else (win if higher_better else 1 - win),
                     **_verdict(p, lift, higher_better)})
    p = duration_worse(base.durations, cand.durations)[1] if len(base.durations) > 1 else None
    mb, mc = base.median_duration, cand.median_duration
    lift = mc / mb - 1 if mb and mc is not None else None
    rows.append({"metric": "median_duration_seconds", "baseline_n": len(base.durations),
                 "candidate_n": len(cand.durations), "baseline_value": mb, "candidate_value": mc,
                 "lift": lift, "ci_low": None, "ci_high": None, "p_value": p,
                 "chance_to_win": None, **_verdict(p, lift, False)})
    return rows


def _verdict(p: float | None, lift: float | None, higher_better: bool) -> dict:
    significant = p is not None and lift is not None and p < ALPHA
    if not significant:
        return {"significant": False, "verdict": "no_difference"}
    return {"significant": True,
            "verdict": "better" if (lift > 0) == higher_better else "worse"}


def comparison_rows(outcomes: pd.DataFrame) -> pd.DataFrame:
    """`outcomes`: rows of SQL (fct_execution_outcomes)."""
    now, rows = dt.datetime.now(dt.timezone.utc), []
    executions = expand(outcomes)
    executions = executions.assign(enrolled_at=pd.to_datetime(executions["enrolled_at"], utc=True))
    end = executions["enrolled_at"].max()
    if pd.isna(end):
        return pd.DataFrame(columns=list(COLUMNS))
    cut = end.normalize() + pd.Timedelta(days=1) - pd.Timedelta(days=PERIOD_DAYS)
    start = cut - pd.Timedelta(days=PERIOD_DAYS)
    for (account, workflow), frame in executions.groupby(["account_id", "workflow_id"]):
        pairs = []
        versions = sorted(frame["workflow_version"].dropna().unique())
        for old, new in zip(versions, versions[1:]):
            pairs.append(("version", f"v{old}", f"v{new}",
                          frame[frame["workflow_version"] == old],
                          frame[frame["workflow_version"] == new]))
        before = frame[(frame["enrolled_at"] >= start) & (frame["enrolled_at"] < cut)]
        after = frame[frame["enrolled_at"] >= cut]
        if len(before) and len(after):
            pairs.append(("period", f"{start.date()}..{(cut - pd.Timedelta(days=1)).date()}",
                          f"{cut.date()}..{end.date()}", before, after))
        for kind, base_label, cand_label, base, cand in pairs:
            for row in compare_arms(Arm.of(base), Arm.of(cand)):
                rows.append({"workflow_id": workflow, "account_id": account, "comparison": kind,
                             "baseline": base_label, "candidate": cand_label,
                             "computed_at": now, **row})
    return pd.DataFrame(rows, columns=list(COLUMNS))
