"""The job that refreshes everything, and its hourly schedule."""

from __future__ import annotations

import dagster as dg

REFRESH_ALL = "refresh_all"
RAW_CHECKED = (dg.AssetKey(["raw", "events"]),)


def build_defs() -> dg.Definitions:
    refresh_all = dg.define_asset_job(
        REFRESH_ALL,
        # the raw tables are written by loads, not by this job; their quality checks run in it
        selection=(dg.AssetSelection.all() - dg.AssetSelection.groups("raw"))
        | dg.AssetSelection.checks_for_assets(*RAW_CHECKED),
        description="Rebuild every model and run every check.",
    )
    hourly = dg.ScheduleDefinition(
        name="refresh_all_hourly", job=refresh_all, cron_schedule="0 * * * *",
        default_status=dg.DefaultScheduleStatus.RUNNING, execution_timezone="UTC",
    )
    return dg.Definitions(jobs=[refresh_all], schedules=[hourly])
