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

from tests.helpers import execute, query
from warehouse.ingestion import load_files
from warehouse.server import ensure_databases
from warehouse.settings import PROJECT_DIR

pytestmark = pytest.mark.db

REFERENCE = ("accounts", "users", "workflows", "workflow_steps", "experiments")
WFA = str(Path(sys.executable).with_name("wfa"))
# a row of a generated day, which the next incremental run (today's partition) does not rebuild,
# in each of two accounts
COST_ROWS = ("select distinct on (account_id) account_id, workflow_id, action_type, date"
             " from marts.fct_cost_daily where cost_usd > 0"
             " order by account_id, date, workflow_id, action_type limit 2")
SHIFT_COST = ("update marts.fct_cost_daily set cost_usd = cost_usd + %(delta)s"
              " where (account_id, workflow_id, action_type, date)"
              " = (%(account_id)s, %(workflow_id)s, %(action_type)s, %(date)s)")


@pytest.fixture(scope="module")
def env(warehouse, tmp_path_factory):
    """Small generated data and a file of which most lines are rejected (a rejected-row rate far
    above WFA_QUALITY_MAX_REJECTED_PCT), a home of its own (Dagster's instance and database)."""
    from warehouse.sample_data import generate

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
    """Costs that do not reconcile in two accounts: no one account's data, the build stops."""
    settings, environment = env
    rows = query(settings, COST_ROWS)
    assert len(rows) == 2
    for row in rows:
        execute(settings, SHIFT_COST, {**row, "delta": Decimal("0.01")})
    try:
        done = wfa_run(environment)
    finally:
        for row in rows:
            execute(settings, SHIFT_COST, {**row, "delta": Decimal("-0.01")})
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    # the dbt test reconciling costs with the executions (severity error) fails first
    assert "    failed check: marts/fct_cost_daily:assert_costs_reconcile" in lines, done.stdout
    assert next(line for line in lines if line.startswith("run ")).split(": ", 1)[1] \
        .startswith("FAILED in ")


def test_one_accounts_failing_check_quarantines_it_and_the_refresh_goes_on(env):
    """Costs that do not reconcile in one account: its check warns, the account is listed in
    platform.quarantined_accounts, and the refresh goes on: another account's new events reach
    the marts and the watermark moves. Once the account's data reconciles again, it leaves."""
    settings, environment = env
    row, other = query(settings, COST_ROWS)
    # on the last day with data: the refresh's window leaves the shifted (first) day alone
    (last,) = query(settings, "select max(date) as day from marts.fct_workflow_daily")
    assert last["day"] > row["date"]
    new_event = {"event_id": "late_enrolment", "event_type": "execution.enrolled",
                 "occurred_at": f"{last['day']}T09:00:00Z", "account_id": other["account_id"],
                 "workflow_id": other["workflow_id"], "workflow_version": 1,
                 "execution_id": "x_late_enrolment", "contact_id": "c_late"}
    path = PROJECT_DIR / "dbt_project" / "target" / "late_enrolment.jsonl"
    path.write_text(json.dumps(new_event) + "\n")
    assert load_files(settings.warehouse_url, [path])[0].loaded == 1
    path.unlink()
    # less than a cent: the marts' suites reconcile with the raw events to the cent, warehouse
    # wide, and pass; the per-account dbt check compares exactly, and fails for this account
    execute(settings, SHIFT_COST, {**row, "delta": Decimal("0.004")})
    try:  # (no overlap: the window is the new event's day alone, not every day loaded lately)
        done = wfa_run({**environment, "WFA_INCREMENTAL_OVERLAP_SECONDS": "0"})
    finally:
        execute(settings, SHIFT_COST, {**row, "delta": Decimal("-0.004")})
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert ("    warning: marts/fct_cost_daily:assert_costs_reconcile (a warn-level check: it"
            " does not fail the run)") in lines, done.stdout
    assert (f"  quarantined: account {row['account_id']} fails assert_costs_reconcile (failing rows: 1);"
            f" the others were refreshed") in lines, done.stdout
    assert query(settings, "select account_id, checks, failing_rows"
                           " from platform.quarantined_accounts") == [
        {"account_id": row["account_id"], "checks": ["assert_costs_reconcile"],
         "failing_rows": 1}]
    # the refresh went on: the other account's new enrolment is in the marts, the watermark on
    assert query(settings, "select account_id, status from marts.fct_executions"
                           " where execution_id = 'x_late_enrolment'") == [
        {"account_id": other["account_id"], "status": "active"}]
    assert query(settings, "select events_watermark >= (select max(received_at)"
                           " from raw.events) as caught_up from platform.refresh_state") == [
        {"caught_up": True}]

    again = wfa_run(environment)  # the account's costs reconcile again
    assert again.returncode == 0, again.stdout + again.stderr
    assert not any(line.startswith("  quarantined:") for line in again.stdout.splitlines())
    assert query(settings, "select count(*) as n from platform.quarantined_accounts") == [
        {"n": 0}]


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
