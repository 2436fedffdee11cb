"""The window of UTC days a reconciliation covers: both ends optional, inclusive."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    start: dt.date | None = None
    end: dt.date | None = None

    def days(self, day_sql: str) -> str:
        """A predicate keeping the rows whose UTC day (an SQL date expression) is inside (a
        null day is never inside, so that a count filtered by it skips undated rows)."""
        parts = [f"{day_sql} is not null",
                 f"{day_sql} >= date '{self.start.isoformat()}'" if self.start else None,
                 f"{day_sql} <= date '{self.end.isoformat()}'" if self.end else None]
        return " and ".join(p for p in parts if p)

    def times(self, time_sql: str) -> str:
        """The same for a timestamptz expression, taken as its UTC day."""
        return self.days(utc_day(time_sql))

    def __str__(self) -> str:
        if not self.start and not self.end:
            return "all days"
        return f"{self.start or '…'} to {self.end or '…'}"


def utc_day(time_sql: str) -> str:
    return f"(({time_sql}) at time zone 'UTC')::date"
