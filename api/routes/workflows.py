"""A workflow's analytics: summary and trends, funnel, actions (seed SPEC-WFL-009 shapes)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.deps import Conn, Reader
from api.errors import not_found
from api.infra.fast_path import kept, response_key
from api.params import DateRange, Granularity, Period, parse_tz
from api.queries import pending
from api.queries import workflows as q
from api.schemas import Actions, Funnel, WorkflowAnalytics

router = APIRouter(prefix="/api/v1/workflows", tags=["workflows"])

DELTA_KEYS = ("total_enrolled", "currently_active", "completed", "completion_rate",
              "goals_achieved", "conversion_rate", "average_duration_hours")


def owned(conn, workflow_id: str, account_id: str) -> dict:
    workflow = q.find_workflow(conn, workflow_id, account_id)
    if workflow is None:
        raise not_found(f"workflow {workflow_id!r}")
    return workflow


def period_out(period: Period) -> dict:
    return {"start_date": period.start.isoformat(), "end_date": period.end.isoformat()}


def deltas(current: dict, previous: dict) -> dict:
    return {k: None if current[k] is None or previous[k] is None
            else round(current[k] - previous[k], 4) for k in DELTA_KEYS}


def analytics_body(conn, workflow_id: str, account_id: str, period: Period, granularity: str,
                   tz: str | None, compare: str | None) -> dict:
    """The summary adds the events received since the last refresh of the marts (their status
    as of now, not as of the refresh; api/queries/pending.py); the trends are the marts'."""
    zone = parse_tz(tz, conn)
    with pending.consistent(conn):
        refresh = pending.refresh_state(conn)
        summary, changes = q.summary(conn, workflow_id, account_id, period, zone, refresh)
        body = {"workflow_id": workflow_id, "period": period_out(period), "summary": summary,
                "trends": q.trends(conn, workflow_id, account_id, period, zone, granularity)}
        if compare == "previous_period":
            before = period.previous()
            previous, _ = q.summary(conn, workflow_id, account_id, before, zone, refresh)
            body["comparison"] = {"period": period_out(before), "summary": previous,
                                  "deltas": deltas(summary, previous)}
    body["freshness"] = pending.freshness(refresh, changes)
    return body


async def cached(request: Request, account_id: str, model: type[BaseModel], build,
                 exclude_unset: bool = False) -> Response:
    """The answer serialised by its response model, from memory while the data under it is
    unchanged (api/infra/response_cache.py: the token was read when the request was authorised);
    otherwise `build(conn)` in a worker thread, on a connection of its own. The account is part
    of the key: an answer is only ever served to the account it was computed (and authorised)
    for."""
    pool = request.app.state.pool

    def compute() -> bytes:
        with pool.connection() as conn:
            answer = model.model_validate(build(conn))
        return answer.model_dump_json(exclude_unset=exclude_unset).encode()

    body = await request.app.state.response_cache.answer(
        response_key(account_id, request), request.state.verdict.data_token,
        lambda: run_in_threadpool(compute))
    return Response(body, media_type="application/json")


# Unset, not None: `comparison` appears only when asked for, null rates stay null.
@router.get("/{workflow_id}/analytics", response_model=WorkflowAnalytics,
            response_model_exclude_unset=True)
@kept
async def workflow_analytics(request: Request, workflow_id: str, period: DateRange,
                             caller: Reader, granularity: Granularity = "daily",
                             compare: Annotated[Literal["previous_period"] | None, Query()] = None,
                             tz: Annotated[str | None,
                                           Query(description="IANA zone, e.g. Europe/Paris")] = None):
    def build(conn) -> dict:
        owned(conn, workflow_id, caller.account_id)
        return analytics_body(conn, workflow_id, caller.account_id, period, granularity, tz,
                              compare)
    return await cached(request, caller.account_id, WorkflowAnalytics, build,
                        exclude_unset=True)


def funnel_body(conn, workflow: dict, account_id: str, period: Period, version: int | None) -> dict:
    steps = q.funnel_steps(conn, workflow["workflow_id"], account_id,
                           version or workflow["latest_version"], period)
    # the funnel's steps come from the marts: so does its overall conversion
    summary, _ = q.summary(conn, workflow["workflow_id"], account_id, period, parse_tz(None))
    return {"workflow_id": workflow["workflow_id"], "funnel_steps": steps,
            "overall_conversion": summary["conversion_rate"], "bottleneck_step": q.bottleneck(steps)}


@router.get("/{workflow_id}/analytics/funnel", response_model=Funnel)
@kept
async def workflow_funnel(request: Request, workflow_id: str, period: DateRange,
                          caller: Reader,
                          version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None):
    def build(conn) -> dict:
        workflow = owned(conn, workflow_id, caller.account_id)
        return funnel_body(conn, workflow, caller.account_id, period, version)
    return await cached(request, caller.account_id, Funnel, build)


@router.get("/{workflow_id}/analytics/actions", response_model=Actions)
def workflow_actions(workflow_id: str, period: DateRange, caller: Reader, conn: Conn):
    owned(conn, workflow_id, caller.account_id)
    return {"workflow_id": workflow_id,
            "actions": q.actions(conn, workflow_id, caller.account_id, period)}
