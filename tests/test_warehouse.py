"""The embedded warehouse runtime and the migrations of the raw layer."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from warehouse import migrate, server
from warehouse.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_up_twice_is_harmless_down_stops_and_a_stale_pid_file_is_recovered(tmp_path):
    settings = Settings(home=tmp_path / "home", port=_free_port())
    first = server.start(settings)
    try:
        assert first.running
        assert server.start(settings).pid == first.pid  # the second `up` changes nothing
        server.ensure_databases(settings)
        with psycopg.connect(settings.warehouse_url) as conn:
            assert conn.execute("show listen_addresses").fetchone()[0] == "127.0.0.1"
            assert conn.execute("show timezone").fetchone()[0] == "UTC"
            assert conn.execute("select current_database()").fetchone()[0] == "wfa"
        with psycopg.connect(settings.dagster_url) as conn:
            assert conn.execute("select current_database()").fetchone()[0] == "wfa_dagster"

        os.kill(first.pid, signal.SIGKILL)  # the server dies, leaving postmaster.pid behind
        deadline = time.monotonic() + 10
        while server.status(settings).running and time.monotonic() < deadline:
            time.sleep(0.1)
        stale = server.status(settings)
        assert not stale.running and stale.pid == first.pid
        assert "stale pid file" in stale.detail

        again = server.start(settings)
        assert again.running and again.pid != first.pid
        with psycopg.connect(settings.warehouse_url) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    finally:
        server.stop(settings)
    assert not server.status(settings).running
    assert (settings.pgdata / "PG_VERSION").exists()  # data stays under the home folder


def test_settings_feed_dbt_and_dagster_from_one_url():
    settings = Settings(database_url="postgresql://bi:s3cret@db.internal:6543/analytics")
    assert not settings.embedded
    assert settings.dagster_url == "postgresql://bi:s3cret@db.internal:6543/analytics_dagster"
    env = settings.dbt_env()
    assert (env["WFA_DBT_HOST"], env["WFA_DBT_PORT"], env["WFA_DBT_USER"],
            env["WFA_DBT_PASSWORD"], env["WFA_DBT_DBNAME"]) == (
        "db.internal", "6543", "bi", "s3cret", "analytics")
    embedded = Settings(port=55555)
    assert embedded.warehouse_url == "postgresql://postgres@127.0.0.1:55555/wfa"


def test_a_full_refresh_runs_at_most_one_model_per_core():
    from warehouse.runtime import with_full_refresh_threads

    settings = Settings(dbt_threads=4)
    cores = os.cpu_count() or 1
    assert with_full_refresh_threads(settings, ("run", "--full-refresh")) == (
        "run", "--full-refresh", "--threads", str(min(4, cores)))
    assert with_full_refresh_threads(settings, ("run", "--full-refresh", "--threads", "8")) == (
        "run", "--full-refresh", "--threads", "8")
    assert with_full_refresh_threads(settings, ("run", "--select", "fct_executions")) == (
        "run", "--select", "fct_executions")


def test_cli_db_url_follows_the_environment():
    wfa = str(Path(sys.executable).with_name("wfa"))
    env = {**os.environ, "WFA_PORT": "54444"}
    env.pop("WFA_DATABASE_URL", None)
    done = subprocess.run([wfa, "db", "url"], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "postgresql://postgres@127.0.0.1:54444/wfa"
    env["WFA_DATABASE_URL"] = "postgresql://u@h:1/x"
    done = subprocess.run([wfa, "db", "url", "--dagster"], env=env, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "postgresql://u@h:1/x_dagster"


def test_migrations_apply_once_and_refuse_an_edited_file(warehouse):
    # The fixture already migrated this database: nothing is pending.
    assert migrate.migrate(warehouse.warehouse_url) == []
    with psycopg.connect(warehouse.warehouse_url, autocommit=True) as conn:
        versions = [row[0] for row in conn.execute(
            "select version from platform.schema_migrations order by version")]
        assert versions == [m.version for m in migrate.available()]
        tables = {row[0] for row in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'")}
        assert {"events", "events_rejected", "load_batches", "accounts", "users", "workflows",
                "workflow_steps", "experiments"} <= tables
        conn.execute("update platform.schema_migrations set checksum = 'edited'"
                     " where version = '0001'")
    with pytest.raises(RuntimeError, match="was changed after it was applied"):
        migrate.migrate(warehouse.warehouse_url)


def test_the_warehouse_and_load_commands_start_without_the_heavy_libraries():
    """`wfa db up`, `wfa load` and the like answer in a fraction of a second: Dagster, dbt and
    pandas (seconds to import) are loaded only by the commands that use them."""
    code = ("import sys, cli.main, cli.db, cli.data, cli.retention, cli.apikey,"
            " warehouse.runtime, warehouse.ingestion\n"
            "print(sorted({m.split('.')[0] for m in sys.modules}"
            " & {'dagster', 'dagster_dbt', 'dbt', 'pandas', 'great_expectations', 'fastapi'}))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert loaded.strip() == "[]"
