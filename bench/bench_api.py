"""The HTTP API under load: summary and funnel latency at 50 concurrent clients, ingestion
throughput in batches of 1,000, a CSV export of every execution, and many SSE connections.

    python bench/bench_api.py --enrolments 1000000 --sse 1000

Builds one workflow with N enrolments (raw events made in SQL, marts built by dbt), starts
`wfa serve --workers W` in its own process, and drives it over real HTTP from this one. The
latency clients use aiohttp: httpx spends about 2 ms of CPU per request, so at a thousand
requests a second it would measure the client, not the server (both share this machine).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.infra.keys import create_key  # noqa: E402
from bench.common import bench_database  # noqa: E402
from warehouse.runtime import dbt_command  # noqa: E402

PORT = 8765
DAY0 = "2026-01-01"

REFERENCE = """
insert into raw.accounts values ('acc_bench', 'Bench', 'pro', 'UTC', 1000, '2025-01-01');
insert into raw.workflows values ('wf_big', 'acc_bench', 'Big workflow', null, '2025-01-01', 'active');
insert into raw.workflow_steps values
  ('wf_big', 1, 't1', 1, 'trigger', 'Trigger', null),
  ('wf_big', 1, 'a1', 2, 'action', 'Send email', 'send_email'),
  ('wf_big', 1, 'g1', 3, 'goal', 'Goal', null);
"""
# Each execution i: enrolled, a1 started and completed (or failed one in 20), then completed
# (two in three), goal (one in three), or still active (the rest); spread over 180 days.
EVENTS = """
insert into raw.events (event_id, event_type, occurred_at, account_id, workflow_id,
                        workflow_version, execution_id, contact_id, step_id, properties)
select e.event_id, e.event_type, e.at, 'acc_bench', 'wf_big', 1, 'x' || i, 'c' || i, e.step_id,
       e.props
from generate_series(1, %(n)s) as i,
     lateral (select %(day0)s::timestamptz + (i %% 180) * interval '1 day'
                     + (i %% 86400) * interval '1 second' as t0) t,
     lateral (values
       ('e' || i || '_0', 'execution.enrolled', t.t0, null::text,
        '{"enrollment_source": "trigger", "trigger_type": "form"}'::jsonb),
       ('e' || i || '_1', 'step.started', t.t0 + interval '1 minute', 'a1', '{}'::jsonb),
       ('e' || i || '_2', case when i %% 20 = 0 then 'step.failed' else 'step.completed' end,
        t.t0 + interval '2 minutes', 'a1',
        case when i %% 20 = 0
             then '{"duration_ms": 900, "error_type": "api_timeout", "credits": 1, "cost_usd": 0.002}'
             else '{"duration_ms": 400, "credits": 1, "cost_usd": 0.002}' end::jsonb),
       ('e' || i || '_3', case when i %% 3 = 0 then 'execution.completed'
                              when i %% 3 = 1 then 'goal.achieved' else null end,
        t.t0 + interval '1 hour', null, '{}'::jsonb)
     ) as e(event_id, event_type, at, step_id, props)
where e.event_type is not null
"""


def build(settings, n: int) -> None:
    import psycopg

    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        conn.execute(REFERENCE)
        conn.execute(EVENTS, {"n": n, "day0": DAY0})
        conn.execute("analyze raw.events")
    done = dbt_command(settings, "run", capture=True)
    if done.returncode != 0:
        raise RuntimeError(done.stdout[-3000:])


def start_server(settings, workers: int) -> subprocess.Popen:
    env = {**os.environ, "WFA_DATABASE_URL": settings.warehouse_url,
           # the benchmark measures throughput, not the per-key limit
           "WFA_API_RATE_LIMIT_PER_MINUTE": str(10**9), "WFA_API_POOL_MAX": "20",
           "WFA_API_STREAM_MIN_GAP_SECONDS": "1"}
    wfa = str(Path(sys.executable).with_name("wfa"))
    server = subprocess.Popen([wfa, "serve", "--port", str(PORT), "--workers", str(workers)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{PORT}/readyz").status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the API did not start")


async def latency(session: aiohttp.ClientSession, path: str, params, clients: int,
                  per_client: int) -> tuple[float, float, float]:
    """p50 and p95 in ms, and requests/s, of `clients` clients each sending `per_client`
    requests one after the other; `params(i)` gives the parameters of request i."""
    times: list[float] = []
    counter = iter(range(clients * per_client))

    async def one():
        for _ in range(per_client):
            started = time.perf_counter()
            async with session.get(path, params=params(next(counter))) as response:
                await response.read()
                response.raise_for_status()
            times.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(clients)))
    wall = time.perf_counter() - started
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.95)] * 1000, len(times) / wall


def distinct_range(i: int) -> dict:
    """A different range for every request (up to 1,740): nothing is answered from memory."""
    start, end, weekly = i % 30, (i // 30) % 29, (i // 870) % 2
    return {"start_date": f"2026-01-{start + 1:02d}", "end_date": f"2026-06-{end + 1:02d}",
            "granularity": "weekly" if weekly else "daily"}


async def ingestion(client: httpx.AsyncClient, batches: int, concurrency: int,
                    prefix: str = "ing") -> float:
    counter = iter(range(batches))

    async def worker():
        for b in counter:
            body = [{"event_id": f"{prefix}_{b}_{j}", "event_type": "execution.enrolled",
                     "occurred_at": "2026-07-01T00:00:00Z", "account_id": "acc_bench",
                     "workflow_id": "wf_big", "workflow_version": 1,
                     "execution_id": f"{prefix}_{b}_{j}", "contact_id": "c",
                     "properties": {"enrollment_source": "api"}} for j in range(1000)]
            response = await client.post("/api/v1/events", json=body)
            assert response.json()["accepted"] == 1000

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return batches * 1000 / (time.perf_counter() - started)


def server_rss_mb(server: subprocess.Popen) -> float:
    """The server's resident memory, its worker processes' included."""
    process = psutil.Process(server.pid)
    return sum(p.memory_info().rss for p in (process, *process.children(recursive=True))) / 2**20


def export_csv(key: str, server: subprocess.Popen) -> tuple[float, int, float, float]:
    before = server_rss_mb(server)
    peak, rows = before, 0
    started = time.perf_counter()
    with httpx.stream("GET", f"http://127.0.0.1:{PORT}/api/v1/workflows/wf_big/analytics/export",
                      params={"start_date": DAY0, "end_date": "2026-12-31", "format": "csv"},
                      headers={"Authorization": f"Bearer {key}"}, timeout=300) as response:
        for chunk in response.iter_bytes(1 << 20):
            rows += chunk.count(b"\n")
            peak = max(peak, server_rss_mb(server))
    return time.perf_counter() - started, rows - 1, before, peak


async def sse(key: str, connections: int, ingest_client: httpx.AsyncClient) -> tuple[int, float]:
    limits = httpx.Limits(max_connections=connections + 10)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}", limits=limits,
                                 headers={"Authorization": f"Bearer {key}"},
                                 timeout=60) as client:
        opened, updated = asyncio.Event(), []
        ready = 0
        ingested_at: list[float] = []

        async def listen():
            nonlocal ready
            async with client.stream("GET", "/api/v1/workflows/wf_big/analytics/stream") as resp:
                seen = 0
                async for line in resp.aiter_lines():
                    if line.startswith("event: metrics_update"):
                        seen += 1
                        if seen == 1:
                            ready += 1
                            if ready == connections:
                                opened.set()
                        else:
                            updated.append(time.perf_counter() - ingested_at[0])
                            return

        tasks = [asyncio.create_task(listen()) for _ in range(connections)]
        await asyncio.wait_for(opened.wait(), 120)
        ingested_at.append(time.perf_counter())
        await ingest_client.post("/api/v1/events", json=[{
            "event_id": "sse_1", "event_type": "execution.enrolled",
            "occurred_at": "2026-07-02T00:00:00Z", "account_id": "acc_bench",
            "workflow_id": "wf_big", "workflow_version": 1, "execution_id": "sse_1",
            "contact_id": "c", "properties": {}}])
        await asyncio.wait(tasks, timeout=30)
        for task in tasks:
            task.cancel()
        return len(updated), max(updated) if updated else float("nan")


async def drive(key: str, args, server) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    year = {"start_date": DAY0, "end_date": "2026-06-29"}
    connector = aiohttp.TCPConnector(limit=60)
    async with aiohttp.ClientSession(f"http://127.0.0.1:{PORT}", connector=connector,
                                     headers=headers) as session:
        for name, path in (("summary", "/api/v1/workflows/wf_big/analytics"),
                           ("funnel", "/api/v1/workflows/wf_big/analytics/funnel")):
            # warm-up, not measured: every client opens its connection and every worker
            # computes the answer once
            await latency(session, path, lambda i: year, 50, 2)
            p50, p95, rps = await latency(session, path, lambda i: year, 50, args.requests)
            print(f"{name}: 50 clients x {args.requests}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
                  f"{rps:,.0f} requests/s")
            p50, p95, rps = await latency(session, path, distinct_range, 50, args.requests)
            print(f"{name}, a different range each request (computed, not from memory): "
                  f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, {rps:,.0f} requests/s")
    limits = httpx.Limits(max_connections=60)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}", limits=limits,
                                 headers=headers, timeout=60) as client:
        rate = await ingestion(client, args.batches, 4)
        print(f"ingestion: {args.batches} batches of 1,000 events from 4 clients: {rate:,.0f} events/s")
        seconds, rows, before, peak = await asyncio.to_thread(export_csv, key, server)
        print(f"CSV export: {rows:,} rows in {seconds:.1f} s; server RSS {before:,.0f} MB before,"
              f" {peak:,.0f} MB at most during the export")
        delivered, slowest = await sse(key, args.sse, client)
        print(f"SSE: {args.sse} connections held; {delivered} received the update, the slowest "
              f"{slowest:.2f} s after the ingest")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enrolments", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=40, help="requests per client")
    parser.add_argument("--batches", type=int, default=50, help="ingestion batches of 1,000")
    parser.add_argument("--sse", type=int, default=1000, help="SSE connections")
    parser.add_argument("--workers", type=int, default=1,
                        help="wfa serve --workers (2 answer more computed requests a second, "
                             "with a longer tail when all are kept)")
    args = parser.parse_args()
    with bench_database() as settings:
        started = time.perf_counter()
        build(settings, args.enrolments)
        print(f"built {args.enrolments:,} enrolments (raw events and marts) in "
              f"{time.perf_counter() - started:.0f} s")
        key = create_key(settings.warehouse_url, "acc_bench", "admin", ["read", "ingest"])[1]
        server = start_server(settings, args.workers)
        try:
            asyncio.run(drive(key, args, server))
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
