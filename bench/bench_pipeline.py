"""Generate → load → full refresh, with the figures the Foundation issue asks for.

    python bench/bench_pipeline.py --events 10000000

Prints: generation rate; `wfa load` rate (JSON Lines, rows read per second) and peak memory;
the seconds of one plain aggregate pass over raw.events; the seconds of a full refresh of every
model (`dbt run --full-refresh`) and its ratio to the plain pass (target: at most 6).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from bench.common import bench_database, peak_rss_mb, scratch_dir, timed  # noqa: E402
from warehouse.ingestion import load_files  # noqa: E402
from warehouse.runtime import dbt_command  # noqa: E402
from warehouse.sample_data import generate  # noqa: E402

REFERENCE = ("accounts", "users", "workflows", "workflow_steps", "experiments")
PLAIN_AGGREGATE = ("select workflow_id, date_trunc('day', occurred_at), event_type, count(*)"
                   " from raw.events group by 1, 2, 3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--keep", action="store_true", help="keep the database and files")
    args = parser.parse_args()

    times: dict[str, float] = {}
    folder = scratch_dir() / f"events-{args.events}"
    if folder.exists():
        shutil.rmtree(folder)
    with timed("generate", times):
        manifest = generate(folder, events=args.events, days=args.days, seed=42)
    event_bytes = sum(p.stat().st_size for p in (folder / "events").glob("*"))
    print(f"generate: {args.events:,} events in {times['generate']:.1f} s "
          f"({args.events / times['generate']:,.0f} events/s), {event_bytes / 1e9:.2f} GB of JSON Lines")

    with bench_database(keep=args.keep) as settings:
        for table in REFERENCE:
            load_files(settings.warehouse_url, [folder / f"{table}.jsonl"], table)
        with timed("load", times):
            results = load_files(settings.warehouse_url, [folder / "events"])
        read = sum(r.rows_read for r in results)
        loaded = sum(r.loaded for r in results)
        print(f"load: {read:,} rows read ({loaded:,} loaded, "
              f"{sum(r.duplicates for r in results):,} duplicates, "
              f"{sum(r.rejected for r in results):,} rejected) in {times['load']:.1f} s = "
              f"{read / times['load']:,.0f} rows/s; peak RSS {peak_rss_mb():,.0f} MB")

        with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
            conn.execute("vacuum analyze raw.events")
            conn.execute(PLAIN_AGGREGATE).fetchall()  # warm the cache the same for both
            with timed("plain", times):
                conn.execute(PLAIN_AGGREGATE).fetchall()
        print(f"plain aggregate pass over raw.events: {times['plain']:.2f} s")

        dbt_command(settings, "parse", "--quiet", capture=True)
        with timed("refresh", times):
            done = dbt_command(settings, "run", "--full-refresh", capture=True)
        if done.returncode != 0:
            print(done.stdout[-4000:], done.stderr[-2000:])
            raise SystemExit("dbt run failed")
        print(f"full refresh of all models (dbt run --full-refresh): {times['refresh']:.1f} s; "
              f"ratio to the plain pass: {times['refresh'] / times['plain']:.1f} (target <= 6)")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"manifest: {len(manifest.get('anomalies', []))} planted anomalies")


if __name__ == "__main__":
    main()
