"""The marts' columns, types and grain, read from the dbt contract (_marts__models.yml).

The schema and key expectations follow the same declarations dbt enforces, so a column added
to a mart, or a change of its grain, needs no second declaration here; a mart whose table
drifts from them fails its suite.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import yaml

from warehouse.dbt_paths import DBT_PROJECT_DIR

MARTS_YML = DBT_PROJECT_DIR / "models" / "marts" / "_marts__models.yml"

# PostgreSQL type in the contract -> the type name GE reads back through SQLAlchemy.
GE_TYPE = {
    "text": "TEXT",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "numeric": "NUMERIC",
    "date": "DATE",
    "boolean": "BOOLEAN",
    "timestamp with time zone": "TIMESTAMP WITH TIME ZONE",
    "double precision": "DOUBLE PRECISION",
}


@dataclass(frozen=True)
class Grain:
    keys: tuple[str, ...]
    nullable: tuple[str, ...]  # parts of the grain without a not_null test: null is a value


@functools.cache
def _models() -> dict[str, dict]:
    models = yaml.safe_load(MARTS_YML.read_text(encoding="utf-8"))["models"]
    return {m["name"]: m for m in models}


def _test_names(entry: dict) -> dict[str, dict]:
    """data_tests of a model or column -> {test name: its arguments}."""
    found = {}
    for test in entry.get("data_tests") or ():
        name, spec = (test, {}) if isinstance(test, str) else next(iter(test.items()))
        found[name] = (spec or {}).get("arguments", {})
    return found


@functools.cache
def mart_columns() -> dict[str, dict[str, str]]:
    """mart -> {column: contract data_type}, in the contract's column order."""
    return {name: {c["name"]: c["data_type"] for c in m["columns"]}
            for name, m in _models().items()}


def _grain(model: dict) -> Grain:
    combination = _test_names(model).get("unique_combination_of_columns")
    columns = {c["name"]: _test_names(c) for c in model["columns"]}
    if combination is not None:
        keys = tuple(combination["combination_of_columns"])
    else:
        keys = tuple(name for name, tests in columns.items() if "unique" in tests)
    if not keys:
        raise ValueError(f"{MARTS_YML.name}: {model['name']} declares no grain"
                         " (unique_combination_of_columns or a unique column)")
    return Grain(keys, tuple(k for k in keys if "not_null" not in columns[k]))


@functools.cache
def mart_grain() -> dict[str, Grain]:
    """mart -> its grain: the columns of its unique_combination_of_columns test, else its
    column tested unique."""
    return {name: _grain(m) for name, m in _models().items()}
