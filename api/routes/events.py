"""Event ingestion over HTTP."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api.deps import Conn, Ingestor
from api.queries.ingest import ingest, parse_body
from api.schemas import IngestResult

router = APIRouter(prefix="/api/v1", tags=["ingestion"])


@router.post("/events", response_model=IngestResult,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                 "application/x-ndjson": {"schema": {"type": "string"}}}}})
async def post_events(request: Request, caller: Ingestor, conn: Conn):
    events = parse_body(await request.body(), request.headers.get("content-type", ""))
    return await run_in_threadpool(ingest, conn, events, caller.account_id,
                                   f"api:{caller.key_id}", request.app.state.settings.event_window())
