"""Serialised answers of a workflow's hottest reads (summary, funnel), kept while the data under
them stands still.

A dashboard asks the same summary over and over; building it (queries, 180 trend rows through
the response model) costs a few milliseconds of the one Python thread that serves everyone,
answering it from memory a few microseconds. An answer is keyed by the account, the path and its
query parameters, and stamped with a token of everything it was computed from, read before it:

- the marts generation, which every dbt run and every retention purge moves
  (platform.marts_generation);
- the incremental refresh's state (platform.refresh_state), whose watermark says which raw
  events the answer adds on top of the marts;
- a fingerprint of those pending raw events of the workflow (count, newest received_at, newest
  row version), over the oldest MAX_PENDING_EVENTS + 1 that an answer reads at most.

A request reads the token (in the statement that authorises it, api/infra/audit.py) and gets the
cached bytes only if it is unchanged; otherwise the answer is computed and stored under the token
read before it, so a change that lands while it is computed makes the next request compute
again. Entries also expire after `max_age` seconds, and at most `max_entries` are kept (the
least recently used go first).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

# The data token of a workflow (%(wf)s, of account %(acc)s), read by the statement that
# authorises the request (api/infra/audit.py). Without a workflow, only the generation and the refresh.
TOKEN = """
select g.generation, r.events_watermark, r.refreshed_at, p.events, p.newest, p.newest_version
from platform.marts_generation g
left join platform.refresh_state r on r.pipeline = %(pipeline)s
left join lateral (
    select count(*) as events, max(received_at) as newest,
           max(xmin::text::bigint) as newest_version
    from (select received_at, xmin from raw.events
          where workflow_id = %(wf)s and account_id = %(acc)s
            and received_at > r.events_watermark
          order by received_at limit %(probe)s) as oldest_pending
) p on r.pipeline is not null
"""


class ResponseCache:
    """Used from the event loop only (the fast path and the endpoints' coroutines)."""

    def __init__(self, max_entries: int, max_age: float):
        self.max_entries, self.max_age = max_entries, max_age
        self._entries: OrderedDict[Hashable, tuple[tuple, float, bytes]] = OrderedDict()
        self._flights: dict[Hashable, tuple[tuple, asyncio.Future]] = {}

    def get(self, key: Hashable, token: tuple) -> bytes | None:
        """The bytes stored for key under this token, if young enough."""
        entry = self._entries.get(key)
        if entry is None or entry[0] != token or time.monotonic() - entry[1] >= self.max_age:
            return None
        self._entries.move_to_end(key)
        return entry[2]

    async def answer(self, key: Hashable, token: tuple,
                     compute: Callable[[], Awaitable[bytes]]) -> bytes:
        """The kept bytes, else compute()'s. Requests that miss the same key under the same token
        together (all of a dashboard's, right after a refresh) wait for one computation, run as
        a task of its own so that no requester's cancellation stops it for the others."""
        body = self.get(key, token)
        if body is not None:
            return body
        flight = self._flights.get(key)
        if flight is None or flight[0] != token:
            computed_at = time.monotonic()
            task = asyncio.ensure_future(compute())
            flight = self._flights[key] = (token, task)
            task.add_done_callback(lambda done: self._landed(key, token, done, computed_at))
        return await asyncio.shield(flight[1])

    def _landed(self, key: Hashable, token: tuple, task: asyncio.Future,
                computed_at: float) -> None:
        if self._flights.get(key, (None, None))[1] is task:
            del self._flights[key]
        # exception() also marks a failure as seen when no requester waits for it any more
        if task.cancelled() or task.exception() is not None or self.max_entries <= 0:
            return
        self._entries[key] = (token, computed_at, task.result())
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
