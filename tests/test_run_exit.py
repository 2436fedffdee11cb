"""`wfa run` as an operator runs it (a subprocess): its exit code when only warn-level checks
fail and when an error-level one does, and a killed run marked failed at the next start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from assets.ingestion import load_files
from orchestration.settings import PROJECT_DIR
from orchestration.warehouse import ensure_databases
from tests.helpers import execute, query

pytestmark = pytest.mark.db

REFERENCE = ("accounts", "users", "workflows", "workflow_steps", "experiments")
WFA = str(Path(sys.executable).with_name("wfa"))
# a row of a generated day, which the next incremental run (today's partition) does not rebuild
COST_ROW = ("select account_id, workflow_id, action_type, date from marts.fct_cost_daily"
            " where cost_usd > 0 order by date, account_id, workflow_id, action_type limit 1")
SHIFT_COST = ("update marts.fct_cost_daily set cost_usd = cost_usd + %(delta)s"
              " where (account_id, workflow_id, action_type, date)"
              " = (%(account_id)s, %(workflow_id)s, %(action_type)s, %(date)s)")


@pytest.fixture(scope="module")
def env(warehouse, tmp_path_factory):
    """Small generated data and a file of which most lines are rejected (a rejected-row rate far
    above WFA_QUALITY_MAX_REJECTED_PCT), a home of its own (Dagster's instance and database)."""
    from assets.sample_data import generate

    folder = tmp_path_factory.mktemp("sample")
    generate(folder, events=1500, days=10, seed=3)
    for table in REFERENCE:
        load_files(warehouse.warehouse_url, [folder / f"{table}.jsonl"], table)
    load_files(warehouse.warehouse_url, [folder / "events"])
    bad = folder / "mostly_bad.jsonl"
    bad.write_text("".join(["not json\n"] * 9 + [json.dumps({"event_id": "x"}) + "\n"]))
    load_files(warehouse.warehouse_url, [bad])
    ensure_databases(warehouse)  # Dagster's, which the tests read
    home = tmp_path_factory.mktemp("wfa_home")
    environment = {**os.environ, "WFA_DATABASE_URL": warehouse.warehouse_url,
                   "WFA_HOME": str(home), "PYTHONPATH": str(PROJECT_DIR),
                   "WFA_DBT_THREADS": "2"}
    yield warehouse, environment
    with psycopg.connect(warehouse.maintenance_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{warehouse.warehouse_name}_dagster" with (force)')


def wfa_run(environment: dict) -> subprocess.CompletedProcess:
    return subprocess.run([WFA, "run", "--job", "refresh_marts"], env=environment,
                          capture_output=True, text=True, timeout=900, cwd=PROJECT_DIR)


def runs(settings) -> dict[str, str]:
    """Dagster's runs, by id: their status (none before Dagster made its tables)."""
    with psycopg.connect(settings.dagster_url) as conn:
        try:
            return dict(conn.execute("select run_id, status from runs").fetchall())
        except psycopg.errors.UndefinedTable:
            return {}


def test_only_warn_level_checks_failing_exits_0_and_says_so(env):
    settings, environment = env
    rejected = query(settings, "select rejected, rows_read from raw.load_batches"
                               " where source_file like '%%mostly_bad.jsonl'")
    assert rejected == [{"rejected": 10, "rows_read": 10}]
    done = wfa_run(environment)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "    warning: raw/events:rejected_row_rate (a warn-level check: it does not fail the run)" \
        in lines
    summary = next(line for line in lines if line.startswith("run "))
    assert summary.split(": ", 1)[1].startswith("succeeded with 1 warning(s) in ")
    assert any(line.startswith("  checks: ") and line.endswith(" passed, 0 failed, 1 warned")
               for line in lines), done.stdout


def test_an_error_level_check_failing_exits_1(env):
    settings, environment = env
    (row,) = query(settings, COST_ROW)
    execute(settings, SHIFT_COST, {**row, "delta": Decimal("0.01")})
    try:
        done = wfa_run(environment)
    finally:
        execute(settings, SHIFT_COST, {**row, "delta": Decimal("-0.01")})
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    # the dbt test reconciling costs with the executions (severity error) fails first
    assert "    failed check: marts/fct_cost_daily:assert_costs_reconcile" in lines, done.stdout
    assert next(line for line in lines if line.startswith("run ")).split(": ", 1)[1] \
        .startswith("FAILED in ")


def test_a_killed_run_is_marked_failed_at_the_next_start(env):
    settings, environment = env
    before = set(runs(settings))
    process = subprocess.Popen([WFA, "run", "--job", "refresh_marts"], env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               cwd=PROJECT_DIR, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while not (started := {r for r, s in runs(settings).items()
                               if r not in before and s == "STARTED"}):
            assert process.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the run's process and its dbt, at once
        process.wait()
    (killed,) = started
    time.sleep(1)
    assert runs(settings)[killed] == "STARTED"  # nothing ends it but the next start

    done = wfa_run(environment)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"run {killed} (refresh_marts) was left STARTED by a process that no longer exists:" \
           " marked FAILURE" in done.stdout.splitlines()
    (new,) = set(runs(settings)) - before - {killed}
    after = runs(settings)
    assert (after[killed], after[new]) == ("FAILURE", "SUCCESS")
