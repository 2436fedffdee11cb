"""Daily partitions in Dagster: a refresh planned from the events watermark, the freshness
sensor, and backfills that leave the marts identical."""

from __future__ import annotations

import json

import dagster as dg
import psycopg
import pytest

from orchestration.partitions import (
    RANGE_END,
    RANGE_START,
    SINCE_TAG,
    WATERMARK_TAG,
    dbt_window_vars,
)
from tests.helpers import query
from warehouse import incremental
from warehouse.ingestion import load_files
from warehouse.runtime import prepare_dbt_manifest

MARTS = ["fct_executions", "fct_workflow_daily", "fct_workflow_step_daily", "fct_action_daily",
         "fct_executions_hourly", "fct_errors_daily", "fct_cost_daily", "fct_user_activity_daily",
         "dim_workflows"]
REFERENCE = ("accounts", "users", "workflows", "workflow_steps", "experiments")


def snapshot(settings) -> dict[str, list[str]]:
    with psycopg.connect(settings.warehouse_url) as conn:
        return {mart: [row[0] for row in conn.execute(
            f"select t::text from marts.{mart} as t order by 1")] for mart in MARTS}


@pytest.fixture(scope="module")
def env(warehouse, tmp_path_factory):
    """Sample data loaded but for its last two arrival days (kept for the sensor test), and the
    Dagster definitions, with WFA_DATABASE_URL pointing at the test warehouse."""
    from warehouse.sample_data import generate

    folder = tmp_path_factory.mktemp("sample")
    generate(folder, events=3000, days=20, seed=3)
    for table in REFERENCE:
        load_files(warehouse.warehouse_url, [folder / f"{table}.jsonl"], table)
    days = sorted((folder / "events").iterdir())
    load_files(warehouse.warehouse_url, days[:-2])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WFA_DATABASE_URL", warehouse.warehouse_url)
        patch.setenv("WFA_PARTITIONS_START", "2026-07-01")
        prepare_dbt_manifest(warehouse)
        from orchestration.definitions import build_definitions

        yield warehouse, build_definitions(), days[-2:], dg.DagsterInstance.ephemeral()


def run(definitions, instance, tags):
    result = definitions.resolve_job_def("refresh_marts").execute_in_process(
        instance=instance, raise_on_error=False, tags=tags)
    assert result.success
    return result


def sensor_result(definitions, instance):
    sensor = definitions.resolve_sensor_def("new_events_sensor")
    return sensor(dg.build_sensor_context(instance=instance))


def test_first_run_builds_every_day_and_records_the_watermark(env):
    settings, definitions, _, instance = env
    request = sensor_result(definitions, instance)
    assert isinstance(request, dg.RunRequest)
    span = query(settings, "select min(occurred_at at time zone 'UTC')::date as first,"
                           " max(received_at) as newest from raw.events")[0]
    assert request.tags[RANGE_START] == span["first"].isoformat()
    run(definitions, instance, request.tags)
    with psycopg.connect(settings.warehouse_url) as conn:
        assert incremental.watermark(conn) == span["newest"]
    assert isinstance(sensor_result(definitions, instance), dg.SkipReason)  # nothing new


def test_a_backfill_of_some_days_gives_identical_marts(env):
    settings, definitions, _, instance = env
    before = snapshot(settings)
    mark = query(settings, "select events_watermark from platform.refresh_state")[0]
    days = [row["date"].isoformat() for row in query(
        settings, "select distinct date from marts.fct_workflow_daily order by 1")]
    result = run(definitions, instance, {RANGE_START: days[3], RANGE_END: days[8]})
    materialised = {event.partition for event in result.get_asset_materialization_events()
                    if event.asset_key == dg.AssetKey(["marts", "fct_workflow_daily"])}
    assert materialised == set(days[3:9])  # one run, six partitions
    assert snapshot(settings) == before
    assert query(settings, "select events_watermark from platform.refresh_state")[0] == mark


def test_the_sensor_refreshes_the_days_new_events_touched(env, tmp_path):
    settings, definitions, late_days, instance = env
    load_files(settings.warehouse_url, late_days)
    request = sensor_result(definitions, instance)
    assert isinstance(request, dg.RunRequest)
    assert WATERMARK_TAG in request.tags and SINCE_TAG in request.tags
    with psycopg.connect(settings.warehouse_url) as conn:
        window = incremental.plan(conn, overlap_seconds=0)
    assert window.start < window.end  # late arrivals reach back before the newest day
    run(definitions, instance, request.tags)
    with psycopg.connect(settings.warehouse_url) as conn:
        assert incremental.plan(conn, overlap_seconds=0) is None

    # the run re-read only the executions of the new events; a backfill of every day, which
    # re-reads every execution of its window, finds nothing to change
    refreshed = snapshot(settings)
    span = query(settings, "select min(date) as first, max(date) as last"
                           " from marts.fct_workflow_daily")[0]
    run(definitions, instance, {RANGE_START: span["first"].isoformat(),
                                RANGE_END: span["last"].isoformat()})
    assert snapshot(settings) == refreshed

    # every enrolment and every cent is in the marts
    raw = query(settings, """
        select count(*) filter (where event_type = 'execution.enrolled') as enrolled,
               sum((properties->>'cost_usd')::numeric)
                   filter (where event_type in ('step.completed', 'step.failed')) as cost
        from raw.events""")[0]
    marts = query(settings, "select sum(new_enrollments) as enrolled, sum(cost_usd) as cost"
                            " from marts.fct_workflow_daily")[0]
    assert marts["enrolled"] == raw["enrolled"] and marts["cost"] == raw["cost"]
    assert json.dumps(sorted(request.tags))  # tags are plain strings


def test_only_a_run_planned_from_the_watermark_names_the_new_events():
    partitions = dg.DailyPartitionsDefinition(start_date="2026-07-01", end_offset=1,
                                              timezone="UTC")
    tags = {WATERMARK_TAG: "2026-08-02T10:00:00+00:00", SINCE_TAG: "2026-08-02T09:00:00+00:00"}
    planned = dbt_window_vars(partitions, "2026-07-10", "2026-07-12", tags)
    assert planned == {"wfa_window_start": "2026-07-10", "wfa_window_end": "2026-07-12",
                       "wfa_received_after": "2026-08-02T09:00:00+00:00",
                       "wfa_received_until": "2026-08-02T10:00:00+00:00"}
    backfill = dbt_window_vars(partitions, "2026-07-10", "2026-07-12", {})
    assert backfill == {"wfa_window_start": "2026-07-10", "wfa_window_end": "2026-07-12"}
    # in the environment, every setting is there, empty when not given (none is inherited)
    assert incremental.dbt_environment(backfill) == {
        "WFA_WINDOW_START": "2026-07-10", "WFA_WINDOW_END": "2026-07-12",
        "WFA_RECEIVED_AFTER": "", "WFA_RECEIVED_UNTIL": ""}
