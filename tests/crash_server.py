"""An embedded PostgreSQL server of a test's own, to crash: kill -9 of its postmaster, as a power
cut or an OOM kill would, then `wfa db up`'s start."""

from __future__ import annotations

import os
import signal
import socket
import time
from contextlib import contextmanager
from pathlib import Path

import psutil

from warehouse import migrate
from warehouse import server as embedded_server
from warehouse.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def own_server(home: Path):
    """Settings of a fresh embedded server with the warehouse migrated; stopped afterwards."""
    settings = Settings(home=home, port=_free_port(), dbt_threads=2)
    embedded_server.start(settings)
    try:
        embedded_server.ensure_databases(settings)
        migrate.migrate(settings.warehouse_url)
        yield settings
    finally:
        embedded_server.stop(settings)


def crash(settings: Settings) -> None:
    """kill -9 the postmaster (its PID is the first line of postmaster.pid) and wait until its
    backends, which notice their parent's death, are gone."""
    pid = int((settings.pgdata / "postmaster.pid").read_text().splitlines()[0])
    postmaster = psutil.Process(pid)
    children = postmaster.children(recursive=True)
    os.kill(pid, signal.SIGKILL)
    gone, alive = psutil.wait_procs([postmaster, *children], timeout=30)
    assert not alive, f"server processes still alive after the crash: {alive}"


def restart(settings: Settings) -> None:
    embedded_server.start(settings)  # recovers the stale pid file, replays the WAL
    deadline = time.monotonic() + 30
    while not embedded_server.status(settings).running:
        assert time.monotonic() < deadline, "the server did not come back"
        time.sleep(0.2)
