"""The job that refreshes everything, and its hourly schedule."""

from __future__ import annotations

import dagster as dg

REFRESH_ALL = "refresh_all"


def build_defs() -> dg.Definitions:
    refresh_all = dg.define_asset_job(
        REFRESH_ALL,
        selection=dg.AssetSelection.all() - dg.AssetSelection.groups("raw"),
        description="Rebuild every model and run every check.",
    )
    hourly = dg.ScheduleDefinition(
        name="refresh_all_hourly", job=refresh_all, cron_schedule="0 * * * *",
        default_status=dg.DefaultScheduleStatus.RUNNING, execution_timezone="UTC",
    )
    return dg.Definitions(jobs=[refresh_all], schedules=[hourly])
