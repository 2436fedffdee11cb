"""The events received since the last refresh of the marts, added on top of them.

The incremental refresh records in platform.refresh_state (pipeline 'marts') the newest
raw.events.received_at its marts reflect, the events watermark (warehouse/incremental.py).
The events received strictly after it are *pending*: the marts do not have them yet. A summary
adds them so that an ingested event shows within seconds, without waiting for the pipeline.

They are added by execution, not by event: each execution a pending event belongs to is
summarised again from all its raw events, as the next refresh will (int_executions_summarised,
fct_executions: status, ended_at, duration, credits, cost), and that row replaces the marts' row
for it (-1 for the marts' row, +1 for the new one). So nothing is counted twice: a goal.achieved
after an execution.completed moves the execution from completed to goal_achieved instead of
adding a second completion, an execution.completed after a goal changes nothing, a late event of
an execution enrolled before the range leaves the range's cohort alone, and an event that a
refresh already took in (the marts committed, the watermark not yet moved) changes nothing.

Bound: at most MAX_PENDING_EVENTS pending events are read, the oldest first (by received_at, then
event_id); beyond that the answer says so (`pending_events_capped`) and is as of the last event
read. No refresh_state row (marts built by a plain `dbt run`, never by the incremental path):
nothing is added, the marts are the whole answer, and `as_of` is null.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from psycopg import sql

from api.horizon import kept_from

PIPELINE = "marts"  # warehouse.incremental.PIPELINE
# At most this many pending events are read per answer (the oldest first). At the freshness
# sensor's pace only a few minutes of events are pending; this bounds the work when the pipeline
# has stalled.
MAX_PENDING_EVENTS = 100_000

UTC = dt.timezone.utc
BEGINNING = dt.datetime(1, 1, 1, tzinfo=UTC)          # "all time" as a range of instants
END_OF_TIME = dt.datetime(9999, 12, 31, tzinfo=UTC)

# The rows a scope covers, in raw.events and in marts.fct_executions (same column names).
WORKFLOW = sql.SQL("workflow_id = %(wf)s and account_id = %(acc)s")
ACCOUNT = sql.SQL("account_id = %(acc)s")

EXECUTION_EVENTS = ("'execution.enrolled', 'execution.completed', 'execution.failed', "
                    "'execution.exited', 'goal.achieved'")

CHANGES = """
with pending_probe as (
    select event_id, execution_id, received_at
    from raw.events
    where {scope} and received_at > %(mark)s and received_at <= %(until)s
    order by received_at, event_id
    limit %(probe)s
),
pending as (
    select * from pending_probe order by received_at, event_id limit %(cap)s
),
touched as (
    select distinct execution_id from pending where execution_id is not null
),
-- each touched execution from all its events (up to `until`), by the rules of
-- int_executions_summarised and fct_executions
recomputed as (
    select summary.*
    from touched
    cross join lateral (
        select
            count(*) filter (where event_type in ({execution_events})) as execution_events,
            min(occurred_at) filter (where event_type = 'execution.enrolled') as enrolled_at,
            min(occurred_at) filter (where event_type = 'goal.achieved') as goal_achieved_at,
            min(occurred_at) filter (where event_type = 'execution.completed') as completed_at,
            min(occurred_at) filter (where event_type = 'execution.failed') as failed_at,
            min(occurred_at) filter (where event_type = 'execution.exited') as exited_at,
            coalesce(sum(coalesce((properties ->> 'credits')::numeric, 0))
                filter (where event_type in ('step.completed', 'step.failed')), 0) as credits,
            coalesce(sum(coalesce((properties ->> 'cost_usd')::numeric, 0))
                filter (where event_type in ('step.completed', 'step.failed')), 0) as cost_usd
        from raw.events
        where execution_id = touched.execution_id and {scope} and received_at <= %(until)s
    ) as summary
),
fresh as (
    select
        enrolled_at,
        goal_achieved_at,
        -- the marts' own definition (int_executions_summarised)
        platform.execution_ended_at(goal_achieved_at, completed_at, failed_at, exited_at)
            as ended_at,
        platform.execution_status(goal_achieved_at, completed_at, failed_at, exited_at)
            as status,
        credits,
        cost_usd
    from recomputed
    -- fct_executions has a row for an execution with an execution-level event
    where execution_events > 0
),
signed as (
    select 1 as sign, enrolled_at, ended_at, status, goal_achieved_at,
           extract(epoch from ended_at) - extract(epoch from enrolled_at) as duration_seconds,
           credits, cost_usd
    from fresh
    union all
    select -1, enrolled_at, ended_at, status, goal_achieved_at, duration_seconds, credits, cost_usd
    from marts.fct_executions
    where execution_id in (select execution_id from touched) and {scope}
),
flagged as (
    select
        sign, status, duration_seconds, credits, cost_usd,
        status in ('completed', 'goal_achieved') as is_completed,
        enrolled_at >= %(start)s and enrolled_at < %(end)s as enrolled_in,
        ended_at >= %(start)s and ended_at < %(end)s as ended_in,
        goal_achieved_at >= %(start)s and goal_achieved_at < %(end)s as goal_in
    from signed
)
select
    (select count(*) from pending) as events,
    (select count(*) from pending_probe) > %(cap)s as capped,
    (select max(received_at) from pending) as newest_received_at,
    statement_timestamp() as read_at,
    -- cohort: the executions enrolled in the range, by status
    coalesce(sum(sign) filter (where enrolled_in), 0) as enrolled,
    coalesce(sum(sign) filter (where enrolled_in and status = 'active'), 0) as active,
    coalesce(sum(sign) filter (where enrolled_in and is_completed), 0) as completed,
    coalesce(sum(sign) filter (where enrolled_in and status = 'goal_achieved'), 0) as goals,
    coalesce(sum(sign) filter (where enrolled_in and status = 'error'), 0) as failed,
    coalesce(sum(sign) filter (where enrolled_in and status = 'exited'), 0) as exited,
    coalesce(sum(sign * duration_seconds)
        filter (where enrolled_in and duration_seconds is not null), 0) as duration_sum,
    coalesce(sum(sign) filter (where enrolled_in and duration_seconds is not null), 0)
        as durations,
    coalesce(sum(sign * credits) filter (where enrolled_in), 0) as credits,
    coalesce(sum(sign * cost_usd) filter (where enrolled_in), 0) as cost_usd,
    -- event-dated: the executions that ended in the range, by final status; goals by their day
    coalesce(sum(sign) filter (where ended_in and is_completed), 0) as ended_completed,
    coalesce(sum(sign) filter (where ended_in and status = 'error'), 0) as ended_failed,
    coalesce(sum(sign) filter (where ended_in and status = 'exited'), 0) as ended_exited,
    coalesce(sum(sign * duration_seconds)
        filter (where ended_in and is_completed and duration_seconds is not null), 0)
        as ended_completed_duration_sum,
    coalesce(sum(sign)
        filter (where ended_in and is_completed and duration_seconds is not null), 0)
        as ended_completed_durations,
    coalesce(sum(sign) filter (where goal_in), 0) as goals_achieved
from flagged
"""
FIGURES = ("enrolled", "active", "completed", "goals", "failed", "exited", "duration_sum",
           "durations", "credits", "cost_usd", "ended_completed", "ended_failed", "ended_exited",
           "ended_completed_duration_sum", "ended_completed_durations", "goals_achieved")


@dataclass(frozen=True)
class RefreshState:
    watermark: dt.datetime          # every event received at or before it is in the marts
    refreshed_at: dt.datetime | None


@dataclass(frozen=True)
class Changes:
    """What the pending events change, by figure (signed), and how many were read."""
    events: int
    capped: bool
    as_of: dt.datetime
    figures: dict[str, Decimal | int]

    def __getitem__(self, name: str):
        return self.figures[name]


def refresh_state(conn) -> RefreshState | None:
    row = conn.execute("select events_watermark, refreshed_at from platform.refresh_state"
                       " where pipeline = %s", (PIPELINE,)).fetchone()
    return None if row is None else RefreshState(row["events_watermark"], row["refreshed_at"])


@contextmanager
def consistent(conn):
    """One snapshot for the marts' figures and the pending events read on top of them, so a
    refresh committing in between cannot make an event count twice or not at all."""
    with conn.transaction():
        conn.execute("set transaction isolation level repeatable read, read only")
        yield conn


def changes(conn, scope: sql.Composable, params: dict, mark: dt.datetime,
            start: dt.datetime = BEGINNING, end: dt.datetime = END_OF_TIME,
            until: dt.datetime = END_OF_TIME) -> Changes:
    """The changes the events received in (mark, until] of the scope make to the figures of
    the executions in [start, end): `params` binds the scope's parameters (wf, acc)."""
    query = sql.SQL(CHANGES).format(scope=scope, execution_events=sql.SQL(EXECUTION_EVENTS))
    # before the detail horizon no refresh takes a late event in (warehouse/incremental.py
    # clips its window): the marts' figures of those days are final, nothing is pending there
    since = kept_from(conn)
    if since is not None:
        start = max(start, since)
    row = conn.execute(query, {**params, "mark": mark, "until": until, "start": start,
                               "end": end, "cap": MAX_PENDING_EVENTS,
                               "probe": MAX_PENDING_EVENTS + 1}).fetchone()
    capped = bool(row["capped"])
    as_of = row["newest_received_at"] if capped else min(row["read_at"], until)
    return Changes(int(row["events"]), capped, as_of, {k: row[k] for k in FIGURES})


def freshness(state: RefreshState | None, pending: Changes | None) -> dict:
    """How fresh an answer is: `as_of` (every event received by then is counted; null when the
    marts were not built by the incremental refresh), the watermark and the pending events."""
    return {
        "as_of": _iso(pending.as_of) if pending else None,
        "events_watermark": _iso(state.watermark) if state else None,
        "marts_refreshed_at": _iso(state.refreshed_at) if state else None,
        "pending_events": pending.events if pending else 0,
        "pending_events_capped": pending.capped if pending else False,
    }


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()
