"""The fast path serves the routes marked `kept`, matched by their own patterns: a kept answer's
path is its route's, in the application's route table (api/infra/fast_path.py)."""

from __future__ import annotations

from fastapi import APIRouter

from api.infra.fast_path import FastPath, kept, kept_routes
from api.main import create_app

SUMMARY = "/api/v1/workflows/{workflow_id}/analytics"
FUNNEL = "/api/v1/workflows/{workflow_id}/analytics/funnel"


def get(path: str) -> dict:
    return {"type": "http", "method": "GET", "path": path, "root_path": "", "headers": []}


def test_every_kept_route_is_a_registered_get_of_the_same_template():
    app = create_app()
    [fast_path] = [m for m in app.user_middleware if m.cls is FastPath]
    served = kept_routes(fast_path.kwargs["routers"])
    assert [route.path for route in served] == [SUMMARY, FUNNEL]
    paths = app.openapi()["paths"]
    for route in served:
        # the operation registered at this template is this very route
        assert paths[route.path]["get"]["operationId"] == route.unique_id
        assert route.methods == {"GET"}


def test_the_fast_path_follows_its_route_when_the_path_is_renamed():
    def fast_path_of(template: str) -> FastPath:
        router = APIRouter(prefix="/v1")

        @router.get(template)
        @kept
        async def summary(workflow_id: str):
            return {}

        @router.get("/{workflow_id}/other")
        async def other(workflow_id: str):  # not kept: never served by the fast path
            return {}
        return FastPath(None, routers=[router])

    before, after = fast_path_of("/{workflow_id}/summary"), fast_path_of("/{workflow_id}/overview")
    assert before.path_params(get("/v1/wf_a/summary")) == {"workflow_id": "wf_a"}
    assert before.path_params(get("/v1/wf_a/overview")) is None
    assert after.path_params(get("/v1/wf_a/overview")) == {"workflow_id": "wf_a"}
    assert after.path_params(get("/v1/wf_a/summary")) is None
    assert before.path_params(get("/v1/wf_a/other")) is None
    assert before.path_params({**get("/v1/wf_a/summary"), "method": "POST"}) is None
