"""marts.workflow_roi: per workflow and month, the value of the manual work its actions saved
(manual minutes per action type, from the seed, at an hourly rate) plus its goal value,
against its cost."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from assets.analytics.arms import OUTCOMES
from warehouse.analytics_contract import column_names

COLUMNS = column_names("workflow_roi")  # the contract: warehouse/analytics_contract.py


def roi_sql(seed_table: str) -> str:
    """Successful actions valued at the seed's minutes; goal value by the goal's month; cost
    by the month of the step events that incurred it."""
    return f"""
    with actions as (
        select a.account_id, a.workflow_id, date_trunc('month', a.date)::date as month,
               sum(a.successes) as actions_succeeded,
               sum(a.successes * coalesce(m.manual_minutes, 0))::float8 as minutes_saved
        from marts.fct_action_daily a
        left join {seed_table} m on m.action_type = a.action_type
        group by 1, 2, 3
    ), goals as (
        -- fct_execution_outcomes, not fct_executions: it keeps the months the purge cut short
        select account_id, workflow_id, date_trunc('month', goal_date)::date as month,
               sum(goal_value_usd)::float8 as goal_value_usd
        from {OUTCOMES} where goal_date is not null group by 1, 2, 3
    ), cost as (
        select account_id, workflow_id, date_trunc('month', date)::date as month,
               sum(cost_usd)::float8 as cost_usd
        from marts.fct_workflow_daily group by 1, 2, 3
    )
    select account_id, workflow_id, month,
           coalesce(actions_succeeded, 0) as actions_succeeded,
           coalesce(minutes_saved, 0) as minutes_saved,
           coalesce(goal_value_usd, 0) as goal_value_usd, coalesce(cost_usd, 0) as cost_usd
    from cost full join actions using (account_id, workflow_id, month)
              full join goals using (account_id, workflow_id, month)
    """


def roi_rows(frame: pd.DataFrame, hourly_rate_usd: float) -> pd.DataFrame:
    out = frame.copy()
    out["hourly_rate_usd"] = float(hourly_rate_usd)
    out["time_saved_usd"] = out["minutes_saved"].astype(float) / 60 * out["hourly_rate_usd"]
    out["net_value_usd"] = out["time_saved_usd"] + out["goal_value_usd"] - out["cost_usd"]
    # ROI is relative to cost: undefined (null) for a month that cost nothing
    out["roi"] = (out["net_value_usd"] / out["cost_usd"].where(out["cost_usd"] > 0))
    out["computed_at"] = dt.datetime.now(dt.timezone.utc)
    return out.reindex(columns=list(COLUMNS))
