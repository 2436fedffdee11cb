"""CSV of a workflow's executions, streamed from the server's COPY: constant memory at any size."""

from __future__ import annotations

from collections.abc import Iterator

from psycopg import sql
from psycopg_pool import ConnectionPool

from api.queries.workflows import EXECUTIONS


def stream_executions_csv(pool: ConnectionPool, params: dict) -> Iterator[bytes]:
    with pool.connection() as conn:
        # COPY cannot take server-side parameters: the query is composed with literals by psycopg.
        query = sql.SQL("copy ({}) to stdout with (format csv, header)").format(
            sql.SQL(EXECUTIONS.replace("%(", "{").replace(")s", "}")).format(
                **{k: sql.Literal(v) for k, v in params.items()}))
        with conn.cursor().copy(query) as copy:
            for block in copy:
                yield bytes(block)
