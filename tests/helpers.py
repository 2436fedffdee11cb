"""Small helpers the tests share: run dbt, run SQL, read rows."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from warehouse.runtime import dbt_command
from warehouse.settings import Settings


def run_dbt(settings: Settings, *args: str, env: dict[str, str] | None = None) -> str:
    """Run `dbt ARGS` against the settings' warehouse, as the platform does (with `env` added
    to the environment); raise with dbt's output on failure."""
    result = dbt_command(settings, *args, capture=True, extra_env=env)
    if result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def execute(settings: Settings, sql: str, params: Any = None) -> None:
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        conn.execute(sql, params)


def query(settings: Settings, sql: str, params: Any = None) -> list[dict]:
    with psycopg.connect(settings.warehouse_url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()
