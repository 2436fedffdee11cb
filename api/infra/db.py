"""The warehouse connection pool the API reads and writes through."""

from __future__ import annotations

import select

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from warehouse.settings import Settings

# Both pools check a connection before lending it. After a restart of the server every pooled
# connection is dead: unchecked, each would fail a request before the pool dropped it. An idle
# connection receives nothing unless the server has closed it (or sent it a notice), so the check
# is a look at its socket, and a round trip only when something is there to read: no cost to a
# request in the common case. A failed check makes the pool check all its idle connections at
# once, so the request's retry waits for one new connection, instead of meeting the dead ones
# one by one with the pool's growing delay between retries (1, 2, 4, 8 s...: past its 30 s
# timeout with ten of them).

def _quiet(conn) -> bool:
    """Nothing to read on the idle connection's socket: the server has not closed it."""
    try:
        return not select.select([conn.fileno()], [], [], 0)[0]
    except (OSError, ValueError, psycopg.Error):  # closed already
        return False


def open_pool(settings: Settings) -> ConnectionPool:
    def check(conn) -> None:
        if _quiet(conn):
            return
        try:
            ConnectionPool.check_connection(conn)
        except Exception:
            pool.check()
            raise

    pool = ConnectionPool(
        settings.warehouse_url, min_size=1, max_size=settings.api_pool_max,
        kwargs={"row_factory": dict_row, "autocommit": True}, open=False, name="wfa-api",
        check=check,
    )
    pool.open(wait=False)
    return pool


async def open_async_pool(settings: Settings) -> AsyncConnectionPool:
    """For the one statement every request runs before its endpoint (api/infra/audit.py): awaited on
    the event loop, it costs no trip through FastAPI's thread pool."""
    async def check(conn) -> None:
        if _quiet(conn):
            return
        try:
            await AsyncConnectionPool.check_connection(conn)
        except Exception:
            await pool.check()
            raise

    pool = AsyncConnectionPool(
        settings.warehouse_url, min_size=1, max_size=settings.api_pool_max,
        kwargs={"row_factory": dict_row, "autocommit": True}, open=False, name="wfa-api-access",
        check=check,
    )
    await pool.open(wait=False)
    return pool


def table_exists(conn, schema: str, table: str) -> bool:
    """Marts written by other assets may not exist yet in a given warehouse."""
    return conn.execute("select to_regclass(%s) is not null as ok",
                        (f"{schema}.{table}",)).fetchone()["ok"]


def table_columns(conn, schema: str, table: str) -> set[str]:
    return {row["attname"] for row in conn.execute(
        "select attname from pg_attribute where attrelid = to_regclass(%s)"
        " and attnum > 0 and not attisdropped", (f"{schema}.{table}",))}
