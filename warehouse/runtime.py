"""Getting the warehouse ready to work: server up, databases made, migrations applied, dbt run."""

from __future__ import annotations

import os
import subprocess

from warehouse import migrate, server
from warehouse.dbt_paths import DBT_PROJECT_DIR, dbt_executable
from warehouse.settings import Settings


def ensure_warehouse(settings: Settings) -> list[str]:
    """Start the embedded server if it is the one in use, create databases, apply migrations."""
    if settings.embedded:
        server.start(settings)
    server.ensure_databases(settings)
    return migrate.migrate(settings.warehouse_url)


def dbt_command(settings: Settings, *args: str, capture: bool = False,
                extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    dbt = dbt_executable()
    env = {**os.environ, **settings.dbt_env(), **(extra_env or {})}
    return subprocess.run(
        [dbt, *with_full_refresh_threads(settings, args), "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR)],
        cwd=DBT_PROJECT_DIR, env=env, check=False, capture_output=capture, text=True,
    )


def with_full_refresh_threads(settings: Settings, args: tuple[str, ...]) -> tuple[str, ...]:
    """A full refresh runs at most one model per core (unless its arguments say otherwise): its
    heavy models are whole passes over the events, and more of them at once only share the
    cores and their caches (10 million events on 2 cores: about 44 s with 2 threads against 48 s
    with 4). Other runs keep settings.dbt_threads: a window run's models are mostly small, and
    more threads overlap dbt's own time per model."""
    if "--full-refresh" not in args or any(arg.startswith("--threads") for arg in args):
        return args
    return (*args, "--threads", str(min(settings.dbt_threads, os.cpu_count() or 1)))


def prepare_dbt_manifest(settings: Settings) -> None:
    """Dagster builds the dbt assets from target/manifest.json."""
    result = dbt_command(settings, "parse", "--quiet", capture=True)
    if result.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{result.stdout}\n{result.stderr}")
