"""Answers kept in memory (api/infra/response_cache.py) served before FastAPI's routing.

A cached summary or funnel costs one statement (the key, its rate limit, the audit row and the
data token: api/infra/audit.py) and a dictionary lookup; the rest of a request's time went to
FastAPI's routing, dependency solving and parameter validation. So a GET of a kept route is
authorised here, and answered here when the answer is kept under the current token. Anything
else goes on to the application with the verdict already reached (request.state.verdict), so a
request is counted against its rate limit and audited once, and refused with the same errors.
A kept answer was computed for exactly this path and these parameters, which were validated
then; and for this account, which is part of its key.

The kept routes are the routers' own routes whose endpoint is marked with `kept`: a path is
written once, on its route, and matched here by that route's own pattern.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from starlette.requests import Request
from starlette.routing import BaseRoute, get_route_path

from api.deps import authorise_request

KEPT = "kept_answer"


def kept(endpoint: Callable) -> Callable:
    """Marks an endpoint that answers through the response cache under response_key. Its
    route must authorise as Reader does (scope read, audited): the fast path does so for it."""
    setattr(endpoint, KEPT, True)
    return endpoint


def kept_routes(routers: Iterable) -> list[BaseRoute]:
    """The routes of these routers whose endpoint is marked `kept`, in their order."""
    return [route for router in routers for route in router.routes
            if getattr(getattr(route, "endpoint", None), KEPT, False)]


class FastPath:
    def __init__(self, app, routers: Iterable = ()):
        self.app = app
        self.routes = kept_routes(routers)

    def path_params(self, scope) -> dict | None:
        """The path parameters of the kept route this request goes to, if any: the route's own
        pattern and converters (not route.matches, which costs twice as much)."""
        path = get_route_path(scope)
        for route in self.routes:
            matched = route.path_regex.match(path)
            if matched and scope["method"] in route.methods:
                return {name: route.param_convertors[name].convert(value)
                        for name, value in matched.groupdict().items()}
        return None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET":
            return await self.app(scope, receive, send)
        params = self.path_params(scope)
        if params is None:
            return await self.app(scope, receive, send)
        request = Request(scope)
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key:
            return await self.app(scope, receive, send)
        try:
            verdict = await authorise_request(request, key, "read", True, params.get("workflow_id"))
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
