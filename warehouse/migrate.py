"""Versioned SQL migrations of the raw layer, applied in file-name order, each once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import psycopg

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
LOCK_KEY = 775_120_001  # advisory lock: two concurrent `migrate`s never interleave


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available() -> list[Migration]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        version, _, name = path.stem.partition("_")
        found.append(Migration(version, name, path.read_text(encoding="utf-8")))
    return found


def migrate(url: str) -> list[str]:
    """Apply pending migrations; return the versions applied. Refuses if an applied file changed."""
    applied_now = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            conn.execute("create schema if not exists platform")
            conn.execute(
                "create table if not exists platform.schema_migrations ("
                " version text primary key, name text not null, checksum text not null,"
                " applied_at timestamptz not null default now())"
            )
            done = dict(conn.execute("select version, checksum from platform.schema_migrations"))
            for migration in available():
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        raise RuntimeError(
                            f"migration {migration.version}_{migration.name} was changed after it "
                            "was applied; add a new migration instead"
                        )
                    continue
                with conn.transaction():
                    conn.execute(migration.sql)
                    conn.execute(
                        "insert into platform.schema_migrations (version, name, checksum)"
                        " values (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                applied_now.append(migration.version)
            # indexes a first bulk load dropped and did not get to rebuild (it was stopped)
            from warehouse.ingestion.deferred_indexes import restore_deferred_indexes
            restore_deferred_indexes(url)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (LOCK_KEY,))
    return applied_now
