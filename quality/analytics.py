"""Validate the analytics tables against their contract (warehouse/analytics_contract.py): the
Dagster check of each analytics asset calls `validate_analytics`."""

from __future__ import annotations

import time

import great_expectations as gx

from quality.runner import (
    Failure,
    SuiteResult,
    existing_marts,
    failure_of,
    ge_context,
    sqlalchemy_url,
)
from quality.suites import analytics_suite
from warehouse.analytics_contract import analytics_tables


def validate_analytics(url: str, tables: list[str] | None = None) -> list[SuiteResult]:
    tables = list(tables or analytics_tables())
    (schema,) = {analytics_tables()[t].schema for t in tables}  # the source's one schema
    present = existing_marts(url, tables, schema)
    context = ge_context(None)
    source = context.data_sources.add_postgres("warehouse", connection_string=sqlalchemy_url(url))
    results = []
    for name in tables:
        if name not in present:
            results.append(SuiteResult(name, 0, [Failure("table_exists", "schema", name,
                                                         "the table is missing")]))
            continue
        started = time.perf_counter()
        suite = context.suites.add(analytics_suite(name))
        batch = (source.add_table_asset(name, table_name=name, schema_name=schema)
                 .add_batch_definition_whole_table(name))
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch, suite=suite))
        outcome = validation.run(result_format="COMPLETE")
        failures = [failure_of(r) for r in outcome.results if not r.success]
        results.append(SuiteResult(name, len(outcome.results), failures,
                                   seconds=time.perf_counter() - started))
    return results
