"""The live counters behind the stream: the marts' figures plus the raw events received since
their last refresh (opening_metrics), then the events received since a cursor.

One hub task polls raw.events for all watched workflows at once (by workflow_id and received_at,
indexed), so a thousand open streams cost one query per poll, not a thousand.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter, defaultdict

from psycopg_pool import ConnectionPool

from api.queries import pending

# How raw events move the live counters.
EFFECTS = {
    "execution.enrolled": {"total_enrolled": 1, "currently_active": 1},
    "execution.completed": {"completed": 1, "currently_active": -1},
    "goal.achieved": {"goals_achieved": 1},
    "execution.failed": {"failed": 1, "currently_active": -1},
    "execution.exited": {"exited": 1, "currently_active": -1},
}
# Events are stamped with their transaction's start; a small lag lets slow commits land first.
COMMIT_LAG = dt.timedelta(seconds=1)

BASELINE = """
select d.total_enrolled, d.currently_active,
       (select sum(completed) from marts.fct_workflow_daily t
         where t.workflow_id = d.workflow_id and t.account_id = d.account_id) as completed,
       (select sum(goals_achieved) from marts.fct_workflow_daily t
         where t.workflow_id = d.workflow_id and t.account_id = d.account_id) as goals_achieved,
       (select sum(failed) from marts.fct_workflow_daily t
         where t.workflow_id = d.workflow_id and t.account_id = d.account_id) as failed,
       (select sum(exited) from marts.fct_workflow_daily t
         where t.workflow_id = d.workflow_id and t.account_id = d.account_id) as exited
from marts.fct_workflow_daily d
where d.workflow_id = %s and d.account_id = %s order by d.date desc limit 1
"""
# By account as well as workflow: only the events of the stream's own account move it.
COUNTS = """
select account_id, workflow_id, event_type, count(*) as n from raw.events
where workflow_id = any(%(wfs)s) and received_at > %(since)s and received_at <= %(until)s
group by 1, 2, 3
"""

# What a stream watches: (account_id, workflow_id).
Watched = tuple[str, str]


def baseline(conn, workflow_id: str, account_id: str) -> dict[str, int]:
    row = conn.execute(BASELINE, (workflow_id, account_id)).fetchone()
    keys = ("total_enrolled", "currently_active", "completed", "goals_achieved", "failed", "exited")
    return {k: int(row[k] or 0) if row else 0 for k in keys}


# The opening figures: which pending-change figure (api/queries/pending.py, over all time) moves
# which metric.
OPENING_CHANGES = {"total_enrolled": "enrolled", "currently_active": "active",
                   "completed": "ended_completed", "goals_achieved": "goals_achieved",
                   "failed": "ended_failed", "exited": "ended_exited"}


def opening_metrics(pool: ConnectionPool, workflow_id: str, account_id: str,
                    resume_from: dt.datetime | None, until: dt.datetime) -> dict[str, int]:
    """The figures a stream opens with, as of `until` (the cursor its live updates start from):
    the marts', plus the events received since their watermark, by execution, as the summary
    adds them. Before any incremental refresh (no watermark) the marts' coverage is unknown: a
    reconnecting client's Last-Event-ID is the mark instead (what it had seen), else nothing is
    added."""
    with pool.connection() as conn, pending.consistent(conn):
        metrics = baseline(conn, workflow_id, account_id)
        refresh = pending.refresh_state(conn)
        mark = refresh.watermark if refresh is not None else resume_from
        if mark is not None and mark < until:
            changes = pending.changes(conn, pending.WORKFLOW,
                                      {"wf": workflow_id, "acc": account_id}, mark, until=until)
            for metric, figure in OPENING_CHANGES.items():
                metrics[metric] += int(changes[figure])
    return metrics


def now_cursor(conn) -> dt.datetime:
    return conn.execute("select clock_timestamp() - %s as t", (COMMIT_LAG,)).fetchone()["t"]


def counts_between(conn, watched: list[Watched], since: dt.datetime,
                   until: dt.datetime) -> dict[Watched, Counter]:
    changes: dict[Watched, Counter] = defaultdict(Counter)
    workflow_ids = sorted({workflow_id for _, workflow_id in watched})
    for row in conn.execute(COUNTS, {"wfs": workflow_ids, "since": since, "until": until}):
        for metric, sign in EFFECTS.get(row["event_type"], {}).items():
            changes[(row["account_id"], row["workflow_id"])][metric] += sign * row["n"]
    return changes


def cursor_id(moment: dt.datetime) -> str:
    return str(int(moment.timestamp() * 1_000_000))


def parse_cursor(text: str | None) -> dt.datetime | None:
    if not text or not text.isdigit():
        return None
    try:
        return dt.datetime.fromtimestamp(int(text) / 1_000_000, dt.timezone.utc)
    except (OverflowError, ValueError, OSError):
        return None


class Hub:
    """Polls for new events of the watched workflows and fans them out to the streams."""

    def __init__(self, pool: ConnectionPool, poll_seconds: float):
        self.pool, self.poll_seconds = pool, poll_seconds
        self.subscribers: dict[Watched, set[asyncio.Queue]] = defaultdict(set)
        self.cursor: dt.datetime | None = None
        self._task: asyncio.Task | None = None

    def subscribe(self, watched: Watched) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue()
        self.subscribers[watched].add(queue)
        if self._task is None:
            self._task = asyncio.create_task(self._run())
        return queue

    def unsubscribe(self, watched: Watched, queue: asyncio.Queue) -> None:
        self.subscribers[watched].discard(queue)
        if not self.subscribers[watched]:
            del self.subscribers[watched]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def current_cursor(self) -> dt.datetime:
        if self.cursor is None:
            self.cursor = await asyncio.to_thread(self._now)
        return self.cursor

    def _now(self) -> dt.datetime:
        with self.pool.connection() as conn:
            return now_cursor(conn)

    def _poll(self, watched: list[Watched], since: dt.datetime):
        with self.pool.connection() as conn:
            until = now_cursor(conn)
            return until, counts_between(conn, watched, since, until)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            watched = list(self.subscribers)
            if not watched:
                continue
            since = await self.current_cursor()
            try:
                until, changes = await asyncio.to_thread(self._poll, watched, since)
            except Exception:  # noqa: BLE001 - a failed poll is retried at the next tick
                continue
            self.cursor = until
            for key in watched:
                for queue in list(self.subscribers.get(key, ())):
                    queue.put_nowait((since, until, changes.get(key, Counter())))
