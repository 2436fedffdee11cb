"""marts.experiment_results: each experiment's variants against its control."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from assets.analytics.arms import OUTCOMES, Arm, expand, guardrails, proportions
from assets.experiments import decide, has_enough_data, holm, srm_p_value
from warehouse.analytics_contract import column_names

COLUMNS = column_names("experiment_results")  # the contract: warehouse/analytics_contract.py
EXPERIMENTS_SQL = """select experiment_id, workflow_id, name, control_variant, variants
                     from raw.experiments"""
EXECUTIONS_SQL = f"""select experiment_id, variant, status, executions, durations
                     from {OUTCOMES} where experiment_id is not null"""


def experiment_rows(experiments: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """`outcomes`: rows of EXECUTIONS_SQL (fct_execution_outcomes)."""
    now, rows = dt.datetime.now(dt.timezone.utc), []
    executions = expand(outcomes)
    for exp in experiments.itertuples(index=False):
        shares = exp.variants if isinstance(exp.variants, dict) else json.loads(exp.variants)
        mine = executions[executions["experiment_id"] == exp.experiment_id]
        arms = {name: Arm.of(mine[mine["variant"] == name]) for name in shares}
        srm = srm_p_value({k: a.enrolled for k, a in arms.items()}, shares)
        control = arms[exp.control_variant]
        variants = [v for v in shares if v != exp.control_variant]
        stats = {v: proportions(control.conversions, control.enrolled, arms[v].conversions,
                                arms[v].enrolled) for v in variants}
        adjusted = dict(zip(variants, holm([stats[v].get("p_value", 1.0) for v in variants])))
        for v in variants:
            arm, s = arms[v], stats[v]
            failed, detail = guardrails(control, arm)
            enough = has_enough_data(arm.enrolled, arm.conversions) and has_enough_data(
                control.enrolled, control.conversions)
            rows.append({
                "experiment_id": exp.experiment_id, "workflow_id": exp.workflow_id,
                "experiment_name": exp.name, "variant": v, "control_variant": exp.control_variant,
                "enrolled": arm.enrolled, "conversions": arm.conversions,
                "conversion_rate": arm.rate(arm.conversions),
                "control_enrolled": control.enrolled, "control_conversions": control.conversions,
                "control_conversion_rate": control.rate(control.conversions),
                "lift": s.get("lift"), "lift_ci_low": s.get("ci_low"),
                "lift_ci_high": s.get("ci_high"), "p_value": s.get("p_value"),
                "p_value_holm": adjusted[v] if s else None,
                "chance_to_beat_control": s.get("chance_to_win"),
                "credible_low": s.get("credible_low"), "credible_high": s.get("credible_high"),
                "srm_p_value": srm, "error_rate": arm.rate(arm.errors),
                "control_error_rate": control.rate(control.errors),
                "error_rate_p_value": detail.get("error_rate_p_value"),
                "median_duration_seconds": arm.median_duration,
                "control_median_duration_seconds": control.median_duration,
                "duration_p_value": detail.get("duration_p_value"),
                "guardrail_failed": ",".join(failed) or None,
                "decision": decide(srm_p=srm, enough_data=enough, adjusted_p=adjusted[v],
                                   lift=s.get("lift"), guardrails_failed=failed),
                "computed_at": now,
            })
    return pd.DataFrame(rows, columns=list(COLUMNS))
