"""What the benchmarks share: a server to run on and a fresh database on it."""

from __future__ import annotations

import os
import resource
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg

from warehouse import migrate
from warehouse import server as embedded
from warehouse.settings import PROJECT_DIR, Settings, with_database

BENCH_HOME = PROJECT_DIR / "bench" / "out" / "wfa"
BENCH_PORT = int(os.environ.get("WFA_BENCH_PORT", "54339"))  # another port when several run


@contextmanager
def bench_database(keep: bool = False):
    """A fresh, migrated database: on WFA_DATABASE_URL's server if set, else on an embedded
    server of the benchmarks' own (bench/out), stopped afterwards."""
    with bench_databases(1, keep=keep) as (settings,):
        yield settings


@contextmanager
def bench_databases(count: int, keep: bool = False):
    """`count` fresh, migrated databases on one server (as bench_database)."""
    external = os.environ.get("WFA_DATABASE_URL")
    server = Settings(home=BENCH_HOME, port=BENCH_PORT, database_url=external)
    if server.embedded:
        embedded.start(server)
    names = [f"wfa_bench_{uuid.uuid4().hex[:8]}" for _ in range(count)]
    with psycopg.connect(server.maintenance_url, autocommit=True) as conn:
        for name in names:
            conn.execute(f'create database "{name}"')
    databases = [Settings(database_url=with_database(server.maintenance_url, name))
                 for name in names]
    for settings in databases:
        migrate.migrate(settings.warehouse_url)
    try:
        yield databases
    finally:
        if not keep:
            with psycopg.connect(server.maintenance_url, autocommit=True) as conn:
                for name in names:
                    conn.execute(f'drop database if exists "{name}" with (force)')
        if server.embedded:
            embedded.stop(server)


def _database_name(settings: Settings) -> str:
    return unquote(urlsplit(settings.warehouse_url).path.lstrip("/"))


def save_copy(settings: Settings) -> str:
    """A copy of the bench database as it is now (file by file: a few seconds for gigabytes),
    so that a measurement can be repeated from the same state with restore_copy."""
    name = _database_name(settings)
    with psycopg.connect(settings.maintenance_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}_saved" with (force)')
        conn.execute(f'create database "{name}_saved" template "{name}" strategy = file_copy')
    return f"{name}_saved"


def restore_copy(settings: Settings, copy: str) -> None:
    """The bench database as save_copy found it (the copy stays for the next restore)."""
    name = _database_name(settings)
    with psycopg.connect(settings.maintenance_url, autocommit=True) as conn:
        conn.execute(f'drop database "{name}" with (force)')
        conn.execute(f'create database "{name}" template "{copy}" strategy = file_copy')
        conn.execute("checkpoint")


def drop_copy(settings: Settings, copy: str) -> None:
    with psycopg.connect(settings.maintenance_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{copy}" with (force)')


@contextmanager
def timed(label: str, results: dict):
    started = time.perf_counter()
    yield
    results[label] = time.perf_counter() - started


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def scratch_dir() -> Path:
    path = PROJECT_DIR / "bench" / "out" / "data"
    path.mkdir(parents=True, exist_ok=True)
    return path
