"""The dbt models as Dagster assets, their dbt tests as asset checks.

Three @dbt_assets, in the order a run needs them: the staging views (and the data's span) that
everything reads; the incremental models, partitioned by day, which a run rebuilds for a window
of days (one dbt invocation per backfill); the rest (dimensions, retention cohorts), rebuilt
whole from the incremental models. No `from __future__ import annotations` here: Dagster reads
the context annotation at runtime.
"""

import os
from contextlib import contextmanager

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.dbt_resources import WarehouseTranslator, dbt_project, export_dbt_environment
from orchestration.partitions import WATERMARK_TAG, daily_partitions, dbt_window_vars
from warehouse import incremental
from warehouse.settings import get_settings

INCREMENTAL = "config.materialized:incremental"
UPSTREAM = "path:models/staging int_event_dates_bounded"


def _tests_of(mode: str) -> None:
    """Which dbt tests a step runs besides its models' own (dbt indirect selection): the
    staging step only tests that read staging alone (cautious); the incremental step those that
    read it and what it reads (buildable); the last step every other (eager). So a test that
    reads a dimension runs after the dimension is rebuilt, never against the previous one."""
    os.environ["DBT_INDIRECT_SELECTION"] = mode


@contextmanager
def _environment(values: dict[str, str]):
    """os.environ with `values` while dbt starts (dagster-dbt hands it the process's
    environment), as it was afterwards."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _record_quarantine(context: AssetExecutionContext) -> None:
    """After a build whose per-account checks passed or only warned: which accounts fail them
    now (quality/quarantine.py). The refresh goes on for every account. (The staging step runs
    none of those checks: they read the marts.)"""
    from quality.quarantine import record

    for entry in record(get_settings().warehouse_url):
        context.log.warning(f"account {entry.account_id or '(none)'} is in quarantine: it fails "
                            f"{', '.join(entry.checks)} (failing rows: {entry.failing_rows})")


def _record_watermark(context: AssetExecutionContext, window_vars: dict) -> None:
    """A run planned from the watermark (sensor, schedule, `wfa run`) moves it on once its
    models are built; backfills and partition runs from the UI leave it where it is."""
    import datetime as dt

    import psycopg

    mark = context.run.tags.get(WATERMARK_TAG)
    if not mark:
        return
    start, end = context.partition_key_range.start, context.partition_key_range.end
    window = incremental.Window(dt.date.fromisoformat(window_vars.get("wfa_window_start", start)),
                                dt.date.fromisoformat(window_vars.get("wfa_window_end", end)),
                                dt.datetime.fromisoformat(mark))
    with psycopg.connect(get_settings().warehouse_url, autocommit=True) as conn:
        incremental.record(conn, window)
    context.log.info(f"events watermark now {mark}")


def build_defs() -> dg.Definitions:
    project = dbt_project()
    translator = WarehouseTranslator()
    partitions = daily_partitions(get_settings())

    @dbt_assets(manifest=project.manifest_path, project=project, dagster_dbt_translator=translator,
                select=UPSTREAM, name="warehouse_dbt_staging")
    def warehouse_dbt_staging(context: AssetExecutionContext, dbt: DbtCliResource):
        export_dbt_environment()
        _tests_of("cautious")
        yield from dbt.cli(["build"], context=context).stream()

    @dbt_assets(manifest=project.manifest_path, project=project, dagster_dbt_translator=translator,
                select=INCREMENTAL, name="warehouse_dbt_incremental",
                partitions_def=partitions, backfill_policy=dg.BackfillPolicy.single_run())
    def warehouse_dbt_incremental(context: AssetExecutionContext, dbt: DbtCliResource):
        export_dbt_environment()
        _tests_of("buildable")
        key_range = context.partition_key_range
        window_vars = dbt_window_vars(partitions, key_range.start, key_range.end,
                                      context.run.tags)
        context.log.info(f"window of days: {window_vars or 'every day with data'}")
        with _environment(incremental.dbt_environment(window_vars)):
            yield from dbt.cli(["build"], context=context).stream()
        _record_quarantine(context)
        _record_watermark(context, window_vars)

    @dbt_assets(manifest=project.manifest_path, project=project, dagster_dbt_translator=translator,
                exclude=f"{INCREMENTAL} {UPSTREAM}", name="warehouse_dbt_models")
    def warehouse_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource):
        export_dbt_environment()
        _tests_of("eager")
        yield from dbt.cli(["build"], context=context).stream()
        _record_quarantine(context)

    return dg.Definitions(
        assets=[warehouse_dbt_staging, warehouse_dbt_incremental, warehouse_dbt_models])
