"""The marts' columns and types, read from the dbt contract (_marts__models.yml).

The schema expectations follow the same contract dbt enforces, so a column added to a mart
needs no second declaration here; a mart whose table drifts from it fails its suite.
"""

from __future__ import annotations

import functools

import yaml

from warehouse.settings import PROJECT_DIR

MARTS_YML = PROJECT_DIR / "dbt_project" / "models" / "marts" / "_marts__models.yml"

# PostgreSQL type in the contract -> the type name GE reads back through SQLAlchemy.
GE_TYPE = {
    "text": "TEXT",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "numeric": "NUMERIC",
    "date": "DATE",
    "boolean": "BOOLEAN",
    "timestamp with time zone": "TIMESTAMP WITH TIME ZONE",
}


@functools.cache
def mart_columns() -> dict[str, dict[str, str]]:
    """mart -> {column: contract data_type}, in the contract's column order."""
    models = yaml.safe_load(MARTS_YML.read_text(encoding="utf-8"))["models"]
    return {m["name"]: {c["name"]: c["data_type"] for c in m["columns"]} for m in models}
