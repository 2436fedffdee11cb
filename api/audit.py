"""Every analytics read and export leaves a row in platform.audit_log."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from api.keys import Principal


def record(conn, principal: Principal, method: str, endpoint: str, parameters: dict) -> None:
    with conn.transaction():
        # Reads must not wait for a WAL flush: an audit row is durable a fraction of a second
        # later, and only a crash of the server in between could lose it.
        conn.execute("set local synchronous_commit = off")
        conn.execute(
            "insert into platform.audit_log (key_id, account_id, method, endpoint, parameters)"
            " values (%s, %s, %s, %s, %s)",
            (principal.key_id, principal.account_id, method, endpoint, Jsonb(parameters)))
