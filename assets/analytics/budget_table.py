"""marts.budget_alerts: each account's cost this month, projected to month end and over the
next 30 days from the cost forecasts, against its monthly budget."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from warehouse.analytics_contract import column_names

WARNING_SHARE, CRITICAL_SHARE = 0.8, 1.0
COLUMNS = column_names("budget_alerts")  # the contract: warehouse/analytics_contract.py
COST_SQL = """select account_id, date, sum(cost_usd)::float8 as cost_usd
              from marts.fct_workflow_daily group by 1, 2"""
BUDGET_SQL = "select account_id, monthly_budget_usd::float8 as budget from marts.dim_accounts"
FORECAST_SQL = """select account_id, ds, yhat, yhat_lower, yhat_upper from marts.metric_forecasts
                  where workflow_id is null and metric = 'cost_usd'"""


def status_of(projected: float, budget: float | None) -> str:
    if budget is None or pd.isna(budget) or budget <= 0:
        return "no_budget"
    share = projected / budget
    return "critical" if share >= CRITICAL_SHARE else "warning" if share >= WARNING_SHARE else "ok"


def budget_rows(cost: pd.DataFrame, budgets: pd.DataFrame, forecasts: pd.DataFrame) -> pd.DataFrame:
    now, rows = dt.datetime.now(dt.timezone.utc), []
    if cost.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    cost = cost.assign(date=pd.to_datetime(cost["date"]).dt.date)
    forecasts = forecasts.assign(ds=pd.to_datetime(forecasts["ds"]).dt.date)
    as_of = cost["date"].max()  # the last day with data is "today" for the projection
    month = as_of.replace(day=1)
    month_end = (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date()
    budget_of = dict(zip(budgets["account_id"], budgets["budget"]))
    for account, frame in cost.groupby("account_id"):
        mtd = float(frame.loc[frame["date"] >= month, "cost_usd"].sum())
        fc = forecasts[(forecasts["account_id"] == account) & (forecasts["ds"] > as_of)]
        if len(fc):
            source = "forecast"
            rest = fc[fc["ds"] <= month_end]
            nxt = fc.head(30)
            cols = ["yhat", "yhat_lower", "yhat_upper"]
            # a cost is never negative, whatever an interval says
            rest_sum = [float(rest[c].clip(lower=0).sum()) for c in cols]
            next_sum = [float(nxt[c].clip(lower=0).sum()) for c in cols]
        else:  # no forecast (too little history): the last 7 days' run rate
            source = "run_rate_7d"
            recent = frame[frame["date"] > as_of - dt.timedelta(days=7)]["cost_usd"]
            rate = float(recent.sum()) / 7
            rest_sum = [rate * (month_end - as_of).days] * 3
            next_sum = [rate * 30] * 3
        budget = budget_of.get(account)
        budget = None if budget is None or pd.isna(budget) else float(budget)
        projected = mtd + rest_sum[0]
        rows.append({
            "account_id": account, "as_of": as_of, "month": month, "cost_month_to_date": mtd,
            "projected_month_end": projected, "projected_month_end_low": mtd + rest_sum[1],
            "projected_month_end_high": mtd + rest_sum[2],
            "projected_next_30_days": next_sum[0], "projected_next_30_days_low": next_sum[1],
            "projected_next_30_days_high": next_sum[2], "projection_source": source,
            "monthly_budget_usd": budget,
            "projected_share_of_budget": projected / budget if budget else None,
            "status": status_of(projected, budget), "computed_at": now,
        })
    return pd.DataFrame(rows, columns=list(COLUMNS))
