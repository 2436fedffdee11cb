"""The platform's processes started as an operator starts them: `wfa serve` and `wfa daemon`,
each a real process of its own with the test warehouse in its environment."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import httpx
import psycopg

from warehouse.settings import PROJECT_DIR, Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(settings: Settings) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(PROJECT_DIR), "WFA_DATABASE_URL": settings.warehouse_url,
            "WFA_HOME": str(settings.home), "WFA_DBT_THREADS": str(settings.dbt_threads)}


@contextmanager
def _process(args: list[str], settings: Settings, log_name: str):
    """Start `wfa ARGS` in a session of its own (its children, the daemon's code server and run
    workers, are ended with it); the output goes to a log in the settings' home."""
    settings.home.mkdir(parents=True, exist_ok=True)
    log = (settings.home / log_name).open("wb")
    process = subprocess.Popen([sys.executable, "-m", "cli.main", *args], cwd=PROJECT_DIR,
                               env=environment(settings), stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        yield process
    finally:
        _end_session(process)
        log.close()


def _end_session(process: subprocess.Popen) -> None:
    """SIGTERM the process's group, then SIGKILL what is left of it: a code server with a run
    still in progress outlives the SIGTERM."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            pass
        time.sleep(1)


@contextmanager
def api_process(settings: Settings, name: str = "api"):
    """`wfa serve` on a free port; yields its base URL once it answers."""
    port = _free_port()
    with _process(["serve", "--port", str(port)], settings, f"{name}.log") as process:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start; see {settings.home / f'{name}.log'}")
            time.sleep(0.2)
        yield base


@contextmanager
def daemon_process(settings: Settings):
    """`wfa daemon` (dagster-daemon run); yields once its run queue has reported in."""
    with _process(["daemon"], settings, "daemon.log") as process:
        deadline = time.monotonic() + 120
        while not _heartbeat(settings):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the daemon did not start; see {settings.home / 'daemon.log'}")
            time.sleep(0.5)
        yield process


def _heartbeat(settings: Settings) -> bool:
    try:
        with psycopg.connect(settings.dagster_url) as conn:
            return conn.execute("select count(*) from daemon_heartbeats where daemon_type"
                                " = 'QUEUED_RUN_COORDINATOR'").fetchone()[0] > 0
    except (psycopg.OperationalError, psycopg.errors.UndefinedTable):
        return False


def refresh_runs(settings: Settings) -> dict[str, str]:
    """Run id -> status of every run carrying the refresh tag, read from Dagster's storage."""
    with psycopg.connect(settings.dagster_url) as conn:
        return dict(conn.execute(
            "select r.run_id, r.status from runs r join run_tags t on t.run_id = r.run_id"
            " where t.key = 'wfa/refresh'").fetchall())
