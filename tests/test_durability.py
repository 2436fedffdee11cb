"""A write acknowledged by `wfa load` or the API survives a crash of the server.

Each test crashes a server of its own (kill -9 of the postmaster) at the worst moment, restarts
it as `wfa db up` does, and requires that everything acknowledged is there, exactly once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import orjson
import psycopg
import pytest

from api.infra.keys import create_key
from tests.api_server import serve
from tests.crash_server import crash, own_server, restart

ACCOUNT = "acc_crash"


def _event(n: int) -> dict:
    return {"event_id": f"ev_{n:07d}", "event_type": "execution.enrolled",
            "occurred_at": f"2026-08-{1 + n % 28:02d}T10:00:00Z", "account_id": ACCOUNT,
            "workflow_id": f"wf_crash_{n % 7}", "workflow_version": 1,
            "execution_id": f"x_{n:07d}", "contact_id": f"c_{n % 1000}",
            "properties": {"enrollment_source": "api"}}


def _write_events(path: Path, count: int) -> Path:
    with open(path, "wb") as handle:
        for n in range(count):
            handle.write(orjson.dumps(_event(n)) + b"\n")
    return path


def _count(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]


def _wfa(settings, *args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "WFA_DATABASE_URL": settings.warehouse_url}
    wfa = str(Path(sys.executable).with_name("wfa"))
    return subprocess.Popen([wfa, *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.fixture()
def server(tmp_path):
    with own_server(tmp_path / "home") as settings:
        yield settings


def test_rows_a_finished_load_reported_survive_a_crash_right_after(server, tmp_path):
    path = _write_events(tmp_path / "events.jsonl", 60_000)
    load = _wfa(server, "load", str(path))
    out, err = load.communicate(timeout=300)
    crash(server)  # at once: an asynchronous commit would still sit in the WAL buffers
    assert load.returncode == 0, err
    assert "events: 60,000 rows read = 60,000 loaded + 0 duplicates + 0 rejected" in out
    restart(server)
    url = server.warehouse_url
    assert _count(url, "select count(*) from raw.events") == 60_000
    assert _count(url, "select count(distinct event_id) from raw.events") == 60_000
    assert _count(url, "select loaded from raw.load_batches") == 60_000


def test_chunks_a_load_committed_survive_a_crash_in_the_middle_of_it(server, tmp_path):
    path = _write_events(tmp_path / "events.jsonl", 400_000)
    load = _wfa(server, "load", str(path))
    url = server.warehouse_url
    seen = 0
    deadline = time.monotonic() + 120
    while seen < 60_000:  # a few chunks are committed, and more on their way
        assert time.monotonic() < deadline and load.poll() is None, load.stderr.read()
        seen = _count(url, "select coalesce(sum(loaded), 0) from raw.load_batches")
        time.sleep(0.02)
    crash(server)
    load.wait(timeout=60)
    assert load.returncode != 0  # the load saw its server go: it did not report success
    restart(server)
    stored = _count(url, "select count(*) from raw.events")
    counted = _count(url, "select loaded from raw.load_batches")
    # what was acknowledged (seen committed) is there, and the batch counts exactly what is
    assert stored >= seen
    assert stored == counted
    assert _count(url, "select count(distinct event_id) from raw.events") == stored

    # loading the file again completes it: every event once
    again = _wfa(server, "load", str(path))
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert (f"events: 400,000 rows read = {400_000 - stored:,} loaded + {stored:,} duplicates"
            f" + 0 rejected") in out
    assert _count(url, "select count(*) from raw.events") == 400_000
    # the stopped load is marked failed, with the counts of the chunks it committed
    with psycopg.connect(url) as conn:
        batches = conn.execute("select status, loaded from raw.load_batches"
                               " order by load_id").fetchall()
    assert batches == [("failed", stored), ("done", 400_000 - stored)]


def test_events_the_api_accepted_survive_a_crash(server, tmp_path):
    _, key = create_key(server.warehouse_url, ACCOUNT, "admin", ["read", "ingest"])
    accepted: set[str] = set()
    failures: list[str] = []
    stop = threading.Event()

    with serve(server) as base:
        def post_batches():
            with httpx.Client(base_url=base, timeout=30,
                              headers={"Authorization": f"Bearer {key}"}) as http:
                n = 0
                while not stop.is_set():
                    batch = [_event(i) for i in range(n, n + 200)]
                    n += 200
                    try:
                        answer = http.post("/api/v1/events", json=batch)
                    except httpx.HTTPError as exc:
                        failures.append(type(exc).__name__)
                        continue
                    if answer.status_code == 200:
                        accepted.update(r["event_id"] for r in answer.json()["results"]
                                        if r["status"] == "accepted")
                    else:
                        failures.append(str(answer.status_code))

        poster = threading.Thread(target=post_batches)
        poster.start()
        deadline = time.monotonic() + 60
        while len(accepted) < 2_000:
            assert time.monotonic() < deadline and poster.is_alive(), failures
            time.sleep(0.01)
        crash(server)
        acknowledged = set(accepted)  # answered "accepted" before the crash
        time.sleep(0.5)
        stop.set()
        poster.join(60)
        restart(server)

    with psycopg.connect(server.warehouse_url) as conn:
        stored = {row[0] for row in conn.execute("select event_id from raw.events")}
    assert len(acknowledged) >= 2_000
    assert acknowledged <= stored, f"{len(acknowledged - stored)} accepted events were lost"
    assert accepted <= stored


def test_a_server_set_up_with_asynchronous_commits_comes_back_durable(server):
    from warehouse import server as embedded_server

    embedded_server.stop(server)
    conf = server.pgdata / "postgresql.conf"
    conf.write_text(conf.read_text() + "synchronous_commit = off\n")  # as older versions wrote
    embedded_server.start(server)
    assert "synchronous_commit = off" not in conf.read_text()
    with psycopg.connect(server.warehouse_url) as conn:
        assert conn.execute("show synchronous_commit").fetchone()[0] == "on"
