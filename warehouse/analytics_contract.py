"""The analytics tables' contract: their columns, PostgreSQL types, constraints and
descriptions, declared once as the dbt source `analytics`
(dbt_project/models/analytics/_analytics__sources.yml) so that dbt docs show them too. The
writer (assets/analytics/io.py), the API and quality/ all read it from here."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import yaml

from warehouse.dbt_paths import DBT_PROJECT_DIR

ANALYTICS_YML = DBT_PROJECT_DIR / "models" / "analytics" / "_analytics__sources.yml"


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    description: str
    constraints: tuple[str, ...]  # not_null, primary_key

    def ddl(self) -> str:
        clauses = {"not_null": "not null", "primary_key": "primary key"}
        return " ".join([self.name, self.data_type, *(clauses[c] for c in self.constraints)])


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    description: str
    columns: tuple[Column, ...]

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@functools.cache
def analytics_tables() -> dict[str, Table]:
    """table name -> Table, in the yml's order."""
    (source,) = yaml.safe_load(ANALYTICS_YML.read_text(encoding="utf-8"))["sources"]
    return {t["name"]: Table(source["schema"], t["name"], t.get("description") or "", tuple(
        Column(c["name"], c["data_type"], c.get("description") or "",
               tuple(k["type"] for k in c.get("constraints") or ()))
        for c in t["columns"])) for t in source["tables"]}


def analytics_table(name: str) -> Table:
    try:
        return analytics_tables()[name]
    except KeyError:
        raise KeyError(f"{name} is not an analytics table of {ANALYTICS_YML.name}") from None


def column_names(name: str) -> tuple[str, ...]:
    return analytics_table(name).column_names
