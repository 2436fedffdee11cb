"""Users of the product and their user.activity events.

Each user has a first-activity day, an engagement level that decays towards a floor (some
churn outright), fewer sessions at weekends, and sessions of several actions that start with a
login during local business hours. Users are generated in batches until their activity reaches
the requested number of events; every account gets an admin (its first user) whatever the size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warehouse.sample_data.catalog import DAY_MS, HOUR_MS, Catalog, iso
from warehouse.sample_data.lines import Batch, mix48

ACTIONS = np.array(["login", "view_dashboard", "edit_workflow", "publish_workflow", "export",
                    "view_report"], dtype=object)
ROLES = ("admin", "editor", "viewer")
ROLE_P = (0.1, 0.5, 0.4)
# Per role, the mix of the actions after the login (ACTIONS[1:]).
ROLE_ACTION_CDF = np.cumsum([[0.35, 0.25, 0.10, 0.10, 0.20],
                             [0.30, 0.35, 0.12, 0.05, 0.18],
                             [0.55, 0.00, 0.00, 0.10, 0.35]], axis=1)
ROLE_ACTION_CDF[:, -1] = 1.0
ROLE_ENGAGEMENT = np.array([1.2, 1.0, 0.7])
ACTION_MEDIAN_MS = np.log([2_000, 45_000, 240_000, 5_000, 12_000, 90_000])
ACTION_SIGMA = np.array([0.4, 0.9, 0.8, 0.5, 0.6, 0.8])
RESOURCES = np.array([
    ["app", "app", "app", "app"],
    ["dashboard:overview", "dashboard:workflows", "dashboard:costs", "dashboard:errors"],
    ["", "", "", ""],  # edit_workflow: a workflow of the account
    ["", "", "", ""],  # publish_workflow: a workflow of the account
    ["export:executions_csv", "export:report_pdf", "export:costs_csv", "export:executions_csv"],
    ["report:weekly_performance", "report:funnel", "report:costs", "report:errors"],
], dtype=object)
WORK_HOURS = np.array([0.05, 0.02, 0.02, 0.02, 0.02, 0.05, 0.2, 0.6, 1.2, 1.5, 1.5, 1.3,
                       1.0, 1.3, 1.5, 1.4, 1.2, 0.8, 0.5, 0.4, 0.35, 0.3, 0.2, 0.1])
WORK_CDF = np.cumsum(WORK_HOURS) / WORK_HOURS.sum()
WEEKEND_FACTOR = 0.3
BATCH = 64


@dataclass
class Activity:
    user_rows: list[dict]
    day: np.ndarray  # day offset of each event's session (events sorted by it)
    t: np.ndarray
    acc: np.ndarray
    user: np.ndarray  # object: user ids
    session: np.ndarray
    action: np.ndarray
    resource: np.ndarray
    duration: np.ndarray

    def batch(self, day: int) -> Batch:
        lo, hi = np.searchsorted(self.day, [day, day + 1])
        s = slice(lo, hi)
        return Batch("user.activity", self.t[s], self.acc[s], [
            self.user[s], self.session[s], ACTIONS[self.action[s]], self.resource[s],
            self.duration[s]])

    def __len__(self) -> int:
        return len(self.t)


def _grouped_exclusive_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    first = np.cumsum(counts) - counts
    cs = np.cumsum(values)
    return cs - values - np.repeat(cs[first] - values[first], counts)


def build_activity(cat: Catalog, rng: np.random.Generator, target: int, salt: int) -> Activity:
    n_acc = cat.n_accounts
    weekday = np.array([cat.day_date(d).weekday() for d in range(cat.days)])
    day_factor = np.where(weekday >= 5, WEEKEND_FACTOR, 1.0)
    acc_weight = _account_weights(cat)
    user_rows: list[dict] = []
    parts: list[tuple] = []
    total = 0
    session_base = 0
    k0 = 0
    while total < target or k0 < n_acc:
        users = _draw_users(rng, cat, k0, acc_weight, day_factor)
        acts = _draw_actions(rng, cat, users)
        keep = acts.t < cat.end_ms
        per_user = np.bincount(acts.user[keep], minlength=BATCH)

        # keep users until the activity reaches the target (admins are always kept)
        cum = total + np.cumsum(per_user)
        reached = np.nonzero(cum >= target)[0]
        if total >= target:
            last = -1
        else:
            last = int(reached[0]) if len(reached) else BATCH - 1
        with_activity = np.arange(BATCH) <= last
        keep &= with_activity[acts.user]
        total += int(per_user[with_activity].sum())

        idx = np.nonzero(keep)[0]
        parts.append((acts.day[idx], acts.t[idx], acts.acc[idx], users.k[acts.user[idx]] + 1,
                      session_base + acts.session[idx], acts.action[idx], acts.resource[idx],
                      acts.duration[idx]))
        session_base += acts.n_sessions
        user_rows += _user_rows(cat, users, with_activity | users.admin)
        k0 += BATCH
        if len(reached) and k0 >= n_acc:
            break
    return _sorted_by_day(user_rows, parts, salt)


@dataclass
class _Users:
    """A batch of BATCH candidate users, numbered k (the first n_accounts are the admins)."""
    k: np.ndarray
    admin: np.ndarray
    acc: np.ndarray
    role: np.ndarray
    first: np.ndarray  # day of the first activity
    active: np.ndarray  # [BATCH, days]: active that day
    existing: np.ndarray  # created before the window
    created_back: np.ndarray  # days before the window, for existing users
    created_recent: np.ndarray  # hours before the first activity, for the others


@dataclass
class _Actions:
    """The candidate users' actions within their sessions (session numbers from 0)."""
    user: np.ndarray  # index into the batch
    day: np.ndarray
    t: np.ndarray
    acc: np.ndarray
    session: np.ndarray
    action: np.ndarray
    resource: np.ndarray
    duration: np.ndarray
    n_sessions: int


def _account_weights(cat: Catalog) -> np.ndarray:
    """Share of the non-admin users per account: by its number of workflows and its plan."""
    plan_weight = {"free": 0.7, "pro": 1.3, "enterprise": 2.0}
    weight = np.bincount(cat.wf_account, minlength=cat.n_accounts) * np.array(
        [plan_weight[p] for p in cat.acc_plan])
    return weight / weight.sum()


def _draw_users(rng: np.random.Generator, cat: Catalog, k0: int, acc_weight: np.ndarray,
                day_factor: np.ndarray) -> _Users:
    """Users k0.. with the days they are active: engagement that decays from the first day
    towards a floor, fewer sessions at weekends; some are dormant, some churn."""
    days, n_acc = cat.days, cat.n_accounts
    k = np.arange(k0, k0 + BATCH)
    admin = k < n_acc
    acc = np.where(admin, np.minimum(k, n_acc - 1), rng.choice(n_acc, BATCH, p=acc_weight))
    role = np.where(admin, 0, rng.choice(3, BATCH, p=ROLE_P))
    dormant = ~admin & (rng.random(BATCH) < 0.12)
    early = rng.random(BATCH) < 0.4
    first = np.where(early, rng.integers(0, min(7, days), BATCH),
                     rng.integers(0, days, BATCH))
    engagement = np.minimum(0.95, (0.1 + 0.9 * rng.beta(2, 3, BATCH))
                            * ROLE_ENGAGEMENT[role])
    tau = rng.uniform(4, 30, BATCH)
    floor = rng.uniform(0.15, 0.6, BATCH)
    churn = np.where(rng.random(BATCH) < 0.25,
                     first + 1 + rng.exponential(20, BATCH).astype(np.int64), days)
    d = np.arange(days)[None, :]
    rel = d - first[:, None]
    p = engagement[:, None] * (floor[:, None] + (1 - floor[:, None]) * np.exp(
        -np.maximum(rel, 0) / tau[:, None])) * day_factor[None, :]
    p = np.where(rel == 0, 1.0, p)
    p = np.where((rel < 0) | (d >= churn[:, None]) | dormant[:, None], 0.0, p)
    active = rng.random((BATCH, days)) < p
    existing = admin | dormant | (early & (rng.random(BATCH) < 0.8))
    created_back = rng.uniform(1, 300, BATCH)
    created_recent = rng.uniform(0, 36, BATCH)
    return _Users(k, admin, acc, role, first, active, existing, created_back, created_recent)


def _draw_actions(rng: np.random.Generator, cat: Catalog, users: _Users) -> _Actions:
    """Sessions on the active days, starting with a login in local business hours, then
    actions by the user's role, each followed by some thinking time."""
    ui, di = np.nonzero(users.active)
    n_sess = 1 + rng.poisson(0.4, len(ui))
    s_user, s_day = np.repeat(ui, n_sess), np.repeat(di, n_sess)
    n_s = len(s_user)
    hour = np.searchsorted(WORK_CDF, rng.random(n_s), side="right")
    local = hour * HOUR_MS + (rng.random(n_s) * HOUR_MS).astype(np.int64)
    s_acc = users.acc[s_user]
    s_start = cat.start_ms + s_day * DAY_MS + (local - cat.acc_tz_min[s_acc] * 60_000) % DAY_MS
    n_act = 1 + rng.poisson(3.5, n_s)
    a_sess = np.repeat(np.arange(n_s), n_act)
    n_a = len(a_sess)
    pos = np.arange(n_a) - np.repeat(np.cumsum(n_act) - n_act, n_act)
    a_role = users.role[s_user[a_sess]]
    later = 1 + (rng.random(n_a)[:, None] >= ROLE_ACTION_CDF[a_role]).sum(axis=1)
    action = np.where(pos == 0, 0, np.minimum(later, len(ACTIONS) - 1))
    dur = np.clip(np.exp(ACTION_MEDIAN_MS[action] + ACTION_SIGMA[action]
                         * rng.standard_normal(n_a)), 300, 1_800_000).astype(np.int64)
    think = np.clip(np.exp(np.log(15_000) + rng.standard_normal(n_a)), 500,
                    600_000).astype(np.int64)
    t = s_start[a_sess] + _grouped_exclusive_cumsum(dur + think, n_act)
    a_acc = s_acc[a_sess]
    return _Actions(user=s_user[a_sess], day=s_day[a_sess], t=t, acc=a_acc, session=a_sess,
                    action=action, resource=_resources(rng, cat, action, a_acc), duration=dur,
                    n_sessions=n_s)


def _resources(rng: np.random.Generator, cat: Catalog, action: np.ndarray, acc: np.ndarray
               ) -> np.ndarray:
    """What each action is on: a page or report, or one of the account's workflows."""
    wf_off = np.searchsorted(cat.wf_account, np.arange(cat.n_accounts))
    wf_cnt = np.bincount(cat.wf_account, minlength=cat.n_accounts)
    resource = RESOURCES[action, rng.integers(0, 4, len(action))]
    on_wf = (action == 2) | (action == 3)
    wf_pick = wf_off[acc] + (rng.random(len(action)) * wf_cnt[acc]).astype(np.int64)
    return np.where(on_wf, cat.wf_ids[wf_pick], resource)


def _user_rows(cat: Catalog, users: _Users, kept: np.ndarray) -> list[dict]:
    """Rows of the kept users. An admin is as old as the account; other users existed before
    the window or were created hours before their first activity (never before their
    account)."""
    rows = []
    for b in np.nonzero(kept)[0]:
        a = int(users.acc[b])
        if users.admin[b]:
            created = int(cat.acc_created_ms[a])
        elif users.existing[b]:
            created = max(int(cat.acc_created_ms[a]) + DAY_MS,
                          cat.start_ms - int(users.created_back[b] * DAY_MS))
        else:
            created = (cat.start_ms + int(users.first[b]) * DAY_MS
                       - int(users.created_recent[b] * HOUR_MS))
            created = max(created, int(cat.acc_created_ms[a]) + DAY_MS)
        rows.append({"user_id": f"usr_{int(users.k[b]) + 1:05d}",
                     "account_id": cat.acc_ids[a], "role": ROLES[int(users.role[b])],
                     "created_at": iso(created)})
    return rows


def _sorted_by_day(user_rows: list[dict], parts: list[tuple], salt: int) -> Activity:
    cols = [np.concatenate([p[i] for p in parts]) for i in range(8)]
    order = np.argsort(cols[0], kind="stable")
    day, t, acc, user_num, session, action, resource, dur = (c[order] for c in cols)
    session_ids = mix48(session.astype(np.uint64), salt)
    user_ids = np.array([f"usr_{u:05d}" for u in range(int(user_num.max(initial=0)) + 1)],
                        dtype=object)[user_num]
    return Activity(user_rows, day, t, acc, user_ids, session_ids, action,
                    resource.astype(object), dur)
