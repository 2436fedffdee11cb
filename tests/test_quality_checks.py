"""The quality suites as Dagster asset checks: attached to every mart and blocking; a failing
suite stops the assets downstream of its mart in an in-process run; ingestion checks warn."""

from __future__ import annotations

import dagster as dg
import psycopg
import pytest

from quality.rules import MARTS
from tests.helpers import execute, query, run_dbt
from warehouse.ingestion import load_files
from warehouse.runtime import prepare_dbt_manifest

pytestmark = pytest.mark.db

MART = dg.AssetKey(["marts", "fct_cost_daily"])
SUITE = dg.AssetCheckKey(MART, "quality_suite")
REFERENCE = ("accounts", "users", "workflows", "workflow_steps", "experiments")


@pytest.fixture(scope="module")
def warehouse_env(warehouse, tmp_path_factory):
    """The marts the checks read, built from small generated data; Dagster's checks find the
    warehouse and the Data Docs folder through the settings' environment variables."""
    from warehouse.sample_data import generate

    folder = tmp_path_factory.mktemp("sample")
    generate(folder, events=1500, days=10, seed=3)
    for table in REFERENCE:
        load_files(warehouse.warehouse_url, [folder / f"{table}.jsonl"], table)
    load_files(warehouse.warehouse_url, [folder / "events"])
    run_dbt(warehouse, "run", "--select", "+fct_cost_daily")
    prepare_dbt_manifest(warehouse)
    home = tmp_path_factory.mktemp("wfa_home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WFA_DATABASE_URL", warehouse.warehouse_url)
        patch.setenv("WFA_HOME", str(home))
        yield warehouse, home


@dg.asset(key=["exports", "cost_extract"], deps=[MART])
def cost_extract() -> float:
    """A real downstream reader of the mart, as a BI extract would be."""
    from warehouse.settings import get_settings

    with psycopg.connect(get_settings().warehouse_url) as conn:
        return float(conn.execute("select sum(cost_usd) from marts.fct_cost_daily").fetchone()[0])


def definitions() -> dg.Definitions:
    from orchestration.definitions import build_definitions

    gate = dg.define_asset_job("gate", selection=dg.AssetSelection.assets(cost_extract)
                               | dg.AssetSelection.checks(SUITE))
    return dg.Definitions.merge(build_definitions(), dg.Definitions(assets=[cost_extract], jobs=[gate]))


def run(defs: dg.Definitions, job: str):
    result = defs.resolve_job_def(job).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    evaluations = {(e.asset_key.to_user_string(), e.check_name): e for e in (
        event.event_specific_data for event in result.all_events
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION)}
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    return result, evaluations, materialised


def test_every_mart_has_a_blocking_suite_check_and_raw_events_has_warning_checks(warehouse_env):
    graph = definitions().get_repository_def().asset_graph
    for mart in MARTS:
        spec = graph.get_check_spec(dg.AssetCheckKey(dg.AssetKey(["marts", mart]), "quality_suite"))
        assert spec.blocking, mart
    raw = {key.name for key in graph.asset_check_keys if key.asset_key == dg.AssetKey(["raw", "events"])}
    assert raw == {"rejected_row_rate", "known_references", "dbt_source_freshness"}
    refresh = definitions().resolve_job_def("refresh_all")
    checks = {key.name for key in refresh.asset_layer.asset_graph.asset_check_keys
              if key.asset_key == dg.AssetKey(["raw", "events"])}
    assert checks == {"rejected_row_rate", "known_references", "dbt_source_freshness"}


def test_a_failing_suite_stops_the_assets_downstream_and_a_passing_one_lets_them_run(warehouse_env):
    settings, home = warehouse_env
    defs = definitions()

    result, evaluations, materialised = run(defs, "gate")
    assert result.success
    passed = evaluations[("marts/fct_cost_daily", "quality_suite")]
    assert passed.passed
    assert passed.metadata["expectations_failed"].value == 0
    assert materialised == {"exports/cost_extract"}

    execute(settings, "update marts.fct_cost_daily set cost_usd = cost_usd + 0.01 where ctid ="
                      " (select ctid from marts.fct_cost_daily where cost_usd > 0 limit 1)")
    result, evaluations, materialised = run(defs, "gate")
    assert not result.success
    failed = evaluations[("marts/fct_cost_daily", "quality_suite")]
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert materialised == set()  # the extract never read the wrong number
    metadata = failed.metadata
    assert metadata["expectations_run"].value == passed.metadata["expectations_run"].value + 1
    assert metadata["expectations_failed"].value == 1
    (line,) = metadata["failing_sample"].value
    assert line.startswith("[reconciliation] unexpected_rows_expectation credits, cost_usd")
    assert "'metric': 'cost_usd'" in line
    docs = metadata["data_docs"].value
    assert docs.startswith(f"file://{home}/data_docs/validations/fct_cost_daily/")
    assert (home / "data_docs" / "index.html").exists()


def test_ingestion_checks_warn_above_their_threshold_without_stopping_the_run(warehouse_env,
                                                                                monkeypatch):
    defs = dg.Definitions.merge(definitions(), dg.Definitions(jobs=[dg.define_asset_job(
        "ingestion", selection=dg.AssetSelection.checks_for_assets(dg.AssetKey(["raw", "events"])))]))
    result, evaluations, _ = run(defs, "ingestion")
    assert result.success
    assert evaluations[("raw/events", "rejected_row_rate")].passed
    assert evaluations[("raw/events", "known_references")].passed

    monkeypatch.setenv("WFA_QUALITY_MAX_REJECTED_PCT", "0")
    result, evaluations, _ = run(defs, "ingestion")
    assert result.success  # a warning, not a failure
    warned = evaluations[("raw/events", "rejected_row_rate")]
    assert not warned.passed and warned.severity == dg.AssetCheckSeverity.WARN
    settings, _ = warehouse_env
    rejecting = query(settings, "select count(*) as n from raw.load_batches"
                                " where target_table = 'events' and rejected > 0")[0]["n"]
    assert rejecting > 0
    assert warned.metadata["loads_above_threshold"].value == rejecting
    assert warned.metadata["threshold_pct"].value == 0.0
