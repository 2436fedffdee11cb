"""Which days an incremental refresh of the marts recomputes, and where the last one stood.

A refresh recomputes a window of UTC days (dbt vars wfa_window_start / wfa_window_end, see
dbt_project/macros/window.sql). The window is found from the events *received* since the last
refresh (platform.refresh_state.events_watermark), not from when they occurred, so an event that
arrives a week late still lands in its own day: it starts on the earliest day an event of a
touched execution occurred (an execution's late event can change its status, dated by its
enrolment) and ends on the last day with data. Days after the marts' last day join it, because
the dense daily marts run to the last day with data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import psycopg

from warehouse import retention

PIPELINE = "marts"


@dataclass(frozen=True)
class Window:
    start: dt.date
    end: dt.date
    watermark: dt.datetime | None  # the newest received_at the refresh covers
    events: int = 0  # events received since the last refresh (0 on a first build)
    first_build: bool = False
    # the events received after this (and up to the watermark) are the new ones: a refresh
    # re-summarises only their executions (None: every execution with an event in the window)
    received_after: dt.datetime | None = None

    def dbt_vars(self) -> dict[str, str]:
        found = {"wfa_window_start": self.start.isoformat(),
                 "wfa_window_end": self.end.isoformat()}
        found.update(received_vars(self.received_after, self.watermark))
        return found

    @property
    def days(self) -> int:
        return max(0, (self.end - self.start).days + 1)


# The settings of a window run (dbt_project/macros/window.sql reads each from the dbt var or,
# when that is not given, from the environment variable of the same name in capitals).
RUN_SETTINGS = ("wfa_window_start", "wfa_window_end", "wfa_received_after", "wfa_received_until")


def dbt_environment(dbt_vars: dict[str, str]) -> dict[str, str]:
    """The environment that gives dbt a run's window: every setting, empty when not given (so
    that none is inherited). dbt parses the whole project again when --vars change; it does not
    when these do."""
    return {name.upper(): dbt_vars.get(name, "") for name in RUN_SETTINGS}


def received_vars(after: dt.datetime | None, until: dt.datetime | None) -> dict[str, str]:
    """dbt vars naming the new events (received in (after, until]), when both are known."""
    if after is None or until is None:
        return {}
    return {"wfa_received_after": after.isoformat(), "wfa_received_until": until.isoformat()}


def watermark(conn: psycopg.Connection) -> dt.datetime | None:
    row = conn.execute("select events_watermark from platform.refresh_state where pipeline = %s",
                       (PIPELINE,)).fetchone()
    return row[0] if row else None


def _marts_last_day(conn: psycopg.Connection) -> dt.date | None:
    if conn.execute("select to_regclass('marts.fct_workflow_daily')").fetchone()[0] is None:
        return None
    return conn.execute("select max(date) from marts.fct_workflow_daily").fetchone()[0]


def plan(conn: psycopg.Connection, overlap_seconds: int = 300) -> Window | None:
    """The window the next incremental refresh recomputes; None when no event is new."""
    newest, first_day, last_day = conn.execute(
        # min / max of the columns themselves: PostgreSQL reads them off the indexes
        "select max(received_at), (min(occurred_at) at time zone 'UTC')::date,"
        " (max(occurred_at) at time zone 'UTC')::date from raw.events").fetchone()
    if newest is None:
        return None
    since = watermark(conn)
    marts_last_day = _marts_last_day(conn)
    if since is None or marts_last_day is None:
        return Window(first_day, last_day, newest, first_build=True)
    reread_from = since - dt.timedelta(seconds=overlap_seconds)
    touched, earliest_event, earliest_execution_event = conn.execute(
        """
        with received as (
            select execution_id, occurred_at
            from raw.events
            where received_at > %(since)s and received_at <= %(newest)s
        )
        select
            (select count(*) from raw.events where received_at > %(watermark)s
                and received_at <= %(newest)s),
            (select (min(occurred_at) at time zone 'UTC')::date from received),
            -- the executions are looked up by index (an array: not hashed against every
            -- event); offset 0 keeps min() from walking the occurred_at index instead, testing
            -- every event against the array until one matches
            (select (min(occurred_at) at time zone 'UTC')::date
             from (select occurred_at
                   from raw.events
                   where execution_id = any(array(
                       select distinct execution_id from received
                       where execution_id is not null))
                   offset 0) as touched_events)
        """,
        {"since": reread_from, "newest": newest, "watermark": since},
    ).fetchone()
    if touched == 0 and marts_last_day >= last_day:
        return None
    starts = [day for day in (earliest_event, earliest_execution_event) if day is not None]
    if marts_last_day < last_day:
        starts.append(marts_last_day + dt.timedelta(days=1))
    start = min(starts)
    # never before the retention horizon: those days' raw events are gone (dbt clips too)
    # (late events of purged days are left for the next purge; with nothing else new the window
    # is empty, start after end, and the run only moves the watermark on)
    horizon = retention.detail_horizon(conn)
    if horizon is not None and start < horizon:
        start = horizon
    return Window(start, last_day, newest, events=touched, received_after=reread_from)


def record(conn: psycopg.Connection, window: Window) -> None:
    """The refresh of `window` succeeded: the events received up to its watermark are in."""
    conn.execute(
        """
        insert into platform.refresh_state
            (pipeline, events_watermark, window_start, window_end, refreshed_at)
        values (%s, %s, %s, %s, now())
        on conflict (pipeline) do update set
            events_watermark = greatest(refresh_state.events_watermark, excluded.events_watermark),
            window_start = excluded.window_start,
            window_end = excluded.window_end,
            refreshed_at = excluded.refreshed_at
        """,
        (PIPELINE, window.watermark, window.start, window.end),
    )
