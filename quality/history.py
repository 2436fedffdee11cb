"""Row counts of the marts at each validation, so that the next run can bound the movement.

Kept in the warehouse (schema quality) beside the marts it describes, so that `wfa check` and
the Dagster checks share one history whatever process runs them.
"""

from __future__ import annotations

import psycopg

from warehouse import retention

DDL = """
create table if not exists quality.mart_row_counts (
    mart        text        not null,
    row_count   bigint      not null,
    passed      boolean     not null,
    recorded_at timestamptz not null default clock_timestamp()
);
create index if not exists mart_row_counts_mart_idx on quality.mart_row_counts (mart, recorded_at);
"""
LOCK_KEY = 775_120_005  # two checks creating the table at once would collide on the catalog


def ensure_table(conn: psycopg.Connection, ddl: str = DDL) -> None:
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute("create schema if not exists quality")
        conn.execute(ddl)


RETENTION_RUNS = "platform.retention_runs"  # warehouse/retention.py records each purge


def _purges(conn: psycopg.Connection) -> bool:
    return conn.execute("select to_regclass(%s)", (RETENTION_RUNS,)).fetchone()[0] is not None


def retention_horizon(url: str):
    """The first day whose raw events the latest retention purge kept; None before any."""
    with psycopg.connect(url, autocommit=True) as conn:
        if not _purges(conn):
            return None
        return retention.detail_horizon(conn)


def previous_counts(url: str) -> dict[str, int]:
    """Each mart's count at its latest passing validation: a failed run is no baseline, nor is
    one from before the latest retention purge (which shrinks the marts by design)."""
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_table(conn)
        since = "'-infinity'::timestamptz"
        if _purges(conn):
            since = f"coalesce((select max(ran_at) from {RETENTION_RUNS}), {since})"
        rows = conn.execute(
            "select distinct on (mart) mart, row_count from quality.mart_row_counts"
            f" where passed and recorded_at > {since} order by mart, recorded_at desc").fetchall()
    return dict(rows)


def current_counts(url: str, marts: list[str], schema: str = "marts") -> dict[str, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        return {mart: conn.execute(f'select count(*) from "{schema}"."{mart}"').fetchone()[0]
                for mart in marts}


def record(url: str, counts: dict[str, tuple[int, bool]]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_table(conn)
        with conn.cursor() as cur:
            cur.executemany("insert into quality.mart_row_counts (mart, row_count, passed)"
                            " values (%s, %s, %s)",
                            [(mart, count, passed) for mart, (count, passed) in counts.items()])
