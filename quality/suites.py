"""One Great Expectations suite per mart, kept as code.

Most of a suite follows rules over the dbt contract (every column present with its type,
its grain unique, every count, duration and amount non-negative, every *_rate a percentage,
p50 <= p95); the rest is per mart: the identities its figures must satisfy and its
reconciliation with raw.events. Each expectation carries meta.kind (schema, keys, range,
consistency, reconciliation, row_count) so that results can be grouped and tests can aim at one.
"""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from quality.contracts import GE_TYPE, mart_columns, mart_grain
from quality.raw_totals import RawTotals
from quality.reconciliation import RECONCILIATIONS
from quality.rules import CONSISTENCY
from quality.window import Window
from warehouse.analytics_contract import analytics_table

NUMERIC_TYPES = {"bigint", "integer", "numeric"}


def _kind(kind: str) -> dict:
    return {"kind": kind}


def schema_expectations(mart: str) -> list:
    columns = mart_columns()[mart]
    found = [gxe.ExpectTableColumnsToMatchSet(column_set=list(columns), exact_match=True,
                                              description="the columns of the dbt contract",
                                              meta=_kind("schema"))]
    found += [gxe.ExpectColumnValuesToBeOfType(column=name, type_=GE_TYPE[data_type],
                                               meta=_kind("schema"))
              for name, data_type in columns.items()]
    return found


def unexpected_rows(mart: str, query: str, **fields) -> gxe.UnexpectedRowsExpectation:
    """An UnexpectedRowsExpectation over the mart's table. The query names the table instead of
    using GE's {batch} placeholder: the batch is always the whole table, and GE substitutes
    {batch} with a subquery that has an alias on some code paths and none on others, which
    PostgreSQL before 16 refuses. The placeholder stays in a leading comment, where GE's check
    that a query mentions it is satisfied and its substitution is inert."""
    table_query = query.replace("{batch}", f"marts.{mart}")
    return gxe.UnexpectedRowsExpectation(
        unexpected_rows_query=f"/* batch: {{batch}} */ {table_query}", **fields)


def key_expectations(mart: str) -> list:
    grain = mart_grain()[mart]
    keys = ", ".join(grain.keys)
    found = [gxe.ExpectColumnValuesToNotBeNull(column=key, meta=_kind("keys"))
             for key in grain.keys if key not in grain.nullable]
    # group by treats nulls as equal: a nullable part of the grain is still a value of it
    found.append(unexpected_rows(
        mart, f"select {keys}, count(*) as copies from {{batch}}"
              f" group by {keys} having count(*) > 1",
        description=f"one row per ({keys})", meta=_kind("keys")))
    return found


def range_expectations(mart: str) -> list:
    columns = mart_columns()[mart]
    found = []
    for name, data_type in columns.items():
        if data_type not in NUMERIC_TYPES:
            continue
        if name.endswith("_rate"):
            found.append(gxe.ExpectColumnValuesToBeBetween(
                column=name, min_value=0, max_value=100, meta=_kind("range")))
        else:  # counts, durations, versions, positions and money are never negative
            found.append(gxe.ExpectColumnValuesToBeBetween(
                column=name, min_value=0, meta=_kind("range")))
        if name.startswith("p50_") and f"p95_{name[4:]}" in columns:
            found.append(gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=f"p95_{name[4:]}", column_B=name, or_equal=True,
                ignore_row_if="either_value_is_missing", meta=_kind("range")))
    return found


def consistency_expectations(mart: str) -> list:
    return [unexpected_rows(mart, sql, description=description, meta=_kind("consistency"))
            for description, sql in CONSISTENCY[mart].items()]


def reconciliation_expectation(mart: str, window: Window, totals: RawTotals,
                               after_purge: bool = False):
    """None for a history-wide reconciliation once retention has purged old raw events."""
    reconciliation = RECONCILIATIONS[mart](window)
    if after_purge and reconciliation.history_wide:
        return None
    return unexpected_rows(
        mart, reconciliation.unexpected_rows_query(totals),
        description=f"{', '.join(reconciliation.metrics)} equal raw.events ({window})",
        meta=_kind("reconciliation"))


def row_count_expectation(previous: int | None, max_drop_pct: float, max_growth_pct: float):
    """Bounds around the previous passing run's count; none before a first baseline."""
    if previous is None:
        return None
    return gxe.ExpectTableRowCountToBeBetween(
        description=f"row count within bounds of the previous passing check ({previous})",
        min_value=int(previous * (1 - max_drop_pct / 100)),
        max_value=int(previous * (1 + max_growth_pct / 100)) + 1,
        meta={**_kind("row_count"), "previous_row_count": previous})


def build_suite(mart: str, totals: RawTotals, previous_row_count: int | None = None,
                max_drop_pct: float = 5.0, max_growth_pct: float = 200.0,
                after_purge: bool = False) -> gx.ExpectationSuite:
    """The suite of one mart; `totals` are the raw figures of the window it reconciles;
    `after_purge`: retention has deleted old raw events (history-wide comparisons are off)."""
    suite = gx.ExpectationSuite(name=mart)
    expectations = [*schema_expectations(mart), *key_expectations(mart),
                    *range_expectations(mart), *consistency_expectations(mart),
                    reconciliation_expectation(mart, totals.window, totals, after_purge),
                    row_count_expectation(previous_row_count, max_drop_pct, max_growth_pct)]
    for expectation in expectations:
        if expectation is not None:
            suite.add_expectation(expectation)
    return suite


def analytics_suite(name: str) -> gx.ExpectationSuite:
    """The suite of an analytics table (assets/analytics): its contract's columns and types,
    its not-null and primary-key columns; the same declaration the writer creates it from."""
    table = analytics_table(name)
    suite = gx.ExpectationSuite(name=name)
    suite.add_expectation(gxe.ExpectTableColumnsToMatchSet(
        column_set=list(table.column_names), exact_match=True,
        description="the columns of the analytics contract", meta=_kind("schema")))
    for column in table.columns:
        suite.add_expectation(gxe.ExpectColumnValuesToBeOfType(
            column=column.name, type_=GE_TYPE[column.data_type], meta=_kind("schema")))
        if column.constraints:  # not_null or primary_key
            suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(
                column=column.name, meta=_kind("keys")))
        if "primary_key" in column.constraints:
            suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(
                column=column.name, meta=_kind("keys")))
    return suite
