"""Two groups of executions compared on conversion, completion, error rate and duration."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from assets.experiments import compare_proportions, duration_worse, error_rate_worse

DONE = ("completed", "goal_achieved")
# The executions as marts.fct_execution_outcomes keeps them (a count and the durations per group
# of executions alike): it outlives fct_executions, whose rows go with the detail.
OUTCOMES = "marts.fct_execution_outcomes"


def expand(groups: pd.DataFrame) -> pd.DataFrame:
    """One row per execution from rows of fct_execution_outcomes (`executions`, `durations`):
    each group's columns repeated, its durations spread over its executions (NaN for those
    without one), which is all an Arm reads of an execution."""
    counts = groups["executions"].astype(int).to_numpy()
    out = groups.drop(columns=["executions", "durations"]).iloc[
        np.repeat(np.arange(len(groups)), counts)].reset_index(drop=True)
    durations = [np.concatenate([np.asarray(d or [], dtype=float),
                                 np.full(n - len(d or []), np.nan)])
                 for d, n in zip(groups["durations"], counts)]
    out["duration_seconds"] = np.concatenate(durations) if durations else np.array([], float)
    return out


@dataclass
class Arm:
    enrolled: int
    conversions: int
    completions: int
    errors: int
    durations: np.ndarray  # of the executions that completed or converted

    @classmethod
    def of(cls, executions: pd.DataFrame) -> "Arm":
        status = executions["status"]
        done = executions[status.isin(DONE)]
        return cls(enrolled=len(executions), conversions=int((status == "goal_achieved").sum()),
                   completions=len(done), errors=int((status == "error").sum()),
                   durations=done["duration_seconds"].dropna().to_numpy(dtype=float))

    def rate(self, count: int) -> float | None:
        return 100.0 * count / self.enrolled if self.enrolled else None

    @property
    def median_duration(self) -> float | None:
        return float(np.median(self.durations)) if len(self.durations) else None


def proportions(control: int, control_n: int, treatment: int, treatment_n: int) -> dict:
    if control_n < 2 or treatment_n < 2:
        return {}
    return compare_proportions(control, control_n, treatment, treatment_n)


def guardrails(control: Arm, treatment: Arm) -> tuple[list[str], dict]:
    """The guardrails the treatment breaks: a significantly higher error rate, a significantly
    longer duration (Mann-Whitney)."""
    failed, detail = [], {}
    if control.enrolled >= 2 and treatment.enrolled >= 2:
        worse, p = error_rate_worse(control.errors, control.enrolled, treatment.errors,
                                    treatment.enrolled)
        detail["error_rate_p_value"] = p
        if worse:
            failed.append("error_rate")
    worse, p = duration_worse(control.durations, treatment.durations)
    detail["duration_p_value"] = p
    if worse:
        failed.append("median_duration")
    return failed, detail
