"""Accounts in quarantine: those whose data fails one of the marts' per-account checks.

The dbt checks under dbt_project/tests/per_account return their failing rows with the account
they belong to, and keep them in schema `quarantine` (dbt's store_failures), one table per
check. When they name at most WFA_QUARANTINE_MAX_ACCOUNTS accounts the checks only warn: the
refresh goes on for every account, and `record` lists those accounts in
platform.quarantined_accounts with the checks they fail, until a later build passes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

SCHEMA = "quarantine"


@dataclass(frozen=True)
class Quarantined:
    account_id: str | None  # None: failing rows that name no account
    checks: tuple[str, ...]
    failing_rows: int


def record(url: str) -> list[Quarantined]:
    """Read every per-account check's stored failures and make platform.quarantined_accounts
    say which accounts fail which checks now; return them, by account."""
    with psycopg.connect(url) as conn:
        tables = [row[0] for row in conn.execute(
            "select table_name from information_schema.tables where table_schema = %s"
            " order by 1", (SCHEMA,))]
        failing: dict[str | None, tuple[list[str], int]] = {}
        for table in tables:
            query = sql.SQL("select account_id, count(*) from {} group by 1").format(
                sql.Identifier(SCHEMA, table))
            for account_id, rows in conn.execute(query):
                checks, total = failing.get(account_id, ([], 0))
                failing[account_id] = ([*checks, table], total + rows)
        found = [Quarantined(account, tuple(checks), rows)
                 for account, (checks, rows) in sorted(failing.items(), key=lambda i: i[0] or "")]
        keys = [entry.account_id or "" for entry in found]
        with conn.transaction():  # an account in quarantine keeps the time it was first found
            conn.execute("delete from platform.quarantined_accounts"
                         " where account_id <> all(%s)", (keys,))
            for key, entry in zip(keys, found):
                conn.execute(
                    "insert into platform.quarantined_accounts (account_id, checks, failing_rows)"
                    " values (%s, %s, %s) on conflict (account_id) do update"
                    " set checks = excluded.checks, failing_rows = excluded.failing_rows",
                    (key, list(entry.checks), entry.failing_rows))
    return found


def current(url: str) -> list[Quarantined]:
    with psycopg.connect(url) as conn:
        return [Quarantined(account or None, tuple(checks), rows) for account, checks, rows in
                conn.execute("select account_id, checks, failing_rows"
                             " from platform.quarantined_accounts order by 1")]
