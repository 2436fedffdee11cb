"""Answers kept in memory (api/infra/response_cache.py) served before FastAPI's routing.

A cached summary or funnel costs one statement (the key, its rate limit, the audit row and the
data token: api/infra/audit.py) and a dictionary lookup; the rest of a request's time went to
FastAPI's routing, dependency solving and parameter validation. So a GET of those two paths is
authorised here, and answered here when the answer is kept under the current token. Anything
else goes on to the application with the verdict already reached (request.state.verdict), so a
request is counted against its rate limit and audited once, and refused with the same errors.
A kept answer was computed for exactly this path and these parameters, which were validated
then; and for this account, which is part of its key.
"""

from __future__ import annotations

import re

from starlette.requests import Request

from api.deps import authorise_request

CACHED_PATHS = re.compile(r"/api/v1/workflows/(?P<workflow_id>[^/]+)/analytics(?:/funnel)?")


class FastPath:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET":
            return await self.app(scope, receive, send)
        matched = CACHED_PATHS.fullmatch(scope["path"])
        if matched is None:
            return await self.app(scope, receive, send)
        request = Request(scope)
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key:
            return await self.app(scope, receive, send)
        try:
            verdict = await authorise_request(request, key, "read", True, matched["workflow_id"])
        except Exception:  # noqa: BLE001 - the application authorises again and answers
            return await self.app(scope, receive, send)
        principal = verdict.principal
        if principal is not None and verdict.wait_seconds is None and "read" in principal.scopes:
            body = request.app.state.response_cache.get(
                response_key(principal.account_id, request), verdict.data_token)
            if body is not None:
                await send({"type": "http.response.start", "status": 200, "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def response_key(account_id: str, request: Request) -> tuple:
    """An answer's key in the response cache: the account, the path and the parameters."""
    return account_id, request.url.path, tuple(sorted(request.query_params.multi_items()))
