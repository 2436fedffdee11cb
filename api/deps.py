"""Dependencies as Annotated aliases: settings, a pooled connection, the caller and its rights."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api import audit
from api.errors import ApiError
from api.keys import Principal, lookup
from orchestration.settings import Settings

_bearer = HTTPBearer(auto_error=False)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_conn(request: Request) -> Iterator:
    with request.app.state.pool.connection() as conn:
        yield conn


SettingsDep = Annotated[Settings, Depends(get_settings)]
Conn = Annotated[object, Depends(get_conn)]


def authenticate(request: Request,
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
                 ) -> Principal:
    # Short-lived connections here, so a long stream holds none while it waits.
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "unauthorized", "an API key is required: Authorization: Bearer <key>",
                       headers=challenge)
    with request.app.state.pool.connection() as conn:
        principal = lookup(conn, credentials.credentials)
    if principal is None:
        raise ApiError(401, "unauthorized", "unknown or revoked API key", headers=challenge)
    wait = request.app.state.rate_limiter.check(principal.key_id)
    if wait is not None:
        raise ApiError(429, "rate_limited", f"rate limit exceeded; retry in {wait} s",
                       headers={"Retry-After": str(wait)})
    return principal


Caller = Annotated[Principal, Depends(authenticate)]


def _scope(scope: str):
    def check(principal: Caller) -> Principal:
        if scope not in principal.scopes:
            raise ApiError(403, "forbidden", f"this key lacks the {scope!r} scope")
        return principal
    return check


def audited_reader(request: Request,
                   principal: Annotated[Principal, Depends(_scope("read"))]) -> Principal:
    with request.app.state.pool.connection() as conn:
        audit.record(conn, principal, request.method, request.url.path,
                     dict(request.query_params))
    return principal


def admin(principal: Annotated[Principal, Depends(audited_reader)]) -> Principal:
    if principal.role != "admin":
        raise ApiError(403, "forbidden", "this endpoint needs an admin key")
    return principal


Reader = Annotated[Principal, Depends(audited_reader)]
Ingestor = Annotated[Principal, Depends(_scope("ingest"))]
Admin = Annotated[Principal, Depends(admin)]
