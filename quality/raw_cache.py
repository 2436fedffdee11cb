"""Raw totals kept in the warehouse between checks, keyed by a fingerprint of their inputs.

Each mart's Dagster check runs in its own step (often its own process); without this, every
one of them would re-read raw.events. raw.events is append-only and each row gets its
received_at, so its row count and latest received_at change whenever its content does; the
action steps of raw.workflow_steps are hashed whole (a small table).
"""

from __future__ import annotations

import json
from decimal import Decimal

import psycopg

from quality.history import ensure_table

DDL = """
create table if not exists quality.raw_totals_cache (
    grp         text        not null,
    window_key  text        not null,
    fingerprint text        not null,
    totals      jsonb       not null,
    computed_at timestamptz not null default clock_timestamp(),
    primary key (grp, window_key)
);
"""
FINGERPRINT_SQL = """
select (select count(*) from raw.events)::text || '|' ||
       coalesce((select max(received_at) from raw.events)::text, '') || '|' ||
       coalesce((select md5(string_agg(concat_ws(':', workflow_id, workflow_version, step_id,
                                                 step_type), ',' order by workflow_id,
                                                 workflow_version, step_id))
                 from raw.workflow_steps), '')"""


def fingerprint(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(FINGERPRINT_SQL).fetchone()[0]


def load(url: str, group: str, window_key: str, print_: str) -> dict | None:
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_table(conn, DDL)
        row = conn.execute("select totals from quality.raw_totals_cache where grp = %s"
                           " and window_key = %s and fingerprint = %s",
                           (group, window_key, print_)).fetchone()
    if row is None:
        return None
    return {key: set(value) if isinstance(value, list) else Decimal(value)
            for key, value in row[0].items()}


def store(url: str, group: str, window_key: str, print_: str, totals: dict) -> None:
    encoded = {key: sorted(value) if isinstance(value, set) else str(value)
               for key, value in totals.items()}
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_table(conn, DDL)
        conn.execute(
            "insert into quality.raw_totals_cache (grp, window_key, fingerprint, totals)"
            " values (%s, %s, %s, %s) on conflict (grp, window_key) do update set"
            " fingerprint = excluded.fingerprint, totals = excluded.totals,"
            " computed_at = clock_timestamp()",
            (group, window_key, print_, json.dumps(encoded)))
