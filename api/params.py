"""Query parameters parsed strictly: ISO dates, bounded ranges, known enums, real time zones."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, available_timezones

from fastapi import Depends, Query

from api.errors import bad_request

MAX_RANGE_DAYS = 731  # two years, a leap day included
# Far enough from year 1 and year 9999 that a day's bounds in any zone, and the period before a
# range (compare=previous_period), stay within what Python and PostgreSQL can represent.
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Granularity = Literal["hourly", "daily", "weekly"]


def parse_date(name: str, value: str) -> dt.date:
    if not _DATE.fullmatch(value):
        raise bad_request(f"{name} must be a date as YYYY-MM-DD, got {value[:40]!r}")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise bad_request(f"{name} is not a valid date: {value!r}") from None
    if not FIRST_DATE <= day <= LAST_DATE:
        raise bad_request(f"{name} must be between {FIRST_DATE} and {LAST_DATE}, got {value}")
    return day


_zones: frozenset[str] | None = None


def known_zones(conn) -> frozenset[str]:
    """The IANA zone names that both Python and the warehouse server know, read once per process.

    Python's list can hold names of the host system that are not zones of the IANA database
    (`localtime`), and the server's tz database may be older or newer than Python's: a zone is
    only accepted when both would answer for it the same way."""
    global _zones
    if _zones is None:
        server = {row["name"] for row in conn.execute("select name from pg_timezone_names")}
        # `localtime` is each host's own zone, whatever both call it
        _zones = frozenset((available_timezones() & server) - {"localtime"})
    return _zones


def parse_tz(value: str | None, conn=None) -> ZoneInfo:
    """UTC when unset; otherwise a zone of known_zones (read through `conn`, required then)."""
    if value is None:
        return ZoneInfo("UTC")
    if value not in known_zones(conn):
        raise bad_request(f"unknown time zone: {value[:60]!r}; give an IANA name such as "
                          "Europe/Paris")
    return ZoneInfo(value)


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period":
        """The period of the same length just before this one."""
        return Period(self.start - dt.timedelta(days=self.days),
                      self.start - dt.timedelta(days=1))


def make_period(start: str, end: str, start_name: str = "start_date",
                end_name: str = "end_date") -> Period:
    period = Period(parse_date(start_name, start), parse_date(end_name, end))
    if period.start > period.end:
        raise bad_request(f"{start_name} ({period.start}) is after {end_name} ({period.end})")
    if period.days > MAX_RANGE_DAYS:
        raise bad_request(f"the range covers {period.days} days; at most 2 years "
                          f"({MAX_RANGE_DAYS} days) can be asked at once")
    return period


# async: pure computation, no trip through the thread pool
async def workflow_period(
        start_date: Annotated[str, Query(description="YYYY-MM-DD")],
        end_date: Annotated[str, Query(description="YYYY-MM-DD, inclusive")]) -> Period:
    return make_period(start_date, end_date)


async def platform_period(
        from_: Annotated[str, Query(alias="from", description="YYYY-MM-DD")],
        to: Annotated[str, Query(description="YYYY-MM-DD, inclusive")]) -> Period:
    return make_period(from_, to, "from", "to")


DateRange = Annotated[Period, Depends(workflow_period)]
PlatformRange = Annotated[Period, Depends(platform_period)]
