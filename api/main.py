"""The FastAPI application: `uvicorn api.main:app`, or `wfa serve`."""

from __future__ import annotations

from contextlib import asynccontextmanager

import psycopg
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout

from api import errors
from api.infra.db import open_async_pool, open_pool
from api.infra.fast_path import FastPath
from api.infra.guards import RequestGuards
from api.infra.live import Hub
from api.infra.response_cache import ResponseCache
from api.routes import events, exports, health, jobs, platform, stream, workflows
from warehouse.settings import Settings, get_settings

ROUTERS = tuple(module.router for module in
                (health, workflows, exports, stream, jobs, events, platform))


def create_app(settings: Settings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.settings = settings or get_settings()
        app.state.pool = open_pool(app.state.settings)
        app.state.access_pool = await open_async_pool(app.state.settings)
        app.state.response_cache = ResponseCache(app.state.settings.api_cache_entries,
                                                 app.state.settings.api_cache_seconds)
        app.state.hub = Hub(app.state.pool, app.state.settings.api_stream_poll_seconds)
        try:
            yield
        finally:
            await app.state.hub.close()
            app.state.pool.close()
            await app.state.access_pool.close()

    app = FastAPI(title="workflow-analytics API", version="1.0.0", lifespan=lifespan,
                  description="Workflow and platform analytics read from the marts; event "
                              "ingestion; a live stream. Authenticate with `Authorization: "
                              "Bearer <key>` (keys from `wfa apikey create`).")
    errors.install(app)
    app.add_middleware(FastPath, routers=ROUTERS)  # serves the routes marked `kept`
    app.add_middleware(RequestGuards)  # added last: the outermost, before the fast path

    @app.exception_handler(PoolTimeout)
    async def _pool_timeout(_, exc):
        return JSONResponse(errors.error_body("unavailable", "the warehouse does not answer"), 503)

    # a connection lost while in use (the server restarting): the client may retry
    @app.exception_handler(psycopg.OperationalError)
    async def _connection_lost(_, exc):
        return JSONResponse(errors.error_body("unavailable", "the connection to the warehouse "
                                              "was lost; retry"), 503)

    for router in ROUTERS:
        app.include_router(router)
    return app


app = create_app()
