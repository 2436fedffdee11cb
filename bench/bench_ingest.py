"""API ingestion throughput: `POST /api/v1/events` of new events, on an empty warehouse.

    python bench/bench_ingest.py --batches 100

Batches of 1,000 new enrolments (each a new execution, as producers send them) from 4 clients
to one `wfa serve` worker; every commit waits for the disk (docs/guarantees.md).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.infra.keys import create_key  # noqa: E402
from bench.bench_api import PORT, ingestion, start_server  # noqa: E402
from bench.common import bench_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=100, help="batches of 1,000 events")
    args = parser.parse_args()
    with bench_database() as settings:
        key = create_key(settings.warehouse_url, "acc_bench", "admin", ["read", "ingest"])[1]
        server = start_server(settings, 1)
        try:
            rate = asyncio.run(_drive(key, args.batches))
        finally:
            server.terminate()
            server.wait(10)
    print(f"ingestion: {args.batches} batches of 1,000 events from 4 clients: {rate:,.0f} events/s")


async def _drive(key: str, batches: int) -> float:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}", timeout=60,
                                 headers={"Authorization": f"Bearer {key}"}) as client:
        await ingestion(client, 5, 4, prefix="warm")  # warm-up: connections, the pool, the first plans
        return await ingestion(client, batches, 4)


if __name__ == "__main__":
    main()
