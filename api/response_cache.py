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

A request reads the token (one indexed query) and gets the cached bytes only if it is unchanged;
otherwise the answer is computed and stored under the token read before it, so a change that
lands while it is computed makes the next request compute again. Entries also expire after
`max_age` seconds, and at most `max_entries` are kept (the least recently used go first).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from api.queries import pending

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


def data_token(conn, workflow_id: str, account_id: str) -> tuple:
    row = conn.execute(TOKEN, {"pipeline": pending.PIPELINE, "wf": workflow_id,
                               "acc": account_id,
                               "probe": pending.MAX_PENDING_EVENTS + 1}).fetchone()
    # the bound is part of what an answer depends on
    return (*row.values(), pending.MAX_PENDING_EVENTS)


class ResponseCache:
    def __init__(self, max_entries: int, max_age: float):
        self.max_entries, self.max_age = max_entries, max_age
        self._entries: OrderedDict[Hashable, tuple[tuple, float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def answer(self, key: Hashable, token: tuple, compute: Callable[[], bytes]) -> bytes:
        """The cached bytes for key if stored under this token and young enough, else
        compute() (stored when the cache is on)."""
        if self.max_entries <= 0:
            return compute()
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == token and now - entry[1] < self.max_age:
                self._entries.move_to_end(key)
                return entry[2]
        body = compute()
        with self._lock:
            self._entries[key] = (token, now, body)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return body
