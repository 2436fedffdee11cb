"""Refreshing a workflow's marts and following the job."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import Admin, Conn, Reader
from api.errors import not_found
from api.infra import jobs
from api.routes.workflows import owned
from api.schemas import Job, RefreshQueued

router = APIRouter(prefix="/api/v1", tags=["jobs"])


@router.post("/workflows/{workflow_id}/analytics/refresh", response_model=RefreshQueued,
             status_code=202)
def refresh(request: Request, workflow_id: str, caller: Admin, conn: Conn):
    owned(conn, workflow_id, caller.account_id)
    job_id = jobs.create(conn, caller.account_id, workflow_id)
    jobs.launch(request.app.state.pool, request.app.state.settings, job_id)
    return {"status": "queued", "job_id": job_id,
            "estimated_completion_seconds": jobs.ESTIMATED_SECONDS}


@router.get("/jobs/{job_id}", response_model=Job)
def job(request: Request, job_id: str, caller: Reader, conn: Conn):
    row = jobs.get(conn, job_id, caller.account_id, request.app.state.settings)
    if row is None:
        raise not_found(f"job {job_id!r}")
    stamps = {k: None if row[k] is None else row[k].isoformat()
              for k in ("created_at", "started_at", "finished_at")}
    return {**row, **stamps}
