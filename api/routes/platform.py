"""Account-wide analytics: executions, errors, rankings, costs, budgets, retention, and the
marts written by the forecasting, anomaly and experiment assets when they exist."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

import psycopg
from fastapi import APIRouter, Query
from psycopg import sql
from pydantic import BaseModel, Field

from api.deps import Admin, Conn, Reader
from api.errors import ApiError, not_found
from api.horizon import require_detail
from api.infra.db import table_columns, table_exists
from api.params import DateRange, Granularity, PlatformRange, parse_tz
from api.queries import pending
from api.queries import platform as q
from api.queries.workflows import UNITS, bounds
from api.routes.workflows import owned
from warehouse.analytics_contract import column_names

router = APIRouter(prefix="/api/v1", tags=["platform"])


def _num(value):
    return float(value) if isinstance(value, Decimal) else value


def _rows(cursor) -> list[dict]:
    return [{k: (v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else _num(v))
             for k, v in row.items()} for row in cursor]


def _params(caller, period, unit: str = "day") -> dict:
    start, end = bounds(period, parse_tz(None))
    return {"acc": caller.account_id, "start": start, "end": end, "first": period.start,
            "last": period.end, "unit": unit}


@router.get("/analytics/executions")
def executions(period: PlatformRange, caller: Reader, conn: Conn,
               granularity: Granularity = "daily",
               group_by: Literal["workflow", "trigger_type", "status", "none"] = "none"):
    params = _params(caller, period, UNITS[granularity])
    require_detail(conn, params["start"])  # the hourly mart, or fct_executions by status
    if group_by == "status":
        rows = _rows(conn.execute(q.BY_STATUS, params))
    else:
        query = sql.SQL(q.EXECUTIONS).format(group=sql.SQL(q.GROUPS[group_by]))
        rows = _rows(conn.execute(query, params))
    return {"from": period.start.isoformat(), "to": period.end.isoformat(),
            "granularity": granularity, "group_by": group_by, "series": rows}


# The figures of the marts, plus the account's events received since their last refresh (by
# execution, as in the workflow summary: api/queries/pending.py).
SUMMARY_CHANGES = {"executions": "enrolled", "succeeded": "completed", "failed": "failed",
                   "active": "active", "durations": "durations", "duration_sum": "duration_sum",
                   "cost_usd": "cost_usd", "credits": "credits"}


@router.get("/analytics/executions/summary")
def executions_summary(period: PlatformRange, caller: Reader, conn: Conn):
    params = _params(caller, period)
    with pending.consistent(conn):
        require_detail(conn, params["start"])  # cohort figures of fct_executions
        row = conn.execute(q.SUMMARY, params).fetchone()
        refresh = pending.refresh_state(conn)
        changes = None if refresh is None else pending.changes(
            conn, pending.ACCOUNT, {"acc": caller.account_id}, refresh.watermark,
            params["start"], params["end"])
    figures = dict(row)
    if changes is not None:
        for name, change in SUMMARY_CHANGES.items():
            figures[name] += changes[change]
    total, durations = int(figures["executions"]), int(figures["durations"])
    succeeded, failed = int(figures["succeeded"]), int(figures["failed"])
    return {"from": period.start.isoformat(), "to": period.end.isoformat(),
            "executions": total, "succeeded": succeeded, "failed": failed,
            "active": int(figures["active"]),
            "average_duration_seconds": _num(figures["duration_sum"] / durations)
            if durations else None,
            # null over no execution, as a sum over no row is
            "cost_usd": _num(figures["cost_usd"]) if total else None,
            "credits": _num(figures["credits"]) if total else None,
            "success_rate": round(succeeded * 100 / total, 2) if total else None,
            "failure_rate": round(failed * 100 / total, 2) if total else None,
            "freshness": pending.freshness(refresh, changes)}


@router.get("/analytics/executions/errors")
def executions_errors(period: PlatformRange, caller: Reader, conn: Conn):
    before = period.previous()
    params = {**_params(caller, period), "pfirst": before.start, "plast": before.end}
    rows = _rows(conn.execute(q.ERRORS, params))
    total = sum(r["errors"] for r in rows)
    for r in rows:
        r["share"] = round(r["errors"] * 100 / total, 2) if total else None
        r["trend"] = ("new" if not r["previous_errors"] and r["errors"] else
                      "up" if r["errors"] > r["previous_errors"] else
                      "down" if r["errors"] < r["previous_errors"] else "flat")
    return {"from": period.start.isoformat(), "to": period.end.isoformat(),
            "total_errors": total, "by_error_type": rows}


@router.get("/analytics/workflows/rankings")
def rankings(period: PlatformRange, caller: Reader, conn: Conn,
             by: Literal["slowest", "failure_rate", "cost"] = "slowest",
             limit: Annotated[int, Query(ge=1, le=100)] = 10):
    if by in q.RANKINGS_FROM_DETAIL:
        require_detail(conn, _params(caller, period)["start"])
    rows = _rows(conn.execute(q.RANKINGS[by], {**_params(caller, period), "limit": limit}))
    return {"by": by, "rankings": rows}


@router.get("/analytics/costs")
def costs(period: PlatformRange, caller: Reader, conn: Conn, granularity: Granularity = "daily"):
    if granularity == "hourly":
        raise ApiError(400, "bad_request", "costs are daily or weekly")
    rows = _rows(conn.execute(q.COSTS, _params(caller, period, UNITS[granularity])))
    return {"total_cost_usd": sum(r["cost_usd"] or 0 for r in rows),
            "total_credits": sum(r["credits"] or 0 for r in rows), "series": rows}


@router.get("/analytics/costs/breakdown")
def costs_breakdown(period: PlatformRange, caller: Reader, conn: Conn,
                    by: Literal["action_type", "workflow"] = "action_type"):
    query = sql.SQL(q.BREAKDOWN).format(group=sql.Identifier(q.BREAKDOWN_GROUPS[by]))
    return {"by": by, "breakdown": _rows(conn.execute(query, _params(caller, period)))}


class Budget(BaseModel):
    # the digits of platform.budgets' columns (numeric(18, 6) and (9, 4)): a value they cannot
    # hold, or would round, is refused here rather than overflowing or changing in the table
    monthly_budget_usd: Decimal = Field(ge=0, max_digits=18, decimal_places=6)
    alert_threshold_pct: Decimal = Field(default=Decimal(80), gt=0, le=100, decimal_places=4)


@router.put("/analytics/costs/budgets")
def put_budget(budget: Budget, caller: Admin, conn: Conn):
    conn.execute(
        "insert into platform.budgets (account_id, monthly_budget_usd, alert_threshold_pct)"
        " values (%s, %s, %s) on conflict (account_id) do update set"
        " monthly_budget_usd = excluded.monthly_budget_usd,"
        " alert_threshold_pct = excluded.alert_threshold_pct, updated_at = now()",
        (caller.account_id, budget.monthly_budget_usd, budget.alert_threshold_pct))
    return {"account_id": caller.account_id, "monthly_budget_usd": float(budget.monthly_budget_usd),
            "alert_threshold_pct": float(budget.alert_threshold_pct)}


@router.get("/analytics/retention")
def retention(period: PlatformRange, caller: Reader, conn: Conn,
              cohort_type: Literal["user", "workflow", "contact"] = "user",
              grain: Literal["day", "week", "month"] = "week"):
    rows = _rows(conn.execute(q.RETENTION, {**_params(caller, period), "cohort_type": cohort_type,
                                           "grain": grain}))
    return {"cohort_type": cohort_type, "grain": grain, "cohorts": rows}


# --- marts written by Python assets; served once they exist ---------------------------------

def _optional_mart(conn, table: str, where: str, params: dict, order: str) -> list[dict] | None:
    """The rows of an analytics table, with the columns of its contract; None before it is
    built."""
    if not table_exists(conn, "marts", table):
        return None
    # a table written before a column joined the contract serves the columns it has
    present = table_columns(conn, "marts", table)
    columns = [sql.Identifier(c) for c in column_names(table) if c in present]
    query = sql.SQL("select {} from {} where {} order by {}").format(
        sql.SQL(", ").join(columns), sql.Identifier("marts", table), sql.SQL(where),
        sql.SQL(order))
    try:
        return _rows(conn.execute(query, params))
    except psycopg.errors.UndefinedColumn as exc:
        # a table built by something else, without a column this endpoint filters on
        raise ApiError(404, "not_available",
                       f"marts.{table} exists but lacks a column this endpoint needs: "
                       f"{exc.diag.message_primary}") from None


def _absent(table: str) -> ApiError:
    return ApiError(404, "not_available", f"marts.{table} has not been built in this warehouse yet")


@router.get("/analytics/costs/forecast")
def costs_forecast(caller: Reader, conn: Conn):
    rows = _optional_mart(conn, "metric_forecasts", "account_id = %(acc)s and workflow_id is null and metric like 'cost%%'",
                          {"acc": caller.account_id}, "ds")
    if rows is None:
        raise _absent("metric_forecasts")
    budget = conn.execute("select monthly_budget_usd, alert_threshold_pct from platform.budgets"
                          " where account_id = %s", (caller.account_id,)).fetchone()
    alerts = _optional_mart(conn, "budget_alerts", "account_id = %(acc)s",
                            {"acc": caller.account_id}, "1")
    return {"forecast": rows, "budget": None if budget is None else _rows([budget])[0],
            "budget_alerts": alerts or []}


@router.get("/workflows/{workflow_id}/analytics/anomalies")
def workflow_anomalies(workflow_id: str, period: DateRange, caller: Reader, conn: Conn):
    owned(conn, workflow_id, caller.account_id)
    rows = _optional_mart(conn, "metric_anomalies",
                          "account_id = %(acc)s and workflow_id = %(wf)s"
                          " and (ts at time zone 'UTC')::date between %(first)s and %(last)s",
                          {"acc": caller.account_id, "wf": workflow_id, "first": period.start,
                           "last": period.end}, "ts, metric")
    if rows is None:
        raise _absent("metric_anomalies")
    return {"workflow_id": workflow_id, "anomalies": rows}


@router.get("/workflows/{workflow_id}/analytics/forecast")
def workflow_forecast(workflow_id: str, caller: Reader, conn: Conn):
    owned(conn, workflow_id, caller.account_id)
    rows = _optional_mart(conn, "metric_forecasts", "account_id = %(acc)s and workflow_id = %(wf)s",
                          {"acc": caller.account_id, "wf": workflow_id}, "metric, ds")
    if rows is None:
        raise _absent("metric_forecasts")
    return {"workflow_id": workflow_id, "forecast": rows}


@router.get("/experiments/{experiment_id}/results")
def experiment_results(experiment_id: str, caller: Reader, conn: Conn):
    known = conn.execute(
        "select x.experiment_id from raw.experiments x join marts.dim_workflows w"
        " using (workflow_id) where x.experiment_id = %s and w.account_id = %s",
        (experiment_id, caller.account_id)).fetchone()
    if known is None:
        raise not_found(f"experiment {experiment_id!r}")
    rows = _optional_mart(conn, "experiment_results", "experiment_id = %(id)s",
                          {"id": experiment_id}, "1")
    if rows is None:
        raise _absent("experiment_results")
    return {"experiment_id": experiment_id, "results": rows}
