"""The retention policy (REQ-WFL-009-10): detailed data 90 days, daily aggregates 2 years,
monthly summaries forever. Periods are settings (WFA_RETENTION_DETAIL_DAYS, _DAILY_DAYS).

A purge deletes, in one transaction, the raw events (an execution's all at once, when none is
left after the horizon) and rejected rows, the event-grain and hourly marts and the
intermediate tables older than the detail horizon, and the daily marts
older than the daily horizon, and records both in platform.retention_runs. From then on no
refresh recomputes a day before the detail horizon (warehouse/incremental.py clips its
window) and a full refresh of the retained marts refuses (dbt_project/macros/retention.sql).

raw.events is one table, not partitioned by month: a unique event_id (the loader's and the
API's deduplication, `on conflict (event_id)`) cannot be enforced across partitions in
PostgreSQL, whose unique keys must include the partition key. A daily purge deletes one day of
rows through the occurred_at index instead (bench/bench_incremental.py measures it).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

DETAIL, DAILY = "detail", "daily"

# An execution's raw events go together, once none is left on or after the horizon: one cut in
# two keeps its earlier events, so that its status, end and step entries (which follow from its
# first events by precedence) come out the same in a refresh after the purge and in the quality
# suites' recomputation from raw.events (quality/raw_totals.py).
WHOLE_EXECUTIONS = (" and (execution_id is null or not exists (select 1 from raw.events as kept"
                    " where kept.execution_id = raw.events.execution_id"
                    " and kept.occurred_at >= %(bound)s))")

# (table, the expression compared with the horizon, whether it is a timestamptz (else a date),
# which horizon[, a further condition on the rows to delete])
POLICY: tuple[tuple[str, ...], ...] = (
    ("raw.events", "occurred_at", True, DETAIL, WHOLE_EXECUTIONS),
    ("raw.events_rejected", "rejected_at", True, DETAIL),
    ("intermediate.int_step_outcomes_extracted", "occurred_date", False, DETAIL),
    ("intermediate.int_step_outcomes_aggregated", "occurred_date", False, DETAIL),
    ("intermediate.int_step_entries", "date", False, DETAIL),
    ("intermediate.int_step_entries_aggregated", "date", False, DETAIL),
    ("intermediate.int_user_sessions_summarised", "activity_date", False, DETAIL),
    ("intermediate.int_executions_summarised", "last_event_at", True, DETAIL),
    # an execution goes with its detail once its last dated moment (its end or its goal, which
    # can come after a completion; else its enrolment) is before the horizon: while a day
    # counting it is kept, so is it (dbt: macro wfa_execution_last_moment, the same expression)
    ("marts.fct_executions", "coalesce(greatest(ended_at, goal_achieved_at), enrolled_at)",
     True, DETAIL),
    ("marts.fct_executions_hourly", "hour", True, DETAIL),
    ("marts.fct_workflow_daily", "date", False, DAILY),
    ("marts.fct_workflow_step_daily", "date", False, DAILY),
    ("marts.fct_action_daily", "date", False, DAILY),
    ("marts.fct_cost_daily", "date", False, DAILY),
    ("marts.fct_errors_daily", "date", False, DAILY),
    ("marts.fct_user_activity_daily", "date", False, DAILY),
    # what the analytics assets read instead of fct_executions (assets/analytics)
    ("marts.fct_execution_outcomes", "date", False, DAILY),
)


@dataclass(frozen=True)
class Horizons:
    detail_before: dt.date  # UTC days before this one lose their detail
    daily_before: dt.date

    @classmethod
    def as_of(cls, now: dt.datetime, detail_days: int, daily_days: int) -> Horizons:
        today = now.astimezone(dt.timezone.utc).date()
        return cls(today - dt.timedelta(days=detail_days), today - dt.timedelta(days=daily_days))

    def of(self, kind: str) -> dt.date:
        return self.detail_before if kind == DETAIL else self.daily_before


def _bound(is_time: bool, before: dt.date) -> dt.date | dt.datetime:
    """A timestamptz is compared with the horizon's UTC midnight, a date with the date."""
    return dt.datetime.combine(before, dt.time(), dt.timezone.utc) if is_time else before


def _existing(conn: psycopg.Connection, table: str) -> bool:
    return conn.execute("select to_regclass(%s)", (table,)).fetchone()[0] is not None


def purge(conn: psycopg.Connection, horizons: Horizons, *, dry_run: bool = False) -> dict[str, int]:
    """Delete (or, dry, count) what the policy says has expired; rows per table."""
    counts: dict[str, int] = {}
    with conn.transaction():
        for table, column, is_time, kind, *unless in POLICY:
            if not _existing(conn, table):
                continue
            # the policy's expressions are ours (constants above); the bound is a parameter
            condition = sql.SQL(column + " < %(bound)s" + "".join(unless))
            params = {"bound": _bound(is_time, horizons.of(kind))}
            schema, name = table.split(".")
            target = sql.Identifier(schema, name)
            if dry_run:
                query = sql.SQL("select count(*) from {} where {}").format(target, condition)
                counts[table] = conn.execute(query, params).fetchone()[0]
            else:
                query = sql.SQL("delete from {} where {}").format(target, condition)
                counts[table] = conn.execute(query, params).rowcount
        if not dry_run:
            conn.execute("insert into platform.retention_runs (detail_before, daily_before,"
                         " rows_deleted) values (%s, %s, %s)",
                         (horizons.detail_before, horizons.daily_before, json.dumps(counts)))
            conn.execute("update platform.marts_generation"
                         " set generation = generation + 1, changed_at = now()")
    return counts


def detail_horizon(conn: psycopg.Connection) -> dt.date | None:
    """The latest purge's detail horizon: before it no raw event is left but those of executions
    that carry on after it. The one source the
    refresh, the checks (dbt reads the same table: macros/retention.sql), the API and the
    analytics assets read it from."""
    # a tuple row whatever the connection's row factory (the API's gives dicts)
    with conn.cursor(row_factory=tuple_row) as cur:
        return cur.execute("select max(detail_before) from platform.retention_runs").fetchone()[0]
