"""Dagster's instance: its own PostgreSQL database (dagster-postgres), a run queue that starts one
refresh at a time, telemetry off."""

from __future__ import annotations

import os
from pathlib import Path

from warehouse.dbt_paths import dbt_executable
from warehouse.runtime import prepare_dbt_manifest
from warehouse.settings import Settings

# Every run of a refresh job carries this tag (orchestration/defs/jobs.py); the run queue starts
# one of them at a time, whoever submitted it (the API, the sensor, the schedule, the UI).
REFRESH_TAG = "wfa/refresh"

DAGSTER_YAML = f"""\
# written by wfa: Dagster's runs, events and schedules live in PostgreSQL
storage:
  postgres:
    postgres_url:
      env: WFA_DAGSTER_PG_URL
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 2
    tag_concurrency_limits:
      - key: {REFRESH_TAG}
        limit: 1
telemetry:
  enabled: false
"""


def sqlalchemy_url(url: str) -> str:
    """dagster-postgres speaks psycopg2 (its NOTIFY needs it); SQLAlchemy 2.1 would pick psycopg 3
    for a bare postgresql:// URL."""
    scheme, _, rest = url.partition("://")
    return f"postgresql+psycopg2://{rest}" if scheme in ("postgres", "postgresql") else url


def prepare(settings: Settings) -> Path:
    """Write dagster.yaml and point this process (and its children) at it."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text() != DAGSTER_YAML:
        config.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ["WFA_DAGSTER_PG_URL"] = sqlalchemy_url(settings.dagster_url)
    os.environ.update(settings.dbt_env())
    return home


def prepare_dagster(settings: Settings) -> Path:
    # dagster-dbt looks dbt up on PATH when it parses the project under `dagster dev`.
    bin_dir = str(Path(dbt_executable()).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    home = prepare(settings)
    prepare_dbt_manifest(settings)
    return home
