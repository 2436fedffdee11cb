"""Each rule declared once: a mart's grain in its dbt yml, which quality reads; an analytics
table's columns in its dbt source, from which the writer creates it; and the descriptions of
both, which PostgreSQL carries as comments for BI tools."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
import yaml

from assets.analytics.io import ContractError, write_table
from quality.contracts import MARTS_YML, mart_grain
from quality.rules import MARTS
from tests.helpers import execute, query, run_dbt
from warehouse.analytics_contract import ANALYTICS_YML, analytics_table
from warehouse.dbt_paths import dbt_target_dir
from warehouse.runtime import prepare_dbt_manifest

MODEL = "model.workflow_analytics."


def manifest_grains(manifest: dict) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """mart -> (grain, its columns without a not_null test), from dbt's own parse."""
    keys, not_null = {}, set()
    for node in manifest["nodes"].values():
        meta, attached = node.get("test_metadata"), node.get("attached_node") or ""
        if node["resource_type"] != "test" or not meta or not attached.startswith(MODEL):
            continue
        if manifest["nodes"][attached]["fqn"][1] != "marts":
            continue
        model = attached.removeprefix(MODEL)
        if meta["name"] == "unique_combination_of_columns":
            keys[model] = tuple(meta["kwargs"]["combination_of_columns"])
        elif meta["name"] == "unique":
            keys.setdefault(model, (node["column_name"],))
        elif meta["name"] == "not_null":
            not_null.add((model, node["column_name"]))
    return {m: (k, tuple(c for c in k if (m, c) not in not_null)) for m, k in keys.items()}


def test_quality_reads_every_marts_grain_as_dbt_parses_it(warehouse):
    prepare_dbt_manifest(warehouse)
    manifest = json.loads((dbt_target_dir() / "manifest.json").read_text())
    expected = manifest_grains(manifest)
    assert {m: (g.keys, g.nullable) for m, g in mart_grain().items()} == expected
    assert set(MARTS) < set(expected)  # every mart with a suite has its grain in the yml
    assert expected["fct_errors_daily"] == (
        ("account_id", "workflow_id", "step_id", "error_type", "date"), ("step_id",))
    assert expected["fct_executions"] == (("execution_id",), ())
    assert expected["fct_monthly_summary"] == (("account_id", "workflow_id", "month"),
                                               ("workflow_id",))


@pytest.fixture(scope="module")
def built(warehouse):
    """Every model built, on no events: the marts' tables and schema exist."""
    run_dbt(warehouse, "run")
    return warehouse


def alert_frame(**changes) -> pd.DataFrame:
    row = {"alert_id": "a1", "kind": "anomaly_daily", "account_id": "acc_a",
           "workflow_id": "wf_1", "metric": "executions",
           "opened_at": dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc), "resolved_at": None,
           "severity": "high", "message": "executions above its band"}
    return pd.DataFrame([{**row, **changes}])


def test_write_table_refuses_a_frame_with_a_missing_or_an_extra_column(built):
    warehouse, url = built, built.warehouse_url
    assert write_table(url, "alerts", alert_frame()) == 1
    with pytest.raises(ContractError) as missing:
        write_table(url, "alerts", alert_frame().drop(columns=["severity"]))
    assert str(missing.value) == (
        "marts.alerts: the frame's columns differ from its contract in _analytics__sources.yml;"
        " missing: severity; not in the contract: none")
    with pytest.raises(ContractError) as extra:
        write_table(url, "alerts", alert_frame(score=4.5))
    assert str(extra.value) == (
        "marts.alerts: the frame's columns differ from its contract in _analytics__sources.yml;"
        " missing: none; not in the contract: score")
    # the refused writes left the table as it was
    assert query(warehouse, "select alert_id, severity from marts.alerts") == [
        {"alert_id": "a1", "severity": "high"}]
    # columns in another order are the contract's still: written in its order
    assert write_table(url, "alerts", alert_frame()[::-1].iloc[:, ::-1]) == 1
    columns = query(warehouse, "select attname, format_type(atttypid, atttypmod) as type,"
                               " attnotnull from pg_attribute"
                               " where attrelid = 'marts.alerts'::regclass and attnum > 0"
                               " order by attnum")
    assert [(c["attname"], c["type"], c["attnotnull"]) for c in columns] == [
        (c.name, c.data_type, bool(c.constraints)) for c in analytics_table("alerts").columns]


def comments(warehouse, table: str) -> tuple[str, dict[str, str]]:
    rows = query(warehouse, "select attname, col_description(attrelid, attnum) as comment,"
                            " obj_description(attrelid, 'pg_class') as table_comment"
                            " from pg_attribute where attrelid = %s::regclass and attnum > 0"
                            " and not attisdropped order by attnum", (table,))
    return rows[0]["table_comment"], {r["attname"]: r["comment"] for r in rows}


def test_postgres_carries_the_ymls_descriptions(built):
    warehouse = built
    for model in yaml.safe_load(MARTS_YML.read_text())["models"]:
        table, columns = comments(warehouse, f"marts.{model['name']}")
        assert table == model["description"], model["name"]
        assert columns == {c["name"]: c["description"] for c in model["columns"]}, model["name"]
    write_table(warehouse.warehouse_url, "alerts", alert_frame())
    (source,) = yaml.safe_load(ANALYTICS_YML.read_text())["sources"]
    alerts = next(t for t in source["tables"] if t["name"] == "alerts")
    table, columns = comments(warehouse, "marts.alerts")
    # the yml's text as it parses, as dbt writes the marts' (a folded block ends in a newline)
    assert table == alerts["description"]
    assert columns == {c["name"]: c["description"] for c in alerts["columns"]}
    assert columns["resolved_at"] == (
        "The first point after the episode back inside the band; null while the alert is open.\n")
    assert columns["kind"] == "anomaly_daily or anomaly_hourly."


def test_quality_checks_an_analytics_table_against_the_same_contract(built):
    from quality.analytics import validate_analytics

    warehouse, url = built, built.warehouse_url
    write_table(url, "alerts", alert_frame())
    (passed,) = validate_analytics(url, ["alerts"])
    # the column set, 9 types, 7 not-null columns (the primary key's among them), 1 unique
    assert (passed.evaluated, passed.failures) == (18, [])
    execute(warehouse, "alter table marts.alerts add column note text")
    (failed,) = validate_analytics(url, ["alerts"])
    assert [(f.kind, f.expectation, f.target) for f in failed.failures] == [
        ("schema", "expect_table_columns_to_match_set", "the columns of the analytics contract")]
    (missing,) = validate_analytics(url, ["workflow_roi"])
    assert [(f.expectation, f.sample) for f in missing.failures] == [
        ("table_exists", "the table is missing")]
