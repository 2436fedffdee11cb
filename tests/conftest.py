"""A real PostgreSQL for the tests: the embedded server (one per session) or WFA_TEST_DATABASE_URL.

Each test module gets a fresh database with the raw layer migrated.
"""

from __future__ import annotations

import os
import re
import socket
import uuid

import psycopg
import pytest

from warehouse import migrate
from warehouse import server as embedded_server
from warehouse.dbt_paths import DBT_PROJECT_DIR
from warehouse.settings import Settings, with_database


def pytest_configure(config):
    """Parallel test workers (pytest-xdist, `make test`) run dbt side by side: each writes its own
    target folder (manifest, partial parse) and logs, which dbt and dagster-dbt both follow."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        path = DBT_PROJECT_DIR / "target" / f"test-{worker}"
        os.environ["DBT_TARGET_PATH"] = str(path)
        os.environ["DBT_LOG_PATH"] = str(path)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory):
    """URL of a maintenance database on the test server."""
    external = os.environ.get("WFA_TEST_DATABASE_URL")
    if external:
        yield external
        return
    settings = Settings(home=tmp_path_factory.mktemp("wfa_home"), port=_free_port())
    embedded_server.start(settings)
    try:
        yield settings.maintenance_url
    finally:
        embedded_server.stop(settings)


def make_database(server_url: str, label: str) -> Settings:
    name = f"wfa_test_{re.sub(r'[^a-z0-9]+', '_', label.lower())[-30:]}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    settings = Settings(database_url=with_database(server_url, name), dbt_threads=2)
    migrate.migrate(settings.warehouse_url)
    return settings


@pytest.fixture(scope="module")
def warehouse(pg_server_url, request):
    """Settings for a fresh database with the raw layer applied; dropped after the module."""
    settings = make_database(pg_server_url, request.module.__name__)
    yield settings
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{settings.warehouse_name}" with (force)')


def pytest_collection_modifyitems(config, items):
    """Tests that use the database are marked `db`, so CI can rerun just them on another server."""
    for item in items:
        if "pg_server_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)
