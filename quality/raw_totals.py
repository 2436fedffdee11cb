"""Totals computed straight from raw.events (and the reference snapshots), never from staging,
intermediate or the marts: the other side of every reconciliation.

They re-derive each figure from the event contract and docs/metrics.md (an execution's status and
ended_at by precedence of its events, a step entered on its first event, costs on their event's
day). Computed once per validation run and per group, in three passes over raw.events, so that
twelve marts do not scan the events twelve times.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import psycopg
from psycopg.rows import dict_row

from quality import raw_cache
from quality.window import Window

STEP_OUTCOME = "e.event_type in ('step.completed', 'step.failed')"
CREDITS = "coalesce((e.properties ->> 'credits')::numeric, 0)"
COST = "coalesce((e.properties ->> 'cost_usd')::numeric, 0)"
WORK_MEM = "256MB"


def events_sql(w: Window) -> str:
    """One pass, grouped by account (few groups, so a hash aggregate): the per-event figures."""
    day = w.times("e.occurred_at")
    return f"""
select e.account_id,
  count(*) filter (where e.event_type = 'step.completed') as step_completions_all,
  count(*) filter (where e.event_type = 'step.failed') as step_failures_all,
  coalesce(sum({CREDITS}) filter (where {STEP_OUTCOME}), 0) as credits_all,
  coalesce(sum({COST}) filter (where {STEP_OUTCOME}), 0) as cost_all,
  coalesce(sum({CREDITS}) filter (where {STEP_OUTCOME} and {day}), 0) as credits,
  coalesce(sum({COST}) filter (where {STEP_OUTCOME} and {day}), 0) as cost_usd,
  count(*) filter (where a.step_id is not null and e.event_type = 'step.completed' and {day})
    as action_completions,
  count(*) filter (where a.step_id is not null and e.event_type = 'step.failed' and {day})
    as action_failures,
  coalesce(sum({CREDITS}) filter (where a.step_id is not null and {STEP_OUTCOME} and {day}), 0)
    as action_credits,
  coalesce(sum({COST}) filter (where a.step_id is not null and {STEP_OUTCOME} and {day}), 0)
    as action_cost,
  count(*) filter (where e.event_type = 'step.failed' and {day}) as step_failure_events,
  count(*) filter (where e.event_type = 'user.activity' and {day}) as actions,
  count(*) filter (where e.event_type = 'user.activity' and e.properties ->> 'action' = 'login'
                   and {day}) as logins,
  coalesce(sum((e.properties ->> 'duration_ms')::numeric)
           filter (where e.event_type = 'user.activity' and {day}), 0) / 1000 as active_seconds,
  count(distinct e.user_id) filter (where e.event_type = 'user.activity') as users,
  count(distinct e.contact_id) filter (where e.event_type = 'execution.enrolled') as contacts,
  count(distinct e.workflow_id) filter (where e.event_type = 'execution.enrolled')
    as workflows_enrolled,
  count(distinct e.execution_id) filter (where e.event_type = 'execution.enrolled')
    as enrolled_executions
from raw.events e
left join (select workflow_id, workflow_version, step_id from raw.workflow_steps
           where step_type = 'action') a
  on a.workflow_id = e.workflow_id and a.workflow_version = e.workflow_version
 and a.step_id = e.step_id and e.event_type in ('step.completed', 'step.failed')
group by e.account_id"""


def executions_sql(w: Window) -> str:
    """Per execution, from its execution-level events (and whether a step of it failed)."""
    return f"""
with times as (
  select execution_id,
    bool_or(event_type <> 'step.failed') as has_execution_event,
    bool_or(event_type = 'step.failed') as has_step_failure,
    count(*) filter (where event_type = 'execution.failed' and {w.times('occurred_at')})
      as failure_events,
    min(occurred_at) filter (where event_type = 'execution.enrolled') as enrolled_at,
    min(occurred_at) filter (where event_type = 'goal.achieved') as goal_at,
    min(occurred_at) filter (where event_type = 'execution.completed') as completed_at,
    min(occurred_at) filter (where event_type = 'execution.failed') as failed_at,
    min(occurred_at) filter (where event_type = 'execution.exited') as exited_at
  from raw.events
  where event_type in ('execution.enrolled', 'goal.achieved', 'execution.completed',
                       'execution.failed', 'execution.exited', 'step.failed')
  group by execution_id
),
executions as (
  select *, least(goal_at, completed_at, failed_at, exited_at) as ended_at,
    case when goal_at is not null then 'goal_achieved'
         when completed_at is not null then 'completed'
         when failed_at is not null then 'error'
         when exited_at is not null then 'exited'
         else 'active' end as status
  from times
)
select
  count(*) filter (where has_execution_event) as executions,
  count(enrolled_at) as enrolments_all,
  count(*) filter (where has_execution_event and status = 'goal_achieved') as conversions_all,
  count(*) filter (where has_execution_event and status in ('completed', 'goal_achieved'))
    as completions_all,
  count(*) filter (where has_execution_event and status = 'error') as failures_all,
  count(*) filter (where {w.times('enrolled_at')}) as enrolments,
  count(*) filter (where status in ('completed', 'goal_achieved') and {w.times('ended_at')})
    as completions,
  count(*) filter (where {w.times('goal_at')}) as conversions,
  count(*) filter (where status = 'error' and {w.times('ended_at')}) as failures,
  count(*) filter (where status = 'exited' and {w.times('ended_at')}) as exits,
  coalesce(sum(failure_events) filter (where not has_step_failure), 0) as execution_errors
from executions"""


def steps_sql(w: Window) -> str:
    """Per execution and step: entered on its first started/completed/failed event."""
    entered = w.times("entered_at")
    return f"""
with steps as (
  select execution_id, step_id, min(occurred_at) as entered_at,
    bool_or(event_type = 'step.completed') as completed,
    bool_or(event_type = 'step.failed') as failed
  from raw.events
  where event_type in ('step.started', 'step.completed', 'step.failed')
  group by execution_id, step_id
)
select count(*) filter (where {entered}) as step_entries,
  count(*) filter (where completed and {entered}) as step_completions,
  count(*) filter (where failed and {entered}) as step_failures
from steps"""


REFERENCES_SQL = """
select (select count(*) from raw.accounts) as snapshot_accounts,
  (select count(*) from raw.workflows) as snapshot_workflows,
  (select count(*) from raw.workflow_steps) as snapshot_steps,
  (select array_agg(account_id) from (select account_id from raw.accounts union
     select account_id from raw.workflows union select account_id from raw.users) ids)
    as reference_accounts"""


class RawTotals:
    """The raw figures of one window, each group queried on first use and kept."""

    def __init__(self, url: str, window: Window, cached: bool = True) -> None:
        self.url = url
        self.window = window
        self.cached = cached
        self._values: dict[str, Decimal] = {}
        self._loaded: set[str] = set()
        self._fingerprint: str | None = None

    def __getitem__(self, metric: str) -> Decimal:
        group = GROUP_OF[metric]
        if group not in self._loaded:
            self._values.update(self._load(group))
            self._loaded.add(group)
        return self._values[metric]

    def prefetch(self, metrics) -> None:
        """Load the passes over raw.events these metrics need side by side: each is one
        query, so PostgreSQL runs them on as many cores as there are passes."""
        groups = {GROUP_OF[m] for m in metrics}
        groups |= {g for group in list(groups) for g in DERIVED.get(group, ())}
        todo = sorted((groups & CACHED) - self._loaded)
        if self.cached and self._fingerprint is None and todo:
            self._fingerprint = raw_cache.fingerprint(self.url)
        with ThreadPoolExecutor(max_workers=max(len(todo), 1)) as pool:
            for group, values in zip(todo, pool.map(self._load, todo)):
                self._values.update(values)
                self._loaded.add(group)

    def _load(self, group: str) -> dict:
        if not self.cached or group not in CACHED:
            return LOADERS[group](self)
        if self._fingerprint is None:
            self._fingerprint = raw_cache.fingerprint(self.url)
        key = str(self.window)
        found = raw_cache.load(self.url, group, key, self._fingerprint)
        if found is None:
            found = LOADERS[group](self)
            raw_cache.store(self.url, group, key, self._fingerprint, found)
        return found

    def _connect(self) -> psycopg.Connection:
        conn = psycopg.connect(self.url, row_factory=dict_row)
        # the per-execution and per-step groupings hash millions of keys: in memory, not on disk
        conn.execute(f"set work_mem = '{WORK_MEM}'")
        return conn

    def _one(self, sql: str) -> dict:
        with self._connect() as conn:
            return conn.execute(sql).fetchone()

    def _events(self) -> dict:
        with self._connect() as conn:
            rows = conn.execute(events_sql(self.window)).fetchall()
        # per-account distinct counts add up: a user, contact or workflow belongs to one account
        totals = {key: sum((row[key] for row in rows), Decimal(0))
                  for key in EVENT_METRICS}
        totals["event_accounts"] = {row["account_id"] for row in rows}
        return totals

    def _references(self) -> dict:
        found = self._one(REFERENCES_SQL)
        accounts = set(found.pop("reference_accounts") or []) | self["event_accounts"]
        return {**found, "accounts": len(accounts)}

    def _errors(self) -> dict:
        # each step.failed is an error; an execution.failed only in an execution without one
        return {"errors": self["step_failure_events"] + self["execution_errors"]}


EVENT_METRICS = (
    "step_completions_all", "step_failures_all", "credits_all", "cost_all", "credits", "cost_usd",
    "action_completions", "action_failures", "action_credits", "action_cost",
    "step_failure_events", "actions", "logins", "active_seconds", "users", "contacts",
    "workflows_enrolled", "enrolled_executions")
LOADERS = {
    "events": RawTotals._events,
    "executions": lambda t: t._one(executions_sql(t.window)),
    "steps": lambda t: t._one(steps_sql(t.window)),
    "references": RawTotals._references,
    "errors": RawTotals._errors,
}
DERIVED = {"references": ("events",), "errors": ("events", "executions")}
CACHED = {"events", "executions", "steps"}  # the passes over raw.events; the rest is cheap
GROUP_OF = {
    **{m: "events" for m in (*EVENT_METRICS, "event_accounts")},
    **{m: "executions" for m in (
        "executions", "enrolments_all", "conversions_all", "completions_all", "failures_all",
        "enrolments", "completions", "conversions", "failures", "exits", "execution_errors")},
    **{m: "steps" for m in ("step_entries", "step_completions", "step_failures")},
    **{m: "references" for m in ("snapshot_accounts", "snapshot_workflows", "snapshot_steps",
                                 "accounts")},
    "errors": "errors",
}
