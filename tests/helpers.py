"""Small helpers the tests share: run dbt, run SQL, read rows."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import psycopg
from psycopg.rows import dict_row

from orchestration.dbt_paths import dbt_executable
from orchestration.settings import PROJECT_DIR, Settings

DBT_DIR = PROJECT_DIR / "dbt_project"


def run_dbt(settings: Settings, *args: str, env: dict[str, str] | None = None) -> str:
    """Run `dbt ARGS` against the settings' warehouse (with `env` added to the environment);
    raise with dbt's output on failure."""
    env = {**os.environ, **settings.dbt_env(), **(env or {})}
    result = subprocess.run(
        [dbt_executable(), *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)],
        cwd=DBT_DIR, env=env, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def execute(settings: Settings, sql: str, params: Any = None) -> None:
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        conn.execute(sql, params)


def query(settings: Settings, sql: str, params: Any = None) -> list[dict]:
    with psycopg.connect(settings.warehouse_url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()
