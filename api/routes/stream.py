"""Server-Sent Events: a workflow's live metrics, only those that changed, resumable."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from api.deps import Reader
from api.errors import not_found
from api.infra.live import cursor_id, opening_metrics, parse_cursor
from api.queries.workflows import find_workflow

router = APIRouter(prefix="/api/v1/workflows", tags=["stream"])


def _event(name: str, event_id: str, data: dict) -> bytes:
    return f"event: {name}\nid: {event_id}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"


@router.get("/{workflow_id}/analytics/stream",
            responses={200: {"content": {"text/event-stream": {}}}})
async def stream(request: Request, workflow_id: str, caller: Reader,
                 last_event_id: Annotated[str | None, Header()] = None):
    app = request.app
    settings, hub, pool = app.state.settings, app.state.hub, app.state.pool
    resume_from = parse_cursor(last_event_id)

    def known() -> bool:
        with pool.connection() as conn:
            return find_workflow(conn, workflow_id, caller.account_id) is not None

    if not await asyncio.to_thread(known):
        raise not_found(f"workflow {workflow_id!r}")
    watched = (caller.account_id, workflow_id)
    queue = hub.subscribe(watched)
    try:
        start = await hub.current_cursor()
        # The marts' figures plus the events received since their watermark (or, before any
        # incremental refresh, since the client's Last-Event-ID), up to the cursor the live
        # updates start from: nothing missed, nothing counted twice.
        metrics = await asyncio.to_thread(opening_metrics, pool, workflow_id,
                                          caller.account_id, resume_from, start)
    except BaseException:
        hub.unsubscribe(watched, queue)
        raise

    async def events():
        pending: Counter = Counter()
        cursor = start
        last_sent = last_beat = time.monotonic()
        try:
            yield b"retry: 3000\n\n"
            yield _event("metrics_update", cursor_id(cursor), {
                "workflow_id": workflow_id, "timestamp": cursor.isoformat(),
                "changes": dict(metrics)})
            while not await request.is_disconnected():
                try:
                    since, until, changes = await asyncio.wait_for(queue.get(), 1.0)
                    if until > cursor:
                        pending.update(changes)
                        cursor = until
                except asyncio.TimeoutError:
                    pass
                now = time.monotonic()
                changed = {k: v for k, v in pending.items() if v}
                if changed and now - last_sent >= settings.api_stream_min_gap_seconds:
                    for metric, change in changed.items():
                        metrics[metric] += change
                    payload = {metric: metrics[metric] for metric in changed}
                    if "total_enrolled" in changed:
                        payload["new_enrollments_delta"] = changed["total_enrolled"]
                    yield _event("metrics_update", cursor_id(cursor), {
                        "workflow_id": workflow_id, "timestamp": cursor.isoformat(),
                        "changes": payload})
                    pending.clear()
                    last_sent = last_beat = now
                elif now - last_beat >= settings.api_stream_heartbeat_seconds:
                    yield f": heartbeat {cursor_id(cursor)}\n\n".encode()
                    last_beat = now
        finally:
            hub.unsubscribe(watched, queue)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
