"""The product's reference data: accounts, workflows with their versions and steps, experiments
(built by catalog_builder.build_catalog), and the vocabularies and profiles they draw from.

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
