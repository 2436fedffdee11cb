"""`wfa run`, `wfa backfill`, `wfa ui` and `wfa daemon`: the Dagster side, in process, in its UI
or its daemon alone."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import click
import dagster as dg

from orchestration.dagster_home import prepare_dagster
from orchestration.partitions import RANGE_END, RANGE_START, daily_partitions
from orchestration.run_summary import run_job
from orchestration.stale_runs import fail_orphaned_runs
from warehouse.runtime import ensure_warehouse
from warehouse.settings import PROJECT_DIR, get_settings


@click.command("run")
@click.option("--job", "job_name", default="refresh_all", show_default=True)
def run(job_name: str) -> None:
    """Materialise every asset in process (no UI needed) and print a summary."""
    settings = get_settings()
    ensure_warehouse(settings)
    prepare_dagster(settings)
    if not run_job(job_name, echo=click.echo):
        sys.exit(1)


@click.command("backfill")
@click.option("--start", "start", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="First day (UTC) to recompute.")
@click.option("--end", "end", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="Last day (UTC) to recompute, inclusive.")
@click.option("--job", "job_name", default="refresh_marts", show_default=True)
def backfill(start: dt.datetime, end: dt.datetime, job_name: str) -> None:
    """Recompute the daily partitions from START to END in one run (one dbt invocation), as
    the UI's backfill does. The marts' other days and the events watermark are left alone."""
    if end < start:
        raise click.BadParameter("--end is before --start")
    settings = get_settings()
    partitions = daily_partitions(settings)
    first, last = partitions.get_first_partition_key(), partitions.get_last_partition_key()
    if start.date().isoformat() < first or end.date().isoformat() > last:
        raise click.BadParameter(f"the daily partitions run from {first} to {last} "
                                 "(WFA_PARTITIONS_START sets the first)")
    ensure_warehouse(settings)
    prepare_dagster(settings)
    tags = {RANGE_START: start.date().isoformat(), RANGE_END: end.date().isoformat()}
    if not run_job(job_name, echo=click.echo, tags=tags):
        sys.exit(1)


def _prepared() -> Path:
    """The Dagster home ready, orphaned runs failed; the working directory the project's."""
    settings = get_settings()
    ensure_warehouse(settings)
    prepare_dagster(settings)
    # a run left STARTED by a killed `wfa run` would keep the sensor and schedule waiting
    with dg.DagsterInstance.get() as instance:
        fail_orphaned_runs(instance, click.echo)
    os.chdir(PROJECT_DIR)
    return PROJECT_DIR / "workspace.yaml"


@click.command("ui")
@click.option("--port", default=3000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def ui(port: int, host: str) -> None:
    """Start the Dagster UI and its daemon (schedules, sensors, run queue)."""
    workspace = _prepared()
    dagster = str(Path(sys.executable).with_name("dagster"))
    os.execv(dagster, [dagster, "dev", "-w", str(workspace), "-p", str(port), "-h", host])


@click.command("daemon")
def daemon() -> None:
    """Start the Dagster daemon alone (schedules, sensors, and the run queue the API's refreshes
    wait in), without the UI."""
    workspace = _prepared()
    daemon_bin = str(Path(sys.executable).with_name("dagster-daemon"))
    os.execv(daemon_bin, [daemon_bin, "run", "-w", str(workspace)])
