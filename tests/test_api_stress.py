"""The API under stress, over real HTTP: oversize bodies, and a restart of the database server
under a running API."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from api.infra.keys import create_key
from tests.api_server import client, serve

pytestmark = pytest.mark.db

LIMIT = 256 * 1024  # a small limit, so that bodies over it are quick to send


def enrolment(event_id: str) -> dict:
    return {"event_id": event_id, "event_type": "execution.enrolled",
            "occurred_at": "2026-03-03T12:00:00Z", "account_id": "acc_s",
            "workflow_id": "wf_s", "workflow_version": 1, "execution_id": f"x_{event_id}",
            "contact_id": "k1", "properties": {"enrollment_source": "api", "pad": "p" * 200}}


@pytest.fixture(scope="module")
def limited(warehouse, tmp_path_factory):
    settings = warehouse.model_copy(update={"home": tmp_path_factory.mktemp("stress_home"),
                                            "api_max_body_bytes": LIMIT,
                                            "api_rate_limit_per_minute": 10**6})
    key = create_key(settings.warehouse_url, "acc_s", "admin", ["read", "ingest"])[1]
    with serve(settings) as base:
        yield base, key


def _raw_post(base: str, key: str, head: dict[str, str], chunks, send_all: bool = False,
              request_line: str = "POST /api/v1/events"):
    """A request (POST /api/v1/events by default) over a plain socket, the body sent piece by piece while watching for
    an early answer; return (status, body of the answer as JSON, bytes of body sent)."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)  # little kept client-side
    sock.settimeout(30)
    sock.connect((host, int(port)))
    lines = [f"{request_line} HTTP/1.1", f"Host: {host}",
             f"Authorization: Bearer {key}", "Content-Type: application/json",
             *(f"{k}: {v}" for k, v in head.items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    sent = 0
    for chunk in chunks:
        if not send_all and select.select([sock], [], [], 0)[0]:
            break  # answered already
        try:
            sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += len(chunk)
    answer = b""
    try:
        while b"\r\n\r\n" not in answer or not _complete(answer):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    except ConnectionResetError:
        pass
    sock.close()
    head_text, _, body = answer.partition(b"\r\n\r\n")
    status = int(head_text.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head_text.lower():
        body = _unchunk(body)
    return status, json.loads(body), sent


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return body.endswith(b"0\r\n\r\n")


def _unchunk(body: bytes) -> bytes:
    out = b""
    while body:
        size, _, rest = body.partition(b"\r\n")
        n = int(size, 16)
        if n == 0:
            break
        out, body = out + rest[:n], rest[n + 2:]
    return out


def _chunked(payload: bytes, size: int = 16 * 1024):
    for i in range(0, len(payload), size):
        piece = payload[i:i + size]
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


def _events(n: int) -> bytes:
    return json.dumps([enrolment(f"e{i}") for i in range(n)]).encode()


def test_a_body_over_the_limit_is_refused_from_its_content_length(limited):
    """Answered 413 on the headers alone: not a byte of the 50 MB body is sent."""
    base, key = limited
    status, body, sent = _raw_post(base, key, {"Content-Length": str(50 * 1024 * 1024)}, [])
    assert (status, sent) == (413, 0)
    assert body == {"error": {"code": "payload_too_large", "details": None, "message":
                              f"the request body exceeds {LIMIT:,} bytes (WFA_API_MAX_BODY_BYTES)"}}


def test_a_chunked_body_is_counted_while_it_is_read(limited):
    """Without a Content-Length the body is read until it passes the limit, then refused: the
    answer comes while most of the 64 MB are still unsent (what was sent sits in socket
    buffers, unread)."""
    base, key = limited
    payload = b"[" + b" " * (64 * 1024 * 1024) + b"]"
    status, body, sent = _raw_post(base, key, {"Transfer-Encoding": "chunked"},
                                   _chunked(payload, 256 * 1024))
    assert status == 413 and body["error"]["code"] == "payload_too_large"
    assert sent < 16 * 1024 * 1024, sent
    with client(base, key) as http:  # nothing of it was stored
        assert http.post("/api/v1/events", json=[]).status_code == 200


def test_a_body_within_the_limit_is_read_chunked_or_not(limited):
    base, key = limited
    payload = _events(500)
    assert LIMIT // 2 < len(payload) <= LIMIT
    status, body, _ = _raw_post(base, key, {"Transfer-Encoding": "chunked"},
                                _chunked(payload), send_all=True)
    assert (status, body["received"], body["accepted"]) == (200, 500, 500)
    with client(base, key) as http:
        again = http.post("/api/v1/events", content=payload)
        assert (again.status_code, again.json()["duplicates"]) == (200, 500)
        # one byte over, with a Content-Length (httpx sends one)
        over = http.post("/api/v1/events", content=b" " * (LIMIT + 1))
        assert over.status_code == 413 and over.json()["error"]["code"] == "payload_too_large"
        # every route shares the limit, a body FastAPI parses included
        budget = http.put("/api/v1/analytics/costs/budgets",
                          content=b" " * (LIMIT + 1), headers={"Content-Type": "application/json"})
        assert budget.status_code == 413


def test_a_chunked_body_over_the_limit_is_refused_on_a_parsed_route(limited):
    base, key = limited
    status, body, _ = _raw_post(base, key, {"Transfer-Encoding": "chunked"},
                                _chunked(b" " * (2 * LIMIT)),
                                request_line="PUT /api/v1/analytics/costs/budgets")
    assert status == 413 and body["error"]["code"] == "payload_too_large"


# --- a restart of the database server under a running API -----------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def own_server(tmp_path):
    """An embedded server of this test's own, since it is killed: the session's serves others."""
    from warehouse import migrate
    from warehouse import server as embedded
    from warehouse.settings import Settings

    settings = Settings(home=tmp_path / "home", port=_free_port(), api_pool_max=10,
                        api_rate_limit_per_minute=10**6)
    embedded.start(settings)
    try:
        embedded.ensure_databases(settings)
        migrate.migrate(settings.warehouse_url)
        yield settings
    finally:
        embedded.stop(settings)


def crash_and_restart(settings) -> None:
    """kill -9 of the postmaster (its PID is the first line of postmaster.pid), then a start,
    once its backends have noticed and exited."""
    import psutil

    from warehouse import server as embedded

    pid = int((settings.pgdata / "postmaster.pid").read_text().splitlines()[0])
    postmaster = psutil.Process(pid)
    backends = postmaster.children(recursive=True)
    os.kill(pid, signal.SIGKILL)
    psutil.wait_procs([postmaster, *backends], timeout=30)
    embedded.start(settings)


def test_a_restart_of_the_database_costs_no_failed_request(own_server):
    from api.infra import jobs
    from tests.helpers import query

    settings = own_server
    key = create_key(settings.warehouse_url, "acc_r", "viewer", ["read"])[1]
    with psycopg_connect(settings) as conn:
        job_id = jobs.create(conn, "acc_r", None)
    with serve(settings) as base:
        def read(_, http=None) -> int | str:
            try:
                if http is not None:
                    return http.get(f"/api/v1/jobs/{job_id}").status_code
                with client(base, key) as own:
                    return own.get(f"/api/v1/jobs/{job_id}").status_code
            except httpx.HTTPError as exc:  # a reset connection is a failed request too
                return type(exc).__name__

        # both pools filled: a burst of concurrent requests opens all their connections
        with ThreadPoolExecutor(max_workers=20) as pool:
            assert set(pool.map(read, range(60))) == {200}
        opened = query(settings, "select count(*) as n from pg_stat_activity"
                                 " where application_name = '' and backend_type = 'client backend'"
                                 " and datname = %s", (settings.warehouse_name,))[0]["n"]
        assert opened >= 10

        crash_and_restart(settings)
        with client(base, key) as http:
            started = time.monotonic()
            codes = [read(0, http)]
            first_seconds = time.monotonic() - started  # waits for a new connection
            codes += [read(i, http) for i in range(39)]
        with ThreadPoolExecutor(max_workers=20) as pool:
            codes += list(pool.map(read, range(40)))
    failed = [code for code in codes if code != 200]
    assert failed == [], f"{len(failed)} failed requests after the restart: {codes}"
    # the pools' first retry delay (about 1 s), not their 30 s timeout
    assert first_seconds < 5, first_seconds


def psycopg_connect(settings):
    import psycopg
    from psycopg.rows import dict_row

    return psycopg.connect(settings.warehouse_url, autocommit=True, row_factory=dict_row)


def test_a_body_nested_beyond_the_parser_is_a_400_and_an_ndjson_line_a_rejection(limited):
    base, key = limited
    deep = b"[" * 1100 + b"]" * 1100
    with client(base, key) as http:
        response = http.post("/api/v1/events", content=b"[" + deep + b"]")
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "bad_request"
        assert error["message"].startswith("the body is not valid JSON: depth limit exceeded")
        lines = http.post("/api/v1/events", content=deep + b"\n" + json.dumps(
            enrolment("ndjson_ok")).encode(), headers={"Content-Type": "application/x-ndjson"})
        assert lines.status_code == 200
        assert [r["status"] for r in lines.json()["results"]] == ["rejected", "accepted"]
