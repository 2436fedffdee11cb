"""Answers over days whose detail retention deleted (warehouse/retention.py).

The daily and monthly marts keep every day; the detail (fct_executions, fct_executions_hourly,
the raw events) starts at the detail horizon. An answer read from the detail over a range that
begins before the horizon would count only what is left and change silently, so it is refused
with 409 `detail_purged`, naming the first day (in the asked zone) whose detail is whole.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from api.errors import ApiError
from warehouse import retention

UTC = ZoneInfo("UTC")
DAILY_ANSWERS = ("the UTC summary, daily and weekly trends, funnel, actions, costs and errors "
                 "are kept by the daily marts")


def kept_from(conn) -> dt.datetime | None:
    """The first instant whose detail the latest purge kept; None before any purge."""
    horizon = retention.detail_horizon(conn)
    return None if horizon is None else dt.datetime.combine(horizon, dt.time(), dt.timezone.utc)


def first_whole_day(since: dt.datetime, tz: ZoneInfo) -> dt.date:
    """The first day in `tz` that begins at or after `since`."""
    local = since.astimezone(tz)
    return local.date() if local.time() == dt.time() else local.date() + dt.timedelta(days=1)


def require_detail(conn, start: dt.datetime, tz: ZoneInfo = UTC) -> None:
    """Raise 409 detail_purged if an answer read from the detail would begin at `start`, before
    the detail horizon."""
    since = kept_from(conn)
    if since is None or start >= since:
        return
    first = first_whole_day(since, tz)
    raise ApiError(
        409, "detail_purged",
        f"the execution detail before {since.date().isoformat()} (UTC) was deleted by the "
        f"retention policy and this answer is computed from it: ask from {first.isoformat()} "
        f"({tz.key}) on; {DAILY_ANSWERS}",
        {"first_day_with_detail": first.isoformat(), "time_zone": tz.key,
         "detail_kept_from": since.isoformat()})
