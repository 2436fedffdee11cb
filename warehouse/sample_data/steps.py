"""A workflow version's steps: their layout, how an upgrade changes them, and the step table
(the workflow_steps rows and the per-step columns the event synthesis reads)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warehouse.sample_data.catalog import (
    ACTION,
    ACTION_NAMES,
    ACTION_PROFILE,
    ACTION_TYPES,
    CONDITION,
    CONDITION_NAMES,
    CREDIT_VALUES,
    GOAL,
    GOAL_NAMES,
    HOUR_MS,
    STEP_TYPES,
    TRIGGER,
    WAIT,
    WAIT_OPTIONS_H,
    WAIT_WEIGHTS,
)

# Median duration (ms) of the steps that are not actions.
CONTROL_STEP_MEDIAN_MS = {TRIGGER: 20.0, CONDITION: 25.0, WAIT: 1.0, GOAL: 15.0}


@dataclass
class Step:
    step_type: int
    action: str | None = None
    branch: bool = False
    name: str = ""
    wait_h: float = 0.0


def layout(rng: np.random.Generator) -> list[Step]:
    """A version's linear list of steps: trigger, actions, a condition and its branch, a wait,
    a follow-up action, the goal check."""
    used: set[str] = set()

    def action(branch: bool = False) -> Step:
        kind = ACTION_TYPES[rng.choice(len(ACTION_TYPES), p=(0.38, 0.1, 0.17, 0.17, 0.1, 0.08))]
        names = ACTION_NAMES[kind]
        name = names[rng.integers(len(names))]
        if name in used:  # step names are distinct within a version
            name = next((n for n in names if n not in used), f"{name} ({len(used) + 1})")
        used.add(name)
        return Step(ACTION, kind, branch, name)

    steps = [Step(TRIGGER, name="Trigger")]
    steps += [action() for _ in range(rng.integers(1, 3))]
    steps.append(Step(CONDITION, name=CONDITION_NAMES[rng.integers(len(CONDITION_NAMES))]))
    steps += [action(branch=True) for _ in range(rng.integers(1, 3))]
    wait_h = float(WAIT_OPTIONS_H[rng.choice(len(WAIT_OPTIONS_H), p=WAIT_WEIGHTS)])
    steps.append(Step(WAIT, name=wait_name(wait_h), wait_h=wait_h))
    steps.append(action())
    steps.append(Step(GOAL, name=GOAL_NAMES[rng.integers(len(GOAL_NAMES))]))
    return steps


def wait_name(hours: float) -> str:
    if hours >= 24 and hours % 24 == 0:
        n = int(hours // 24)
        return f"Wait {n} day" + ("s" if n > 1 else "")
    n = int(hours)
    return f"Wait {n} hour" + ("s" if n > 1 else "")


def set_wait(steps: list[Step], hours: float) -> None:
    for s in steps:
        if s.step_type == WAIT:
            s.wait_h, s.name = hours, wait_name(hours)


def wait_hours(steps: list[Step]) -> float:
    return next(s.wait_h for s in steps if s.step_type == WAIT)


def upgrade(steps: list[Step], effect: str) -> list[Step]:
    """The next version's steps: 'speed' shortens the wait to a quarter, 'conversion' adds an
    SMS reminder before the goal."""
    new = [Step(s.step_type, s.action, s.branch, s.name, s.wait_h) for s in steps]
    if effect == "speed":
        set_wait(new, max(1.0, wait_hours(new) / 4))
    else:
        new.insert(len(new) - 1, Step(ACTION, "send_sms", False, "Send SMS reminder"))
    return new


class StepTable:
    """Every version's steps in one global order: the workflow_steps rows and the columns the
    event synthesis indexes by global step number."""

    COLUMNS = ("id", "type", "action", "branch", "wait", "mu", "sigma", "min", "max", "pf",
               "credits")

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.cols: dict[str, list] = {k: [] for k in self.COLUMNS}

    def __len__(self) -> int:
        return len(self.cols["id"])

    def add_version(self, workflow_id: str, version: int, steps: list[Step],
                    fail_mult: float) -> None:
        for order, s in enumerate(steps, start=1):
            sid = f"{workflow_id}_v{version}_s{order:02d}"
            self.rows.append({
                "workflow_id": workflow_id, "workflow_version": version, "step_id": sid,
                "step_order": order, "step_type": STEP_TYPES[s.step_type],
                "step_name": s.name, "action_type": s.action})
            profile = {"id": sid, "type": s.step_type, "branch": s.branch,
                       "wait": int(s.wait_h * HOUR_MS), **_profile(s, fail_mult)}
            for key in self.COLUMNS:
                self.cols[key].append(profile[key])

    def fields(self) -> dict:
        """The Catalog's step fields."""
        c = self.cols
        return dict(
            step_rows=self.rows, s_id=np.array(c["id"], dtype=object),
            s_type=np.array(c["type"], np.int64), s_action=np.array(c["action"], np.int64),
            s_branch=np.array(c["branch"], bool), s_wait_ms=np.array(c["wait"], np.int64),
            s_mu=np.array(c["mu"]), s_sigma=np.array(c["sigma"]),
            s_min=np.array(c["min"], np.float64), s_max=np.array(c["max"], np.float64),
            s_p_fail=np.array(c["pf"]), s_credit_opts=np.array(c["credits"], np.int64))


def _profile(s: Step, fail_mult: float) -> dict:
    """Duration distribution, failure probability and credit options of one step."""
    if s.step_type == ACTION:
        pf, med, sig, credits = ACTION_PROFILE[s.action]
        return {"action": ACTION_TYPES.index(s.action), "mu": np.log(med), "sigma": sig,
                "min": 50, "max": 30_000, "pf": pf * fail_mult,
                "credits": [int(np.searchsorted(CREDIT_VALUES, c)) for c in credits]}
    return {"action": -1, "mu": np.log(CONTROL_STEP_MEDIAN_MS[s.step_type]), "sigma": 0.5,
            "min": 2, "max": 400, "pf": 0.0, "credits": [0, 0, 0, 0]}
