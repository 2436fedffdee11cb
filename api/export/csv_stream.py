"""CSV of a workflow's executions, streamed from the server's COPY: constant memory at any size."""

from __future__ import annotations

from collections.abc import Iterator

from psycopg import sql
from psycopg_pool import ConnectionPool

from api.queries.workflows import EXECUTIONS

CHUNK_BYTES = 256 * 1024


def stream_executions_csv(pool: ConnectionPool, params: dict) -> Iterator[bytes]:
    with pool.connection() as conn:
        # COPY cannot take server-side parameters: the query is composed with literals by psycopg.
        query = sql.SQL("copy ({}) to stdout with (format csv, header)").format(
            sql.SQL(EXECUTIONS.replace("%(", "{").replace(")s", "}")).format(
                **{k: sql.Literal(v) for k, v in params.items()}))
        buffer = bytearray()
        with conn.cursor().copy(query) as copy:
            # COPY hands over about a row at a time: sent in 256 KB pieces instead.
            for block in copy:
                buffer += block
                if len(buffer) >= CHUNK_BYTES:
                    yield bytes(buffer)
                    buffer.clear()
        if buffer:
            yield bytes(buffer)
