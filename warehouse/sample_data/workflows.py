"""The workflows: owner account, traffic share, live period (a few are paused, created during
the window or still drafts), creation time, name and the per-workflow parameters of the
event synthesis."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warehouse.sample_data.accounts import Accounts
from warehouse.sample_data.catalog import DAY_MS, HOUR_MS, TRIGGER_TYPES, WORKFLOW_NAMES, iso


@dataclass
class Lifecycle:
    rank: np.ndarray  # 0 for the busiest workflow
    share: np.ndarray  # of all enrolments
    first_day: np.ndarray
    last_day: np.ndarray  # exclusive
    status: list[str]


@dataclass
class Workflows:
    account: np.ndarray  # account index
    account_ids: list[str]
    life: Lifecycle
    created_ms: np.ndarray
    num: np.ndarray
    ids: np.ndarray
    trigger: np.ndarray
    p_branch: np.ndarray
    value_mu: np.ndarray
    goal_id: np.ndarray
    base_p_goal: np.ndarray  # conversion probability of the first version
    fail_mult: np.ndarray  # scales the action steps' failure probability
    rows: list[dict]

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def status(self) -> list[str]:
        return self.life.status

    @property
    def first_day(self) -> np.ndarray:
        return self.life.first_day

    @property
    def last_day(self) -> np.ndarray:
        return self.life.last_day

    def busiest(self) -> list[int]:
        """Workflow indexes, busiest first."""
        return [int(w) for w in np.argsort(self.life.rank)]

    def fields(self) -> dict:
        """The Catalog's workflow fields (all but the experiment index)."""
        life = self.life
        return dict(
            workflow_rows=self.rows, wf_ids=self.ids, wf_num=self.num, wf_account=self.account,
            wf_rank=life.rank, wf_share=life.share, wf_first_day=life.first_day,
            wf_last_day=life.last_day, wf_created_ms=self.created_ms, wf_p_branch=self.p_branch,
            wf_trigger=self.trigger, wf_goal_id=self.goal_id, wf_value_mu=self.value_mu)


def build_workflows(rng: np.random.Generator, accounts: Accounts, days: int, start_ms: int
                    ) -> Workflows:
    """5 to 10 workflows per account."""
    n_acc = len(accounts.rows)
    per_acc = rng.integers(5, 11, n_acc)
    n_wf = int(per_acc.sum())
    account = np.repeat(np.arange(n_acc), per_acc)
    life = _lifecycle(rng, n_wf, days)
    created_ms = _created_ms(rng, life, account, accounts.created_ms, start_ms, days)
    num = np.arange(1, n_wf + 1)
    ids = np.array([f"wf_{k:04d}" for k in num], dtype=object)
    trigger = np.array([TRIGGER_TYPES[i] for i in rng.integers(0, len(TRIGGER_TYPES), n_wf)],
                       dtype=object)
    p_branch = rng.uniform(0.4, 0.75, n_wf)
    value_mu = np.log(rng.uniform(25, 150, n_wf))
    goal_id = np.array([f"goal_{k:04d}" for k in num], dtype=object)
    base_p_goal = rng.uniform(0.10, 0.35, n_wf)
    fail_mult = rng.uniform(0.6, 1.6, n_wf)
    account_ids = [accounts.rows[a]["account_id"] for a in account]
    rows = [{"workflow_id": ids[w], "account_id": account_ids[w], "name": name,
             "owner_user_id": None, "created_at": iso(created_ms[w]), "status": life.status[w]}
            for w, name in enumerate(_names(rng, account))]
    return Workflows(account, account_ids, life, created_ms, num, ids, trigger, p_branch,
                     value_mu, goal_id, base_p_goal, fail_mult, rows)


def _lifecycle(rng: np.random.Generator, n_wf: int, days: int) -> Lifecycle:
    """Ranks in a random order with Zipf traffic shares; the least busy workflow is a draft
    (no traffic), the next one is paused during the window, and a few of the middle ranks
    are created during it."""
    rank = np.empty(n_wf, np.int64)
    rank[rng.permutation(n_wf)] = np.arange(n_wf)
    share = 1.0 / (rank + 1.0)
    first_day = np.zeros(n_wf, np.int64)
    last_day = np.full(n_wf, days, np.int64)
    status = ["active"] * n_wf
    by_rank = np.argsort(rank)
    if n_wf >= 12:
        draft = by_rank[-1]
        status[draft] = "draft"
        share[draft] = 0.0
        first_day[draft] = days
    if n_wf >= 10:
        paused = by_rank[-2]
        status[paused] = "paused"
        last_day[paused] = int(rng.integers(days // 2, max(days // 2 + 1, int(days * 0.85))))
    for w in by_rank[6:-3]:
        if rng.random() < 0.12:
            first_day[w] = int(rng.integers(max(1, days // 6), max(2, days // 2)))
    share /= share.sum()
    return Lifecycle(rank, share, first_day, last_day, status)


def _created_ms(rng: np.random.Generator, life: Lifecycle, account: np.ndarray,
                acc_created_ms: np.ndarray, start_ms: int, days: int) -> np.ndarray:
    """Before the window (after the account), hours before the first live day for those
    created during it, in the last three days for drafts."""
    n_wf = len(account)
    created = np.empty(n_wf, np.int64)
    for w in range(n_wf):
        if life.first_day[w] > 0 and life.status[w] != "draft":
            created[w] = start_ms + life.first_day[w] * DAY_MS - int(rng.integers(1, 20)) * HOUR_MS
        else:
            lo = acc_created_ms[account[w]] + DAY_MS
            created[w] = int(rng.integers(lo, start_ms - DAY_MS))
    for w in (w for w in range(n_wf) if life.status[w] == "draft"):
        created[w] = start_ms + (days - 3) * DAY_MS + int(rng.integers(0, DAY_MS))
    return created


def _names(rng: np.random.Generator, account: np.ndarray) -> list[str]:
    """A name per workflow, distinct within its account."""
    used_by_account: dict[int, set] = {}
    names = []
    for a in account:
        used = used_by_account.setdefault(int(a), set())
        name = WORKFLOW_NAMES[int(rng.integers(len(WORKFLOW_NAMES)))]
        while name in used:
            name = WORKFLOW_NAMES[int(rng.integers(len(WORKFLOW_NAMES)))]
        used.add(name)
        names.append(name)
    return names
