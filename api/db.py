"""The warehouse connection pool the API reads and writes through."""

from __future__ import annotations

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from orchestration.settings import Settings


def open_pool(settings: Settings) -> ConnectionPool:
    pool = ConnectionPool(
        settings.warehouse_url, min_size=1, max_size=settings.api_pool_max,
        kwargs={"row_factory": dict_row, "autocommit": True}, open=False, name="wfa-api",
    )
    pool.open(wait=False)
    return pool


async def open_async_pool(settings: Settings) -> AsyncConnectionPool:
    """For the one statement every request runs before its endpoint (api/audit.py): awaited on
    the event loop, it costs no trip through FastAPI's thread pool."""
    pool = AsyncConnectionPool(
        settings.warehouse_url, min_size=1, max_size=settings.api_pool_max,
        kwargs={"row_factory": dict_row, "autocommit": True}, open=False, name="wfa-api-access",
    )
    await pool.open(wait=False)
    return pool


def table_exists(conn, schema: str, table: str) -> bool:
    """Marts written by other assets may not exist yet in a given warehouse."""
    return conn.execute("select to_regclass(%s) is not null as ok",
                        (f"{schema}.{table}",)).fetchone()["ok"]
