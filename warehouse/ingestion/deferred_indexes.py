"""A big first load into an empty raw.events builds the secondary indexes after the rows.

Every row inserted into an index with random keys costs a B-tree descent; one sorted build at
the end costs a fraction of that (1M events: 20.8 s of COPY with all five indexes, against 5.9 s
with the primary key alone plus 3.0 s to build the other four). The primary key stays: it
decides what is a duplicate. The definitions wait in platform.deferred_indexes until rebuilt,
so `wfa db migrate` restores them if a load stops half-way (restore_deferred_indexes); an
advisory lock held for the whole load tells a stopped load from a running one.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import psycopg

DEFER_MIN_BYTES = 64 * 1024 * 1024  # about 200,000 events: below, rebuilding costs more
LOAD_LOCK = 775_120_002  # advisory lock of a load whose indexes are deferred

SECONDARY_INDEXES = """
select i.indexname, i.indexdef
from pg_indexes as i
where i.schemaname = 'raw' and i.tablename = 'events'
  and not exists (select 1 from pg_constraint as c
                  where c.conname = i.indexname and c.conrelid = 'raw.events'::regclass)
order by i.indexname
"""


@contextmanager
def deferred_indexes(url: str, load_bytes: int) -> Iterator[list[str]]:
    """Around a load of `load_bytes` of events: when raw.events is empty and the load is big
    (DEFER_MIN_BYTES), drop its secondary indexes first and rebuild them afterwards, whatever
    happens; yields the names of the indexes deferred (none when the load goes the usual way)."""
    if load_bytes < DEFER_MIN_BYTES:
        yield []
        return
    # Held (shared: loads run side by side) while the load runs: `wfa db migrate` rebuilds the
    # indexes of a load that stopped (its session, and so the lock, ended), never those of one
    # still running.
    with psycopg.connect(url, autocommit=True) as holder:
        holder.execute("select pg_advisory_lock_shared(%s)", (LOAD_LOCK,))
        deferred = _defer(url)
        try:
            yield deferred
        finally:
            if deferred:
                _restore(holder, url)


def _defer(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        # the lock keeps rows out until the indexes are gone, so "empty" still holds after
        conn.execute("lock table raw.events in share row exclusive mode")
        if conn.execute("select exists (select 1 from raw.events)").fetchone()[0]:
            return []
        indexes = conn.execute(SECONDARY_INDEXES).fetchall()
        for name, definition in indexes:
            conn.execute("insert into platform.deferred_indexes (index_name, definition)"
                         " values (%s, %s) on conflict (index_name) do nothing", (name, definition))
            conn.execute(f'drop index raw."{name}"')
        return [name for name, _ in indexes]


def restore_deferred_indexes(url: str) -> list[str]:
    """Build the deferred indexes that a stopped load left out; return the names built (none
    while a load that deferred them still runs)."""
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("select to_regclass('platform.deferred_indexes')").fetchone()[0] is None:
            return []
        if not conn.execute("select pg_try_advisory_lock(%s)", (LOAD_LOCK,)).fetchone()[0]:
            return []
        try:
            return _restore(conn, url)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (LOAD_LOCK,))


def _restore(conn: psycopg.Connection, url: str) -> list[str]:
    """Build the deferred indexes side by side, one server backend per core."""
    pending = conn.execute("select index_name, definition from platform.deferred_indexes"
                           " order by index_name").fetchall()
    if not pending:
        return []
    # the longest builds first, so that the short ones fill in around them: an index on more
    # columns sorts with more ties to break (events_workflow_received_idx is half of the work)
    pending.sort(key=lambda index: -_key_columns(index[1]))
    queue = deque(pending)
    cores = os.cpu_count() or 1
    builders = min(len(pending), cores)
    # the cores are shared out between the builds (a parallel build of its own on top only adds
    # the cost of merging its workers' sorted runs)
    workers_each = max(0, cores // builders - 1)
    with ThreadPoolExecutor(max_workers=builders, thread_name_prefix="index-build") as pool:
        batches = [pool.submit(_build_from, url, queue, workers_each) for _ in range(builders)]
        return [name for batch in batches for name in batch.result()]


def _key_columns(definition: str) -> int:
    return definition[definition.index("(") + 1:definition.index(")")].count(",") + 1


def _build_from(url: str, queue: deque, parallel_workers: int) -> list[str]:
    """Build indexes taken from `queue` (shared with the other builders) until it is empty."""
    built = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"set max_parallel_maintenance_workers = {int(parallel_workers)}")
        while True:
            try:
                name, definition = queue.popleft()
            except IndexError:
                return built
            with conn.transaction():
                if conn.execute("select to_regclass(%s)", (f'raw."{name}"',)).fetchone()[0] is None:
                    conn.execute(definition)
                    built.append(name)
                conn.execute("delete from platform.deferred_indexes where index_name = %s",
                             (name,))
