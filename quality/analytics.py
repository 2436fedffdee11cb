"""Validate the analytics tables against their contract (warehouse/analytics_contract.py): the
Dagster check of each analytics asset calls `validate_analytics`."""

from __future__ import annotations

import time

from quality.runner import (
    Failure,
    SuiteResult,
    existing_marts,
    ge_context,
    run_suite,
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
        expectations, failures = run_suite(context, source, name, schema, suite)
        results.append(SuiteResult(name, expectations, failures,
                                   seconds=time.perf_counter() - started))
    return results
