"""A big first load into an empty raw.events builds the secondary indexes after the rows.

Every row inserted into an index with random keys costs a B-tree descent; one sorted build at
the end costs a fraction of that (1M events: 20.8 s of COPY with all five indexes, against 5.9 s
with the primary key alone plus 3.0 s to build the other four). The primary key stays: it
decides what is a duplicate. The definitions wait in platform.deferred_indexes until rebuilt,
so `wfa db migrate` restores them if a load stops half-way (restore_deferred_indexes); an
advisory lock held for the whole load tells a stopped load from a running one.
"""

from __future__ import annotations

from collections.abc import Iterator
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
                _restore(holder)


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
            return _restore(conn)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (LOAD_LOCK,))


def _restore(conn: psycopg.Connection) -> list[str]:
    built = []
    pending = conn.execute("select index_name, definition from platform.deferred_indexes"
                           " order by index_name").fetchall()
    for name, definition in pending:
        with conn.transaction():
            if conn.execute("select to_regclass(%s)", (f'raw."{name}"',)).fetchone()[0] is None:
                conn.execute(definition)
                built.append(name)
            conn.execute("delete from platform.deferred_indexes where index_name = %s", (name,))
    return built
