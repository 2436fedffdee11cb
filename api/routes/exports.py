"""Exports of a workflow's analytics: CSV of its executions (streamed), JSON, PDF."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from api.deps import Conn, Reader
from api.export.csv_stream import stream_executions_csv
from api.export.pdf_report import render
from api.horizon import require_detail
from api.params import DateRange, parse_tz
from api.queries.workflows import bounds
from api.routes.workflows import analytics_body, funnel_body, owned

router = APIRouter(prefix="/api/v1/workflows", tags=["exports"])


def _disposition(workflow_id: str, ext: str) -> dict:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in workflow_id)
    name = f"workflow-analytics-{safe}-{dt.date.today().isoformat()}.{ext}"
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get("/{workflow_id}/analytics/export",
            responses={200: {"content": {"text/csv": {}, "application/pdf": {},
                                         "application/json": {}}}})
def export(request: Request, workflow_id: str, period: DateRange, caller: Reader, conn: Conn,
           format: Annotated[Literal["csv", "json", "pdf"], Query()] = "csv",
           tz: Annotated[str | None, Query()] = None):
    workflow = owned(conn, workflow_id, caller.account_id)
    headers = _disposition(workflow_id, format)
    if format == "csv":
        zone = parse_tz(tz, conn)
        start, end = bounds(period, zone)
        require_detail(conn, start, zone)  # one row per execution: the detail
        params = {"wf": workflow_id, "acc": caller.account_id, "start": start, "end": end}
        return StreamingResponse(stream_executions_csv(request.app.state.pool, params),
                                 media_type="text/csv", headers=headers)
    analytics = analytics_body(conn, workflow_id, caller.account_id, period, "daily", tz, None)
    funnel = funnel_body(conn, workflow, caller.account_id, period, None)
    if format == "json":
        return JSONResponse({**analytics, "funnel": funnel}, headers=headers)
    pdf = render(workflow["workflow_name"] or workflow_id, analytics, funnel)
    return Response(pdf, media_type="application/pdf", headers=headers)
