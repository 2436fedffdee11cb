"""Query parameters parsed strictly: ISO dates, bounded ranges, known enums, real time zones."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends, Query

from api.errors import bad_request

MAX_RANGE_DAYS = 731  # two years, a leap day included
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Granularity = Literal["hourly", "daily", "weekly"]


def parse_date(name: str, value: str) -> dt.date:
    if not _DATE.fullmatch(value):
        raise bad_request(f"{name} must be a date as YYYY-MM-DD, got {value[:40]!r}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise bad_request(f"{name} is not a valid date: {value!r}") from None


def parse_tz(value: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(value or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise bad_request(f"unknown time zone: {value[:60]!r}") from None


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
