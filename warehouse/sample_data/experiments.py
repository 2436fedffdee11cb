"""The planted experiments on the busiest workflows: their rows, the per-experiment columns the
event synthesis reads (variant shares and conversion probabilities) and the manifest entries
with the true lift and the expected winner."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warehouse.sample_data.catalog import DAY_MS, iso
from warehouse.sample_data.workflows import Workflows

MAX_VARIANTS = 4
# (workflow rank, name, variant shares, design, window as fractions of the days)
EXPERIMENT_SPECS = (
    (1, "Subject line test", {"control": 0.5, "treatment": 0.5}, "winner", (0.15, 0.60)),
    (2, "Send time test", {"control": 0.5, "treatment": 0.5}, "none", (0.25, 0.80)),
    (3, "SMS reminder holdout", {"control": 0.7, "treatment": 0.3}, "loser", (0.50, 1.00)),
)
DESIGNS = {"winner": "treatment converts clearly better",
           "none": "no real difference between variants",
           "loser": "treatment converts worse"}


def experiment_workflows(busiest: list[int]) -> list[int]:
    """The workflows that run an experiment (those whose rank exists)."""
    return [busiest[k] for k, *_ in EXPERIMENT_SPECS if k < len(busiest)]


@dataclass
class Experiments:
    rows: list[dict]
    manifest: list[dict]
    ids: list[str]
    first_day: np.ndarray
    end_day: np.ndarray  # exclusive
    cum_share: np.ndarray  # [n_exp, MAX_VARIANTS]
    p: np.ndarray  # [n_exp, MAX_VARIANTS]
    variant: np.ndarray  # [n_exp, MAX_VARIANTS] object
    wf_exp: np.ndarray  # per workflow: experiment index or -1

    def fields(self) -> dict:
        """The Catalog's experiment fields."""
        return dict(
            experiment_rows=self.rows, exp_manifest=self.manifest,
            exp_ids=np.array(self.ids, dtype=object), exp_first_day=self.first_day,
            exp_end_day=self.end_day, exp_cum_share=self.cum_share, exp_p=self.p,
            exp_variant=self.variant, wf_exp=self.wf_exp)


def build_experiments(wfs: Workflows, busiest: list[int], start_ms: int, days: int
                      ) -> Experiments:
    specs = [s for s in EXPERIMENT_SPECS if s[0] < wfs.n]
    n_exp = len(specs)
    out = Experiments(
        rows=[], manifest=[], ids=[], first_day=np.zeros(n_exp, np.int64),
        end_day=np.zeros(n_exp, np.int64), cum_share=np.ones((n_exp, MAX_VARIANTS)),
        p=np.zeros((n_exp, MAX_VARIANTS)), variant=np.full((n_exp, MAX_VARIANTS), "", dtype=object),
        wf_exp=np.full(wfs.n, -1, np.int64))
    for e, (k, name, variants, design, (f0, f1)) in enumerate(specs):
        w = busiest[k]
        probs = _conversion(design, float(wfs.base_p_goal[w]))
        d0, d1 = _window(days, f0, f1)
        exp_id = f"exp_{e + 1:03d}"
        started_at = iso(start_ms + d0 * DAY_MS)
        ended_at = iso(start_ms + d1 * DAY_MS) if d1 < days else None
        row = {"experiment_id": exp_id, "workflow_id": wfs.ids[w], "name": name,
               "started_at": started_at, "ended_at": ended_at, "control_variant": "control",
               "variants": dict(variants)}
        out.rows.append(row)
        out.manifest.append(_manifest_entry(row, wfs.account_ids[w], probs, design))
        out.ids.append(exp_id)
        names = list(variants)
        out.variant[e, :len(names)] = names
        out.cum_share[e, :len(names)] = np.cumsum([variants[v] for v in names])
        out.cum_share[e, len(names) - 1:] = 1.0
        out.p[e, :len(names)] = [probs[v] for v in names]
        out.first_day[e], out.end_day[e] = d0, d1
        out.wf_exp[w] = e
    return out


def _conversion(design: str, base: float) -> dict[str, float]:
    """Each variant's conversion probability: the treatment clearly better, the same or
    worse than the control."""
    if design == "winner":
        treatment = base + max(0.06, 0.3 * base)
    elif design == "none":
        treatment = base
    else:
        treatment = max(0.02, base - max(0.04, 0.2 * base))
    return {"control": base, "treatment": treatment}


def _window(days: int, f0: float, f1: float) -> tuple[int, int]:
    """First and end (exclusive) day: at least one day, within the window."""
    d0 = min(days - 1, int(round(days * f0)))
    d1 = max(d0 + 1, min(days, int(round(days * f1))))
    return d0, d1


def _manifest_entry(row: dict, account_id: str, probs: dict[str, float], design: str) -> dict:
    return {
        "experiment_id": row["experiment_id"], "workflow_id": row["workflow_id"],
        "account_id": account_id, "name": row["name"], "started_at": row["started_at"],
        "ended_at": row["ended_at"], "control_variant": "control", "variants": row["variants"],
        "conversion_probability": {v: round(p, 6) for v, p in probs.items()},
        "true_lift": round(probs["treatment"] - probs["control"], 6),
        "expected_winner": "treatment" if design == "winner" else (
            "control" if design == "loser" else None),
        "design": DESIGNS[design],
    }
