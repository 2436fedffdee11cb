"""Dependencies as Annotated aliases: a pooled connection, the caller and its rights.

Each synchronous dependency costs FastAPI a trip through its thread pool, and under load those
trips, not the queries, were most of a request's time. So every dependency here is `async def`:
the key is looked up, rate-limited and the read audited in one statement awaited on the event
loop (api/infra/audit.py), and a connection for the endpoint is only taken in the endpoint's thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from api.infra import audit
from api.infra.keys import Principal, hash_key

_bearer = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
CHALLENGE = {"WWW-Authenticate": "Bearer"}


class PooledConnection:
    """A request's warehouse connection, taken from the pool at its first use (in the thread
    that runs the endpoint) and given back when the request is done.

    Taking it in a dependency of its own would hold it while the request waits for a thread of
    FastAPI's pool to run its endpoint; under load every thread could then be waiting for a
    connection held by a request waiting for a thread, and nothing would move.
    """

    def __init__(self, pool):
        self._pool, self._conn = pool, None

    def __getattr__(self, name: str):
        if self._conn is None:
            self._conn = self._pool.getconn()
        return getattr(self._conn, name)

    def release(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            self._pool.putconn(conn)


async def get_conn(request: Request) -> AsyncIterator[PooledConnection]:
    conn = PooledConnection(request.app.state.pool)
    try:
        yield conn
    finally:
        conn.release()


Conn = Annotated[object, Depends(get_conn)]


def _presented_key(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "unauthorized", "an API key is required: Authorization: Bearer <key>",
                       headers=CHALLENGE)
    return credentials.credentials


async def authorise_request(request: Request, key: str, scope: str, audited: bool,
                            workflow_id: str | None) -> audit.Verdict:
    """The verdict on the request's key (api/infra/audit.py), kept on request.state: the dependencies
    below raise from it, and the answer cache reads its data token. Short-lived connection (of
    the event loop's own pool): a stream holds none while it waits."""
    state = request.app.state
    async with state.access_pool.connection() as conn:
        verdict = await audit.authorise(
            conn, hash_key(key), scope, state.settings.api_rate_limit_per_minute,
            (request.method, request.url.path, dict(request.query_params)) if audited else None,
            workflow_id)
    request.state.verdict = verdict
    return verdict


async def _authorise(request: Request, credentials: HTTPAuthorizationCredentials | None,
                     scope: str, audited: bool) -> Principal:
    """The key's principal, within its rate limit and with `scope`; a read is audited by the
    statement that looks the key up."""
    # reached already when the request came by the fast path (api/infra/fast_path.py)
    verdict = getattr(request.state, "verdict", None)
    if verdict is None:
        verdict = await authorise_request(request, _presented_key(credentials), scope, audited,
                                          request.path_params.get("workflow_id"))
    if verdict.principal is None:
        raise ApiError(401, "unauthorized", "unknown or revoked API key", headers=CHALLENGE)
    if verdict.wait_seconds is not None:
        raise ApiError(429, "rate_limited",
                       f"rate limit exceeded; retry in {verdict.wait_seconds} s",
                       headers={"Retry-After": str(verdict.wait_seconds)})
    if scope not in verdict.principal.scopes:
        raise ApiError(403, "forbidden", f"this key lacks the {scope!r} scope")
    return verdict.principal


async def audited_reader(request: Request, credentials: Credentials) -> Principal:
    return await _authorise(request, credentials, "read", audited=True)


async def ingestor(request: Request, credentials: Credentials) -> Principal:
    return await _authorise(request, credentials, "ingest", audited=False)


async def admin(principal: Annotated[Principal, Depends(audited_reader)]) -> Principal:
    if principal.role != "admin":
        raise ApiError(403, "forbidden", "this endpoint needs an admin key")
    return principal


Reader = Annotated[Principal, Depends(audited_reader)]
Ingestor = Annotated[Principal, Depends(ingestor)]
Admin = Annotated[Principal, Depends(admin)]
