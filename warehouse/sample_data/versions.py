"""Workflow versions: how many each workflow has, when it is upgraded and what the upgrade
changes (the manifest's version upgrades), with the version columns the synthesis reads."""

from __future__ import annotations

import datetime as dt

import numpy as np

from warehouse.sample_data.catalog import WAIT
from warehouse.sample_data.steps import Step, StepTable, layout, set_wait, upgrade, wait_hours
from warehouse.sample_data.workflows import Workflows

UPGRADE_DESCRIPTIONS = {"speed": "wait step shortened to a quarter",
                        "conversion": "SMS reminder added before the goal; higher conversion"}


class VersionTable:
    """One entry per version, in order per workflow."""

    def __init__(self) -> None:
        self.wf: list[int] = []
        self.num: list[int] = []
        self.first_day: list[int] = []
        self.p_goal: list[float] = []
        self.p_exit: list[float] = []
        self.step_off: list[int] = []
        self.n_steps: list[int] = []
        self.wait_pos: list[int] = []

    def add(self, w: int, num: int, first_day: int, p_goal: float, p_exit: float,
            step_off: int, steps: list[Step]) -> None:
        self.wf.append(w)
        self.num.append(num)
        self.first_day.append(first_day)
        self.p_goal.append(p_goal)
        self.p_exit.append(p_exit)
        self.step_off.append(step_off)
        self.n_steps.append(len(steps))
        self.wait_pos.append(next(i for i, s in enumerate(steps) if s.step_type == WAIT))

    def fields(self, days: int, n_wf: int) -> dict:
        """The Catalog's version fields, with the version live on each day."""
        v_wf = np.array(self.wf, np.int64)
        v_first = np.array(self.first_day, np.int64)
        version_on_day = np.full((days, n_wf), -1, np.int64)
        for vi in range(len(v_wf)):
            version_on_day[v_first[vi]:, v_wf[vi]] = vi  # versions are in order per workflow
        return dict(
            v_wf=v_wf, v_num=np.array(self.num, np.int64), v_first_day=v_first,
            v_p_goal=np.array(self.p_goal), v_p_exit=np.array(self.p_exit),
            v_step_off=np.array(self.step_off, np.int64),
            v_n_steps=np.array(self.n_steps, np.int64),
            v_wait_pos=np.array(self.wait_pos, np.int64), version_on_day=version_on_day)


def build_versions(rng: np.random.Generator, wfs: Workflows, forced: dict[int, str],
                   single: set[int], start: dt.date, days: int
                   ) -> tuple[VersionTable, StepTable, list[dict]]:
    """Every workflow's versions and steps, and the upgrades between them. `forced` gives the
    first upgrade's effect for some workflows; those in `single` keep one version."""
    versions, steps_table, upgrades = VersionTable(), StepTable(), []
    for w in range(wfs.n):
        steps = layout(rng)
        if forced.get(w) == "speed":  # a long wait, so that shortening it shows
            set_wait(steps, 48.0)
        wanted = _versions_wanted(rng, w, wfs, forced, single)
        up_days = _upgrade_days(rng, wanted, *_upgrade_range(wfs, w, days))
        p_goal = float(wfs.base_p_goal[w])
        p_exit = float(rng.uniform(0.03, 0.08))
        for vn in range(1, len(up_days) + 2):
            if vn > 1:
                effect = forced[w] if vn == 2 and w in forced else None
                steps, p_goal, change = _next_version(rng, steps, p_goal, effect)
                upgrades.append({
                    "workflow_id": wfs.ids[w], "account_id": wfs.account_ids[w],
                    "from_version": vn - 1, "to_version": vn,
                    "date": (start + dt.timedelta(days=up_days[vn - 2])).isoformat(), **change})
            versions.add(w, vn, 0 if vn == 1 else up_days[vn - 2], p_goal, p_exit,
                         len(steps_table), steps)
            steps_table.add_version(wfs.ids[w], vn, steps, wfs.fail_mult[w])
    return versions, steps_table, upgrades


def _versions_wanted(rng: np.random.Generator, w: int, wfs: Workflows, forced: dict[int, str],
                     single: set[int]) -> int:
    if w in single or wfs.status[w] == "draft":
        return 1
    if w in forced:
        return 2
    return int(rng.choice([1, 2, 3], p=(0.5, 0.35, 0.15)))


def _upgrade_range(wfs: Workflows, w: int, days: int) -> tuple[int, int]:
    """First and last day an upgrade may fall on: a week into the workflow's live period and a
    week before its end, clear of the window's edges."""
    lo = max(max(3, days // 6), int(wfs.first_day[w]) + 7)
    hi = min(days - max(3, days // 6), int(wfs.last_day[w]) - 7)
    return lo, hi


def _upgrade_days(rng: np.random.Generator, wanted: int, lo: int, hi: int) -> list[int]:
    """The days of the upgrades (as many as fit: three versions need 20 days between lo and
    hi, the upgrades 10 days apart)."""
    if hi <= lo:
        return []
    if wanted == 3 and hi - lo < 20:
        wanted = 2
    if wanted == 2:
        return [int(rng.integers(lo, hi + 1))]
    if wanted == 3:
        u1 = int(rng.integers(lo, hi - 9))
        return [u1, int(rng.integers(u1 + 10, hi + 1))]
    return []


def _next_version(rng: np.random.Generator, steps: list[Step], p_goal: float,
                  effect: str | None) -> tuple[list[Step], float, dict]:
    """The upgraded steps and conversion probability, and what changed (for the manifest).
    Without a forced effect, a wait of 12 hours or more is shortened half of the time."""
    old_wait = wait_hours(steps)
    if effect is None:
        effect = "speed" if rng.random() < 0.5 and old_wait >= 12 else "conversion"
    old_p = p_goal
    steps = upgrade(steps, effect)
    if effect == "conversion":
        p_goal = min(0.6, p_goal * float(rng.uniform(1.3, 1.5)))
        before, after, metric = old_p, p_goal, "conversion_probability"
    else:
        before, metric = old_wait * 3600.0, "wait_seconds"
        after = max(1.0, old_wait / 4) * 3600.0
    return steps, p_goal, {"effect": effect, "metric": metric, "before": round(before, 6),
                           "after": round(after, 6),
                           "description": UPGRADE_DESCRIPTIONS[effect]}
