"""The refresh jobs, and what starts them: the freshness sensor (events landed), the hourly
schedule (everything, analytics included).

A refresh is one run over the partitions (days) that the events received since the last
refresh touched (warehouse/incremental.py); it moves the events watermark on when its dbt
models are built.
"""

from __future__ import annotations

import dagster as dg

from orchestration.dagster_home import REFRESH_TAG
from orchestration.partitions import RANGE_END, RANGE_START, daily_partitions, run_tags
from warehouse.settings import get_settings

REFRESH_ALL = "refresh_all"
REFRESH_MARTS = "refresh_marts"
RAW_CHECKED = (dg.AssetKey(["raw", "events"]),)


def planned_tags() -> dict[str, str] | None:
    """Run tags for a refresh of what is new, or None when nothing is."""
    import psycopg

    from warehouse import incremental

    settings = get_settings()
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        window = incremental.plan(conn, settings.incremental_overlap_seconds)
    return None if window is None else run_tags(daily_partitions(settings), window)


def refresh_tags() -> dict[str, str]:
    """Run tags for a refresh: what is new, or, when nothing is, today's partition (the models
    that are not incremental and the analytics still rebuild)."""
    tags = planned_tags()
    if tags is None:
        today = daily_partitions(get_settings()).get_last_partition_key()
        tags = {RANGE_START: today, RANGE_END: today}
    return tags


def _busy(instance: dg.DagsterInstance) -> bool:
    """A refresh is queued or running: the next one waits for it (both would rebuild the same days).
    A run left unfinished by a killed process is marked failed first: it would wait forever."""
    from orchestration.stale_runs import fail_orphaned_runs

    fail_orphaned_runs(instance, echo=lambda _: None)
    runs = instance.get_runs(filters=dg.RunsFilter(
        job_name=None, statuses=[dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
                                 dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]),
        limit=20)
    return any(run.job_name in (REFRESH_ALL, REFRESH_MARTS) for run in runs)


def build_defs() -> dg.Definitions:
    """The refresh jobs execute their steps in the run's own process: a step process of its own
    would load the definitions (the dbt manifest) again, which took longer than most steps."""
    settings = get_settings()
    # the raw tables are written by loads, not by these jobs; their quality checks run in them
    everything = (dg.AssetSelection.all() - dg.AssetSelection.groups("raw")) \
        | dg.AssetSelection.checks_for_assets(*RAW_CHECKED)
    refresh_all = dg.define_asset_job(
        REFRESH_ALL, selection=everything,
        partitions_def=daily_partitions(settings), tags={REFRESH_TAG: "marts"},
        executor_def=dg.in_process_executor,
        description="Rebuild the days that new events touched, every other model, the analytics "
                    "assets, and run every check.")
    refresh_marts = dg.define_asset_job(
        REFRESH_MARTS,
        selection=dg.AssetSelection.groups("staging", "intermediate", "marts")
        | dg.AssetSelection.checks_for_assets(*RAW_CHECKED),
        partitions_def=daily_partitions(settings), tags={REFRESH_TAG: "marts"},
        executor_def=dg.in_process_executor,
        description="Rebuild the days that new events touched and the models read from them, "
                    "with their checks (no analytics).")

    @dg.sensor(job=refresh_marts, minimum_interval_seconds=settings.freshness_sensor_seconds,
               default_status=dg.DefaultSensorStatus.RUNNING,
               description="Starts an incremental refresh of the marts when events have landed.")
    def new_events_sensor(context: dg.SensorEvaluationContext):
        if _busy(context.instance):
            return dg.SkipReason("a refresh is already queued or running")
        tags = planned_tags()
        if tags is None:
            return dg.SkipReason("no event received since the last refresh")
        return dg.RunRequest(tags=tags)

    @dg.schedule(job=refresh_all, cron_schedule="0 * * * *", execution_timezone="UTC",
                 default_status=dg.DefaultScheduleStatus.RUNNING, name="refresh_all_hourly",
                 description="Every hour: the analytics assets, with whatever days are new.")
    def refresh_all_hourly(context: dg.ScheduleEvaluationContext):
        if _busy(context.instance):
            return dg.SkipReason("a refresh is already queued or running")
        return dg.RunRequest(tags=refresh_tags())

    return dg.Definitions(jobs=[refresh_all, refresh_marts], sensors=[new_events_sensor],
                          schedules=[refresh_all_hourly])
