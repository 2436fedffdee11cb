"""The Dagster definitions load, and an in-process run materialises every asset on small data."""

from __future__ import annotations

from decimal import Decimal

import dagster as dg
import pytest

from tests.helpers import query
from warehouse.ingestion import load_files
from warehouse.runtime import prepare_dbt_manifest

MARTS = [
    "dim_accounts", "dim_workflows", "dim_workflow_steps", "fct_executions", "fct_workflow_daily",
    "fct_workflow_step_daily", "fct_action_daily", "fct_executions_hourly", "fct_errors_daily",
    "fct_cost_daily", "fct_retention_cohorts", "fct_user_activity_daily",
]
ANALYTICS = ["metric_forecasts", "metric_anomalies", "alerts", "experiment_results",
             "version_comparison", "budget_alerts", "workflow_roi"]


@pytest.fixture(scope="module")
def definitions(warehouse):
    prepare_dbt_manifest(warehouse)
    from orchestration.definitions import build_definitions

    return build_definitions()


def test_definitions_load_with_raw_sources_models_checks_job_and_schedule(definitions):
    repository = definitions.get_repository_def()
    keys = {key.to_user_string() for key in repository.asset_graph.get_all_asset_keys()}
    assert {"raw/events", "raw/accounts", "raw/workflow_steps"} <= keys
    assert {f"marts/{name}" for name in MARTS} <= keys
    assert "staging/stg_raw__events" in keys

    graph = repository.asset_graph
    assert graph.get(dg.AssetKey(["marts", "fct_executions"])).group_name == "marts"
    assert graph.get(dg.AssetKey(["raw", "events"])).group_name == "raw"
    assert {graph.get(dg.AssetKey(["marts", name])).group_name for name in ANALYTICS} == {
        "analytics"}
    check_keys = {key.asset_key.to_user_string() for key in graph.asset_check_keys}
    assert {f"marts/{name}" for name in MARTS} <= check_keys  # every mart has dbt tests as checks
    # the singular tests that read several models are checks of the mart they guard
    named_checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
    assert {("marts/fct_cost_daily", "assert_costs_reconcile"),
            ("marts/fct_errors_daily", "assert_errors_counted_once"),
            ("marts/fct_workflow_daily", "assert_workflow_daily_reconciles_with_executions"),
            ("marts/fct_workflow_step_daily", "assert_funnel_adds_up")} <= named_checks

    # incremental models: daily partitions, one run per backfill; the rest unpartitioned
    daily = graph.get(dg.AssetKey(["marts", "fct_workflow_daily"]))
    assert isinstance(daily.partitions_def, dg.DailyPartitionsDefinition)
    assert daily.backfill_policy == dg.BackfillPolicy.single_run()
    assert graph.get(dg.AssetKey(["marts", "dim_workflows"])).partitions_def is None
    assert graph.get(dg.AssetKey(["staging", "stg_raw__events"])).partitions_def is None
    # freshness: a policy on every mart, dbt's source freshness as a check of raw/events
    assert daily.freshness_policy.fail_window.to_timedelta().total_seconds() == 7200
    assert ("raw/events", "dbt_source_freshness") in named_checks
    assert definitions.resolve_sensor_def("new_events_sensor").job_name == "refresh_marts"
    assert definitions.resolve_schedule_def("retention_daily").job_name == "retention"

    job = definitions.resolve_job_def("refresh_all")
    assert job is not None
    schedule = definitions.resolve_schedule_def("refresh_all_hourly")
    assert schedule.cron_schedule == "0 * * * *"
    assert schedule.job_name == "refresh_all"


def test_in_process_run_materialises_every_asset_and_the_numbers_reconcile(
        definitions, warehouse, tmp_path_factory, monkeypatch):
    from warehouse.sample_data import generate

    folder = tmp_path_factory.mktemp("sample")
    generate(folder, events=4000, days=40, seed=7)
    for table in ("accounts", "users", "workflows", "workflow_steps", "experiments"):
        load_files(warehouse.warehouse_url, [folder / f"{table}.jsonl"], table)
    load_files(warehouse.warehouse_url, [folder / "events"])
    monkeypatch.setenv("WFA_DATABASE_URL", warehouse.warehouse_url)
    monkeypatch.setenv("WFA_FORECAST_MAX_SERIES", "2")  # Prophet fits are tested elsewhere

    from orchestration.defs.jobs import refresh_tags

    result = definitions.resolve_job_def("refresh_all").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, tags=refresh_tags())

    assert result.success
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {f"marts/{name}" for name in MARTS} <= materialised
    assert {f"marts/{name}" for name in ANALYTICS} <= materialised
    evaluations = [e.event_specific_data for e in result.all_events
                   if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION]
    assert evaluations and all(ev.passed for ev in evaluations)

    # The marts agree with totals computed straight from the raw events.
    raw = query(warehouse, """
        select count(*) filter (where event_type = 'execution.enrolled') as enrolled,
               coalesce(sum((properties->>'cost_usd')::numeric)
                        filter (where event_type in ('step.completed', 'step.failed')), 0) as cost
        from raw.events""")[0]
    marts = query(warehouse, """
        select (select sum(new_enrollments) from marts.fct_workflow_daily) as enrolled,
               (select count(*) from marts.fct_executions) as executions,
               (select sum(cost_usd) from marts.fct_workflow_daily) as cost""")[0]
    assert raw["enrolled"] > 100
    assert marts["enrolled"] == marts["executions"] == raw["enrolled"]
    assert Decimal(marts["cost"]) == Decimal(raw["cost"])
