"""The product's reference data: accounts, workflows with their versions and steps, experiments.

Besides the rows of the reference tables, the catalog holds, as numpy arrays indexed by
account, workflow, version and (global) step number, everything the vectorised event synthesis
needs: traffic shares, step durations, failure and conversion probabilities, and the planted
anomalies, version upgrades and experiments that the manifest reports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

DAY_MS = 86_400_000
HOUR_MS = 3_600_000

STEP_TYPES = ("trigger", "action", "condition", "wait", "goal")
TRIGGER, ACTION, CONDITION, WAIT, GOAL = range(5)

ACTION_TYPES = ("send_email", "send_sms", "http_request", "update_contact", "create_task",
                "slack_message")
ERROR_TYPES = ("validation_error", "api_timeout", "network_error", "authentication_error",
               "data_processing_error", "resource_exhaustion", "configuration_error",
               "external_service_error")
ERROR_MESSAGES = {
    "validation_error": ("Invalid email address for contact", "Required field phone is empty",
                         "Payload failed schema validation"),
    "api_timeout": ("Upstream API did not respond within 30000 ms",
                    "Request timed out after 30 s"),
    "network_error": ("Connection reset by peer", "DNS lookup failed for upstream host",
                      "TLS handshake failed"),
    "authentication_error": ("OAuth token expired", "API key rejected with 401 Unauthorized"),
    "data_processing_error": ("Could not parse contact property value",
                              "Template rendering failed: unknown merge field"),
    "resource_exhaustion": ("Rate limit exceeded (429)", "Daily sending quota exhausted"),
    "configuration_error": ("Sender domain is not verified",
                            "Integration is disconnected or misconfigured"),
    "external_service_error": ("Provider returned 503 Service Unavailable",
                               "Provider returned 500 Internal Server Error"),
}
# Per action type: probability of each error type (in ERROR_TYPES order) when the step fails.
ERROR_MIX = {
    "send_email": (0.40, 0.00, 0.15, 0.00, 0.00, 0.00, 0.15, 0.30),
    "send_sms": (0.35, 0.00, 0.15, 0.00, 0.00, 0.15, 0.00, 0.35),
    "http_request": (0.00, 0.35, 0.20, 0.20, 0.00, 0.00, 0.00, 0.25),
    "update_contact": (0.50, 0.00, 0.00, 0.00, 0.40, 0.10, 0.00, 0.00),
    "create_task": (0.40, 0.00, 0.00, 0.00, 0.30, 0.00, 0.30, 0.00),
    "slack_message": (0.00, 0.00, 0.30, 0.40, 0.00, 0.00, 0.00, 0.30),
}
# Per action type: base failure probability, median duration (ms), log-sd, credit options.
ACTION_PROFILE = {
    "send_email": (0.012, 450.0, 0.7, (1, 1, 1, 2)),
    "send_sms": (0.022, 700.0, 0.6, (2, 2, 3, 5)),
    "http_request": (0.045, 1200.0, 1.0, (1, 1, 2, 0.5)),
    "update_contact": (0.008, 120.0, 0.5, (1, 1, 1, 0.5)),
    "create_task": (0.006, 180.0, 0.5, (1, 1, 1, 1)),
    "slack_message": (0.015, 350.0, 0.6, (0.5, 0.5, 1, 1)),
}
CREDIT_VALUES = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0])
CREDIT_TEXT = np.array(["0", "0.5", "1", "1.5", "2", "3", "5"], dtype=object)
ACTION_NAMES = {
    "send_email": ("Send welcome email", "Send follow-up email", "Send case study email",
                   "Send reminder email", "Send offer email"),
    "send_sms": ("Send SMS reminder", "Send SMS offer"),
    "http_request": ("Sync contact to CRM", "Call enrichment API", "Post to webhook"),
    "update_contact": ("Update lifecycle stage", "Tag contact", "Set lead score"),
    "create_task": ("Create sales task", "Create onboarding task"),
    "slack_message": ("Notify sales in Slack", "Alert team channel"),
}
CONDITION_NAMES = ("If email opened", "If lead score above 50", "If country is US",
                   "If trial is active", "If cart value above 100")
GOAL_NAMES = ("Goal: demo booked", "Goal: purchase made", "Goal: trial converted",
              "Goal: meeting scheduled", "Goal: subscription renewed")
TRIGGER_TYPES = ("form_submission", "contact_created", "tag_added", "list_joined", "webhook",
                 "schedule", "deal_stage_changed", "page_visited")
WORKFLOW_NAMES = ("Welcome series", "Lead nurture", "Trial onboarding", "Abandoned cart",
                  "Re-engagement", "Webinar follow-up", "Renewal reminder", "NPS survey",
                  "Demo booking", "Upsell campaign", "Failed payment dunning",
                  "Event registration", "Win-back", "Product feedback", "Referral program")
ACCOUNT_NAMES = ("Acme Corp", "Globex", "Initech", "Umbrella Health", "Stark Logistics",
                 "Wayne Retail", "Hooli", "Soylent Foods", "Vandelay Imports",
                 "Wonka Confections", "Tyrell Systems", "Cyberdyne Labs", "Massive Dynamic",
                 "Aperture Science", "Pied Piper", "Oscorp", "Nakatomi Trading",
                 "Monarch Travel", "Gringotts Finance", "Dunder Mifflin")
# IANA zone and its UTC offset in minutes during the default window (Aug-Oct).
TIMEZONES = (("America/New_York", -240), ("Europe/Berlin", 120), ("America/Los_Angeles", -420),
             ("Europe/London", 60), ("Asia/Tokyo", 540), ("Australia/Sydney", 600),
             ("America/Sao_Paulo", -180), ("Asia/Kolkata", 330), ("UTC", 0))
PLANS = ("free", "pro", "enterprise")
PLAN_PRICE_PER_CREDIT = {"free": 0.0040, "pro": 0.0030, "enterprise": 0.0022}
WAIT_OPTIONS_H = (1, 4, 12, 24, 48, 72)
WAIT_WEIGHTS = (0.15, 0.15, 0.20, 0.25, 0.15, 0.10)
# Relative enrolment volume by weekday, Monday first.
WEEKDAY_FACTOR = np.array([1.0, 1.05, 1.05, 1.0, 0.95, 0.45, 0.40])
GROWTH = 0.30  # volume grows by this share over the window
# Local-time enrolment profile by hour of day.
DIURNAL = np.array([0.20, 0.15, 0.10, 0.10, 0.10, 0.15, 0.30, 0.60, 1.00, 1.30, 1.40, 1.40,
                    1.30, 1.35, 1.40, 1.30, 1.20, 1.00, 0.80, 0.70, 0.60, 0.50, 0.40, 0.30])

ERROR_SPIKE_FACTOR = 8.0
COST_SPIKE_FACTOR = 10.0
TRAFFIC_DROP_FACTOR = 0.2


def iso(ms: int) -> str:
    """UTC ISO 8601 with a Z, to the second (reference tables)."""
    moment = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=int(ms))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def day_ms(start: dt.date, day: int) -> int:
    return (start - dt.date(1970, 1, 1)).days * DAY_MS + day * DAY_MS


def offset_text(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


@dataclass
class Step:
    step_type: int
    action: str | None = None
    branch: bool = False
    name: str = ""
    wait_h: float = 0.0


@dataclass
class Catalog:
    start: dt.date
    days: int
    start_ms: int
    end_ms: int
    # accounts
    account_rows: list[dict]
    acc_ids: np.ndarray
    acc_plan: list[str]
    acc_tz_min: np.ndarray
    acc_alt_off_min: np.ndarray  # offset used when an event is written in local time
    acc_alt_off_text: np.ndarray
    acc_price: np.ndarray
    acc_created_ms: np.ndarray
    # workflows
    workflow_rows: list[dict]
    wf_ids: np.ndarray
    wf_num: np.ndarray
    wf_account: np.ndarray
    wf_rank: np.ndarray
    wf_share: np.ndarray
    wf_first_day: np.ndarray
    wf_last_day: np.ndarray  # exclusive
    wf_created_ms: np.ndarray
    wf_p_branch: np.ndarray
    wf_trigger: np.ndarray
    wf_goal_id: np.ndarray
    wf_value_mu: np.ndarray
    wf_exp: np.ndarray  # experiment index or -1
    # versions
    v_wf: np.ndarray
    v_num: np.ndarray
    v_first_day: np.ndarray
    v_p_goal: np.ndarray
    v_p_exit: np.ndarray
    v_step_off: np.ndarray
    v_n_steps: np.ndarray
    v_wait_pos: np.ndarray
    version_on_day: np.ndarray  # [days, n_wf] global version index
    # steps (global index)
    step_rows: list[dict]
    s_id: np.ndarray
    s_type: np.ndarray
    s_action: np.ndarray  # index into ACTION_TYPES or -1
    s_branch: np.ndarray
    s_wait_ms: np.ndarray
    s_mu: np.ndarray
    s_sigma: np.ndarray
    s_min: np.ndarray
    s_max: np.ndarray
    s_p_fail: np.ndarray
    s_credit_opts: np.ndarray  # [n_steps, 4] codes into CREDIT_VALUES
    # experiments
    experiment_rows: list[dict]
    exp_manifest: list[dict]
    exp_ids: np.ndarray
    exp_first_day: np.ndarray
    exp_end_day: np.ndarray  # exclusive
    exp_cum_share: np.ndarray  # [n_exp, 4]
    exp_p: np.ndarray  # [n_exp, 4]
    exp_variant: np.ndarray  # [n_exp, 4] object
    # planted facts
    upgrades: list[dict]
    anomalies: list[dict]
    error_spike: tuple[int, int, float]  # (workflow, day, factor)
    cost_spike: tuple[int, int, float]
    traffic_drop: tuple[int, int, float]
    # filled by the planner
    acc_contact_off: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    acc_contact_pool: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def n_accounts(self) -> int:
        return len(self.acc_ids)

    @property
    def n_workflows(self) -> int:
        return len(self.wf_ids)

    def day_date(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=int(day))


def n_accounts_for(events: int) -> int:
    return int(np.clip(round(5 * (max(events, 1) / 100_000) ** 0.3), 5, 20))


def anomaly_days(start: dt.date, days: int) -> tuple[int, int, int]:
    """Days (offsets from start) of the error spike, cost spike and traffic drop: at least 30
    days in when the window allows it, spread over the rest, on weekdays."""
    lo = 30 if days >= 45 else max(1, days // 2)
    hi = max(lo, days - 7)

    def weekday(day: int) -> int:
        while (start + dt.timedelta(days=day)).weekday() >= 5 and day + 1 < days:
            day += 1
        return min(day, days - 1)

    return (weekday(lo + round((hi - lo) * 0.2)), weekday(lo + round((hi - lo) * 0.5)),
            weekday(lo + round((hi - lo) * 0.8)))


def _layout(rng: np.random.Generator) -> list[Step]:
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
    steps.append(Step(WAIT, name=_wait_name(wait_h), wait_h=wait_h))
    steps.append(action())
    steps.append(Step(GOAL, name=GOAL_NAMES[rng.integers(len(GOAL_NAMES))]))
    return steps


def _wait_name(hours: float) -> str:
    if hours >= 24 and hours % 24 == 0:
        n = int(hours // 24)
        return f"Wait {n} day" + ("s" if n > 1 else "")
    n = int(hours)
    return f"Wait {n} hour" + ("s" if n > 1 else "")


def _upgrade(steps: list[Step], effect: str) -> list[Step]:
    """The next version's steps: 'speed' shortens the wait to a quarter, 'conversion' adds an
    SMS reminder before the goal."""
    new = [Step(s.step_type, s.action, s.branch, s.name, s.wait_h) for s in steps]
    if effect == "speed":
        for s in new:
            if s.step_type == WAIT:
                s.wait_h = max(1.0, s.wait_h / 4)
                s.name = _wait_name(s.wait_h)
    else:
        new.insert(len(new) - 1, Step(ACTION, "send_sms", False, "Send SMS reminder"))
    return new


def build_catalog(rng: np.random.Generator, *, events: int, days: int, start: dt.date
                  ) -> Catalog:
    start_ms = day_ms(start, 0)
    end_ms = start_ms + days * DAY_MS

    # accounts
    n_acc = n_accounts_for(events)
    acc_names = [ACCOUNT_NAMES[i % len(ACCOUNT_NAMES)] for i in range(n_acc)]
    plans = [PLANS[i] for i in rng.choice(3, size=n_acc, p=(0.3, 0.45, 0.25))]
    plans[0] = "enterprise"
    tz_idx = rng.integers(0, len(TIMEZONES), n_acc)
    acc_created_ms = start_ms - rng.integers(60, 900, n_acc) * DAY_MS - rng.integers(
        0, DAY_MS, n_acc)
    acc_tz = np.array([TIMEZONES[i][1] for i in tz_idx], dtype=np.int64)
    alt = np.where(acc_tz == 0, 60, acc_tz)
    account_rows = [
        {"account_id": f"acc_{i + 1:03d}", "name": acc_names[i], "plan": plans[i],
         "timezone": TIMEZONES[tz_idx[i]][0], "monthly_budget_usd": None,
         "created_at": iso(acc_created_ms[i])}
        for i in range(n_acc)
    ]

    # workflows
    per_acc = rng.integers(5, 11, n_acc)
    n_wf = int(per_acc.sum())
    wf_account = np.repeat(np.arange(n_acc), per_acc)
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
    for w in by_rank[6:-3]:  # a few workflows are created during the window
        if rng.random() < 0.12:
            first_day[w] = int(rng.integers(max(1, days // 6), max(2, days // 2)))
    share /= share.sum()

    wf_created_ms = np.empty(n_wf, np.int64)
    for w in range(n_wf):
        if first_day[w] > 0 and status[w] != "draft":
            wf_created_ms[w] = start_ms + first_day[w] * DAY_MS - int(rng.integers(1, 20)) * HOUR_MS
        else:
            a = wf_account[w]
            lo = acc_created_ms[a] + DAY_MS
            wf_created_ms[w] = int(rng.integers(lo, start_ms - DAY_MS))
    draft_rows = [w for w in range(n_wf) if status[w] == "draft"]
    for w in draft_rows:
        wf_created_ms[w] = start_ms + (days - 3) * DAY_MS + int(rng.integers(0, DAY_MS))

    wf_num = np.arange(1, n_wf + 1)
    wf_ids = np.array([f"wf_{k:04d}" for k in wf_num], dtype=object)
    wf_trigger = np.array([TRIGGER_TYPES[i] for i in rng.integers(0, len(TRIGGER_TYPES), n_wf)],
                          dtype=object)
    wf_p_branch = rng.uniform(0.4, 0.75, n_wf)
    wf_value_mu = np.log(rng.uniform(25, 150, n_wf))
    wf_goal_id = np.array([f"goal_{k:04d}" for k in wf_num], dtype=object)
    base_p_goal = rng.uniform(0.10, 0.35, n_wf)
    fail_mult = rng.uniform(0.6, 1.6, n_wf)
    names_used: dict[int, set] = {}
    workflow_rows = []
    for w in range(n_wf):
        a = int(wf_account[w])
        used = names_used.setdefault(a, set())
        name = WORKFLOW_NAMES[int(rng.integers(len(WORKFLOW_NAMES)))]
        while name in used:
            name = WORKFLOW_NAMES[int(rng.integers(len(WORKFLOW_NAMES)))]
        used.add(name)
        workflow_rows.append({
            "workflow_id": wf_ids[w], "account_id": account_rows[a]["account_id"],
            "name": name, "owner_user_id": None, "created_at": iso(wf_created_ms[w]),
            "status": status[w]})

    # anomalies and experiments go to the busiest workflows, so they are visible at any scale
    r = [int(w) for w in by_rank]
    error_day, cost_day, drop_day = anomaly_days(start, days)
    fail_mult[r[0]] = 1.6  # a visible baseline for the error spike to stand out from
    error_spike = (r[0], error_day, ERROR_SPIKE_FACTOR)
    cost_spike = (r[1], cost_day, COST_SPIKE_FACTOR)
    traffic_drop = (r[0], drop_day, TRAFFIC_DROP_FACTOR)

    exp_specs = [  # (rank, name, variants, p offsets, window fractions, ended)
        (1, "Subject line test", {"control": 0.5, "treatment": 0.5}, "winner", (0.15, 0.60)),
        (2, "Send time test", {"control": 0.5, "treatment": 0.5}, "none", (0.25, 0.80)),
        (3, "SMS reminder holdout", {"control": 0.7, "treatment": 0.3}, "loser", (0.50, 1.00)),
    ]
    exp_wfs = [r[k] for k, *_ in exp_specs if k < n_wf]
    for w in exp_wfs:
        base_p_goal[w] = rng.uniform(0.20, 0.30)

    # versions and upgrades
    forced = {r[k]: eff for k, eff in ((0, "speed"), (4, "conversion"), (5, "speed"))
              if k < n_wf}
    v_wf, v_num, v_first, v_pg, v_pe, v_off, v_n, v_wait = [], [], [], [], [], [], [], []
    step_rows: list[dict] = []
    s_cols: dict[str, list] = {k: [] for k in (
        "id", "type", "action", "branch", "wait", "mu", "sigma", "min", "max", "pf", "credits")}
    upgrades: list[dict] = []
    lo_up = max(3, days // 6)
    hi_up = days - max(3, days // 6)
    for w in range(n_wf):
        steps = _layout(rng)
        if forced.get(w) == "speed":  # a long wait, so that shortening it shows
            for s in steps:
                if s.step_type == WAIT:
                    s.wait_h, s.name = 48.0, _wait_name(48.0)
        if w in exp_wfs or status[w] == "draft":
            n_versions = 1
        elif w in forced:
            n_versions = 2
        else:
            n_versions = int(rng.choice([1, 2, 3], p=(0.5, 0.35, 0.15)))
        lo = max(lo_up, int(first_day[w]) + 7)
        hi = min(hi_up, int(last_day[w]) - 7)
        if hi <= lo:
            n_versions = 1
        elif n_versions == 3 and hi - lo < 20:
            n_versions = 2
        if n_versions == 2:
            up_days = [int(rng.integers(lo, hi + 1))]
        elif n_versions == 3:
            u1 = int(rng.integers(lo, hi - 9))
            up_days = [u1, int(rng.integers(u1 + 10, hi + 1))]
        else:
            up_days = []
        p_goal = float(base_p_goal[w])
        p_exit = float(rng.uniform(0.03, 0.08))
        for vn in range(1, n_versions + 1):
            if vn > 1:
                old_wait = next(s.wait_h for s in steps if s.step_type == WAIT)
                if vn == 2 and w in forced:
                    effect = forced[w]
                else:
                    effect = "speed" if rng.random() < 0.5 and old_wait >= 12 else "conversion"
                old_p = p_goal
                steps = _upgrade(steps, effect)
                if effect == "conversion":
                    p_goal = min(0.6, p_goal * float(rng.uniform(1.3, 1.5)))
                    before, after, metric = old_p, p_goal, "conversion_probability"
                else:
                    before, metric = old_wait * 3600.0, "wait_seconds"
                    after = max(1.0, old_wait / 4) * 3600.0
                upgrades.append({
                    "workflow_id": wf_ids[w], "account_id": account_rows[wf_account[w]][
                        "account_id"], "from_version": vn - 1, "to_version": vn,
                    "date": (start + dt.timedelta(days=up_days[vn - 2])).isoformat(),
                    "effect": effect, "metric": metric, "before": round(before, 6),
                    "after": round(after, 6),
                    "description": ("wait step shortened to a quarter" if effect == "speed"
                                    else "SMS reminder added before the goal; higher conversion"),
                })
            v_wf.append(w)
            v_num.append(vn)
            v_first.append(0 if vn == 1 else up_days[vn - 2])
            v_pg.append(p_goal)
            v_pe.append(p_exit)
            v_off.append(len(s_cols["id"]))
            v_n.append(len(steps))
            v_wait.append(next(i for i, s in enumerate(steps) if s.step_type == WAIT))
            for order, s in enumerate(steps, start=1):
                sid = f"{wf_ids[w]}_v{vn}_s{order:02d}"
                step_rows.append({
                    "workflow_id": wf_ids[w], "workflow_version": vn, "step_id": sid,
                    "step_order": order, "step_type": STEP_TYPES[s.step_type],
                    "step_name": s.name, "action_type": s.action})
                s_cols["id"].append(sid)
                s_cols["type"].append(s.step_type)
                s_cols["branch"].append(s.branch)
                s_cols["wait"].append(int(s.wait_h * HOUR_MS))
                if s.step_type == ACTION:
                    pf, med, sig, credits = ACTION_PROFILE[s.action]
                    s_cols["action"].append(ACTION_TYPES.index(s.action))
                    s_cols["mu"].append(np.log(med))
                    s_cols["sigma"].append(sig)
                    s_cols["min"].append(50)
                    s_cols["max"].append(30_000)
                    s_cols["pf"].append(pf * fail_mult[w])
                    s_cols["credits"].append([int(np.searchsorted(CREDIT_VALUES, c))
                                              for c in credits])
                else:
                    med = {TRIGGER: 20.0, CONDITION: 25.0, WAIT: 1.0, GOAL: 15.0}[s.step_type]
                    s_cols["action"].append(-1)
                    s_cols["mu"].append(np.log(med))
                    s_cols["sigma"].append(0.5)
                    s_cols["min"].append(2)
                    s_cols["max"].append(400)
                    s_cols["pf"].append(0.0)
                    s_cols["credits"].append([0, 0, 0, 0])

    v_wf_a = np.array(v_wf, np.int64)
    v_first_a = np.array(v_first, np.int64)
    version_on_day = np.full((days, n_wf), -1, np.int64)
    for vi in range(len(v_wf)):
        version_on_day[v_first_a[vi]:, v_wf_a[vi]] = vi  # versions are in order per workflow

    # experiments
    experiment_rows, exp_manifest = [], []
    n_exp = sum(1 for k, *_ in exp_specs if k < n_wf)
    exp_cum = np.ones((n_exp, 4))
    exp_p = np.zeros((n_exp, 4))
    exp_variant = np.full((n_exp, 4), "", dtype=object)
    exp_first = np.zeros(n_exp, np.int64)
    exp_end = np.zeros(n_exp, np.int64)
    wf_exp = np.full(n_wf, -1, np.int64)
    exp_ids = []
    for e, (k, name, variants, kind, (f0, f1)) in enumerate(s for s in exp_specs if s[0] < n_wf):
        w = r[k]
        base = float(base_p_goal[w])
        probs = {"control": base}
        if kind == "winner":
            probs["treatment"] = base + max(0.06, 0.3 * base)
        elif kind == "none":
            probs["treatment"] = base
        else:
            probs["treatment"] = max(0.02, base - max(0.04, 0.2 * base))
        d0 = min(days - 1, int(round(days * f0)))
        d1 = max(d0 + 1, min(days, int(round(days * f1))))
        ended = d1 < days
        exp_id = f"exp_{e + 1:03d}"
        exp_ids.append(exp_id)
        started_at = iso(start_ms + d0 * DAY_MS)
        ended_at = iso(start_ms + d1 * DAY_MS) if ended else None
        experiment_rows.append({
            "experiment_id": exp_id, "workflow_id": wf_ids[w], "name": name,
            "started_at": started_at, "ended_at": ended_at, "control_variant": "control",
            "variants": variants})
        names = list(variants)
        exp_variant[e, :len(names)] = names
        exp_cum[e, :len(names)] = np.cumsum([variants[v] for v in names])
        exp_cum[e, len(names) - 1:] = 1.0
        exp_p[e, :len(names)] = [probs[v] for v in names]
        exp_first[e], exp_end[e] = d0, d1
        wf_exp[w] = e
        lift = probs["treatment"] - probs["control"]
        exp_manifest.append({
            "experiment_id": exp_id, "workflow_id": wf_ids[w],
            "account_id": account_rows[wf_account[w]]["account_id"], "name": name,
            "started_at": started_at, "ended_at": ended_at, "control_variant": "control",
            "variants": variants,
            "conversion_probability": {v: round(p, 6) for v, p in probs.items()},
            "true_lift": round(lift, 6),
            "expected_winner": "treatment" if kind == "winner" else (
                "control" if kind == "loser" else None),
            "design": {"winner": "treatment converts clearly better",
                       "none": "no real difference between variants",
                       "loser": "treatment converts worse"}[kind],
        })

    anomalies = []
    for kind, (w, day, factor), metric, description in (
            ("error_rate_spike", error_spike, "step_failure_rate",
             "action steps fail this many times as often as usual, on that UTC day"),
            ("cost_spike", cost_spike, "cost_usd",
             "cost_usd of the workflow's step events multiplied by this, on that UTC day"),
            ("traffic_drop", traffic_drop, "enrollments",
             "enrolments are this share of the workflow's typical weekday (down 80%)")):
        anomalies.append({
            "kind": kind, "account_id": account_rows[wf_account[w]]["account_id"],
            "workflow_id": wf_ids[w], "metric": metric,
            "date": (start + dt.timedelta(days=day)).isoformat(), "magnitude": factor,
            "day_offset": int(day), "description": description})

    credits = np.array(s_cols["credits"], np.int64)
    return Catalog(
        start=start, days=days, start_ms=start_ms, end_ms=end_ms,
        account_rows=account_rows,
        acc_ids=np.array([a["account_id"] for a in account_rows], dtype=object),
        acc_plan=plans, acc_tz_min=acc_tz, acc_alt_off_min=alt.astype(np.int64),
        acc_alt_off_text=np.array([offset_text(int(m)) for m in alt], dtype=object),
        acc_price=np.array([PLAN_PRICE_PER_CREDIT[p] for p in plans]),
        acc_created_ms=acc_created_ms.astype(np.int64),
        workflow_rows=workflow_rows, wf_ids=wf_ids, wf_num=wf_num, wf_account=wf_account,
        wf_rank=rank, wf_share=share, wf_first_day=first_day, wf_last_day=last_day,
        wf_created_ms=wf_created_ms, wf_p_branch=wf_p_branch, wf_trigger=wf_trigger,
        wf_goal_id=wf_goal_id, wf_value_mu=wf_value_mu, wf_exp=wf_exp,
        v_wf=v_wf_a, v_num=np.array(v_num, np.int64), v_first_day=v_first_a,
        v_p_goal=np.array(v_pg), v_p_exit=np.array(v_pe), v_step_off=np.array(v_off, np.int64),
        v_n_steps=np.array(v_n, np.int64), v_wait_pos=np.array(v_wait, np.int64),
        version_on_day=version_on_day,
        step_rows=step_rows, s_id=np.array(s_cols["id"], dtype=object),
        s_type=np.array(s_cols["type"], np.int64), s_action=np.array(s_cols["action"], np.int64),
        s_branch=np.array(s_cols["branch"], bool), s_wait_ms=np.array(s_cols["wait"], np.int64),
        s_mu=np.array(s_cols["mu"]), s_sigma=np.array(s_cols["sigma"]),
        s_min=np.array(s_cols["min"], np.float64), s_max=np.array(s_cols["max"], np.float64),
        s_p_fail=np.array(s_cols["pf"]), s_credit_opts=credits,
        experiment_rows=experiment_rows, exp_manifest=exp_manifest,
        exp_ids=np.array(exp_ids, dtype=object), exp_first_day=exp_first, exp_end_day=exp_end,
        exp_cum_share=exp_cum, exp_p=exp_p, exp_variant=exp_variant,
        upgrades=upgrades, anomalies=anomalies, error_spike=error_spike, cost_spike=cost_spike,
        traffic_drop=traffic_drop,
    )


def enrollment_weights(cat: Catalog, rng: np.random.Generator) -> np.ndarray:
    """Expected relative enrolment volume per [day, workflow]: workflow share x weekday x
    growth x a little day-to-day noise; zero outside a workflow's live period; the planted
    traffic drop applied."""
    days = cat.days
    d = np.arange(days)
    weekday = np.array([cat.day_date(i).weekday() for i in d])
    growth = 1.0 + GROWTH * d / max(days - 1, 1)
    noise = np.exp(rng.normal(0.0, 0.05, days))
    daily = WEEKDAY_FACTOR[weekday] * growth * noise
    lam = daily[:, None] * cat.wf_share[None, :]
    live = (d[:, None] >= cat.wf_first_day[None, :]) & (d[:, None] < cat.wf_last_day[None, :])
    lam = np.where(live, lam, 0.0)
    w, day, factor = cat.traffic_drop
    lam[day, w] *= factor
    return lam / lam.sum()
