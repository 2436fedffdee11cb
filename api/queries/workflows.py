"""Reads of one workflow's marts. Day bounds are computed in the caller's time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from api.horizon import require_detail
from api.params import Period
from api.queries import pending


def find_workflow(conn, workflow_id: str, account_id: str) -> dict | None:
    """The workflow if it belongs to the account; another account's is as unknown as a missing one."""
    return conn.execute(
        "select workflow_id, account_id, workflow_name, latest_version from marts.dim_workflows"
        " where workflow_id = %s and account_id = %s", (workflow_id, account_id)).fetchone()


def bounds(period: Period, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[start of the first day, start of the day after the last) in tz."""
    start = dt.datetime.combine(period.start, dt.time(), tz)
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(), tz)
    return start, end


# The counts are cohort-based (the executions enrolled in the period, by their status as of the
# refresh); the average duration is over the executions that completed in the period, which is
# what the daily mart keeps, so UTC days are answered from it without touching 1M executions.
SUMMARY_DAILY = """
select coalesce(sum(new_enrollments), 0) as total_enrolled,
       coalesce(sum(cohort_active), 0) as currently_active,
       coalesce(sum(cohort_completed), 0) as completed,
       coalesce(sum(cohort_goals_achieved), 0) as goals_achieved,
       coalesce(sum(average_duration_seconds * completed)
                filter (where average_duration_seconds is not null), 0) as duration_sum,
       coalesce(sum(completed) filter (where average_duration_seconds is not null), 0)
         as durations
from marts.fct_workflow_daily
where workflow_id = %(wf)s and account_id = %(acc)s and date between %(first)s and %(last)s
"""
SUMMARY_ZONED = """
with cohort as (
    select count(*) as total_enrolled,
           count(*) filter (where status = 'active') as currently_active,
           count(*) filter (where status in ('completed', 'goal_achieved')) as completed,
           count(*) filter (where status = 'goal_achieved') as goals_achieved
    from marts.fct_executions
    where workflow_id = %(wf)s and account_id = %(acc)s
      and enrolled_at >= %(start)s and enrolled_at < %(end)s
),
ended as (
    select coalesce(sum(duration_seconds), 0) as duration_sum,
           count(duration_seconds) as durations
    from marts.fct_executions
    where workflow_id = %(wf)s and account_id = %(acc)s
      and status in ('completed', 'goal_achieved')
      and ended_at >= %(start)s and ended_at < %(end)s
)
select * from cohort, ended
"""


def summary(conn, workflow_id: str, account_id: str, period: Period, tz: ZoneInfo,
            refresh: pending.RefreshState | None = None) -> tuple[dict, pending.Changes | None]:
    """The summary from the marts, plus, when they were refreshed incrementally (`refresh`), the
    events received since (api/queries/pending.py); and those changes, None without `refresh`."""
    start, end = bounds(period, tz)
    query = SUMMARY_DAILY if tz.key == "UTC" else SUMMARY_ZONED
    if query is SUMMARY_ZONED:  # the daily mart keeps UTC days only; other zones need the detail
        require_detail(conn, start, tz)
    row = conn.execute(query, {"wf": workflow_id, "acc": account_id, "start": start, "end": end,
                               "first": period.start, "last": period.end}).fetchone()
    figures = {k: row[k] for k in ("total_enrolled", "currently_active", "completed",
                                   "goals_achieved", "duration_sum", "durations")}
    changes = None
    if refresh is not None:
        changes = pending.changes(conn, pending.WORKFLOW, {"wf": workflow_id, "acc": account_id},
                                  refresh.watermark, start, end)
        for name, change in (("total_enrolled", "enrolled"), ("currently_active", "active"),
                             ("completed", "completed"), ("goals_achieved", "goals"),
                             ("duration_sum", "ended_completed_duration_sum"),
                             ("durations", "ended_completed_durations")):
            figures[name] += changes[change]
    enrolled = int(figures["total_enrolled"])
    completed, goals = int(figures["completed"]), int(figures["goals_achieved"])
    durations = int(figures["durations"])
    return {
        "total_enrolled": enrolled,
        "currently_active": int(figures["currently_active"]),
        "completed": completed,
        "completion_rate": _rate(completed, enrolled),
        "goals_achieved": goals,
        "conversion_rate": _rate(goals, enrolled),
        "average_duration_hours": _round(figures["duration_sum"] / durations / 3600
                                         if durations else None, 4),
    }, changes


def _rate(part: int, whole: int) -> float | None:
    return None if not whole else round(part * 100.0 / whole, 2)


def _round(value, places: int) -> float | None:
    return None if value is None else round(float(value), places)


# Trends are event-dated; UTC days come from the daily mart, other zones and hours from the
# hourly mart shifted into the zone.
TRENDS_DAILY_UTC = """
select date_trunc(%(unit)s, date)::date as bucket, sum(new_enrollments) as new_enrollments,
       sum(completed) as completions, sum(goals_achieved) as conversions
from marts.fct_workflow_daily
where workflow_id = %(wf)s and account_id = %(acc)s and date between %(first)s and %(last)s
group by 1 order by 1
"""
TRENDS_HOURLY = """
select date_trunc(%(unit)s, hour at time zone %(tz)s) as bucket,
       sum(started) as new_enrollments, sum(completed) as completions,
       sum(goals_achieved) as conversions
from marts.fct_executions_hourly
where workflow_id = %(wf)s and account_id = %(acc)s and hour >= %(start)s and hour < %(end)s
group by 1 order by 1
"""
UNITS = {"hourly": "hour", "daily": "day", "weekly": "week"}


def trends(conn, workflow_id: str, account_id: str, period: Period, tz: ZoneInfo,
           granularity: str) -> list[dict]:
    unit = UNITS[granularity]
    if tz.key == "UTC" and granularity != "hourly":
        rows = conn.execute(TRENDS_DAILY_UTC, {"unit": unit, "wf": workflow_id, "acc": account_id,
                                               "first": period.start, "last": period.end})
    else:
        start, end = bounds(period, tz)
        require_detail(conn, start, tz)
        rows = conn.execute(TRENDS_HOURLY, {"unit": unit, "tz": tz.key, "wf": workflow_id,
                                            "acc": account_id, "start": start, "end": end})
    out = []
    for row in rows:
        bucket = row["bucket"]
        label = bucket.isoformat() if granularity == "hourly" else (
            bucket.date() if isinstance(bucket, dt.datetime) else bucket).isoformat()
        out.append({"date": label, "new_enrollments": int(row["new_enrollments"]),
                    "completions": int(row["completions"]), "conversions": int(row["conversions"])})
    return out


FUNNEL = """
select s.step_id, max(s.step_name) as step_name, min(s.step_order) as step_order,
       max(s.step_type) as step_type,
       sum(s.entered) as entered, sum(s.completed) as completed, sum(s.failed) as failed,
       sum(s.dropped_off) as dropped_off, sum(s.skipped) as skipped,
       sum(s.average_time_in_step_seconds * (s.completed + s.failed))
         filter (where s.average_time_in_step_seconds is not null)
         / nullif(sum(s.completed + s.failed)
                  filter (where s.average_time_in_step_seconds is not null), 0) as average_time
from marts.fct_workflow_step_daily s
where s.workflow_id = %(wf)s and s.account_id = %(acc)s and s.workflow_version = %(version)s
  and s.date between %(first)s and %(last)s
group by s.step_id order by min(s.step_order)
"""


def funnel_steps(conn, workflow_id: str, account_id: str, version: int, period: Period) -> list[dict]:
    rows = conn.execute(FUNNEL, {"wf": workflow_id, "acc": account_id, "version": version,
                                 "first": period.start, "last": period.end}).fetchall()
    return [{
        "step_id": r["step_id"], "step_name": r["step_name"], "step_order": r["step_order"],
        "entered": int(r["entered"]), "completed": int(r["completed"]),
        "dropped_off": int(r["dropped_off"]),
        "conversion_rate": _rate(int(r["completed"]), int(r["entered"])),
        "average_time_seconds": _round(r["average_time"], 3),
    } for r in rows]


def bottleneck(steps: list[dict]) -> str | None:
    """The step losing the largest share of those who entered it."""
    candidates = [s for s in steps if s["entered"] and s["dropped_off"]]
    if not candidates:
        return None
    return max(candidates, key=lambda s: (s["dropped_off"] / s["entered"], -s["step_order"]))["step_id"]


ACTIONS = """
select s.step_id, max(s.step_name) as step_name, max(d.action_type) as action_type,
       sum(s.completed + s.failed) as executions, sum(s.completed) as successes,
       sum(s.failed) as failures,
       sum(s.average_time_in_step_seconds * (s.completed + s.failed))
         filter (where s.average_time_in_step_seconds is not null) * 1000.0
         / nullif(sum(s.completed + s.failed)
                  filter (where s.average_time_in_step_seconds is not null), 0) as average_ms
from marts.fct_workflow_step_daily s
join marts.dim_workflow_steps d using (workflow_id, workflow_version, step_id)
where s.workflow_id = %(wf)s and s.account_id = %(acc)s and s.step_type = 'action'
  and s.date between %(first)s and %(last)s
group by s.step_id order by min(s.step_order), s.step_id
"""


def actions(conn, workflow_id: str, account_id: str, period: Period) -> list[dict]:
    rows = conn.execute(ACTIONS, {"wf": workflow_id, "acc": account_id,
                                  "first": period.start, "last": period.end}).fetchall()
    return [{
        "action_id": r["step_id"], "action_type": r["action_type"], "action_name": r["step_name"],
        "executions": int(r["executions"]), "successes": int(r["successes"]),
        "failures": int(r["failures"]),
        "success_rate": _rate(int(r["successes"]), int(r["executions"])),
        "average_duration_ms": _round(r["average_ms"], 1),
    } for r in rows]


EXECUTION_COLUMNS = ("execution_id", "workflow_version", "contact_id", "enrollment_source",
                     "trigger_type", "enrolled_at", "ended_at", "status", "exit_reason",
                     "duration_seconds", "goal_achieved_at", "goal_value_usd",
                     "steps_completed", "steps_failed", "credits", "cost_usd")
EXECUTIONS = ("select " + ", ".join(EXECUTION_COLUMNS) + " from marts.fct_executions"
              " where workflow_id = %(wf)s and account_id = %(acc)s"
              " and enrolled_at >= %(start)s and enrolled_at < %(end)s"
              " order by enrolled_at, execution_id")
