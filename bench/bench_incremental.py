"""Incremental refreshes: the same increment of new events on a small and a large warehouse,
and a 90-day backfill against a full refresh.

    python bench/bench_incremental.py --events 10000000 --small-share 0.1

The sample data set (--events over --days + 1 days) is cut by arrival: the last arrival day's
file is the increment (about events / days: new events of the newest day, and late ones of
earlier days); every other file is the history of the large warehouse, and a share of its
executions (and users) the history of the small one. For each warehouse: load the history, a
full refresh (`dbt run --full-refresh`), a vacuum and a checkpoint, load the increment, then
the incremental refresh of every model over the window the watermark gives (plan + `dbt run`,
the window in the environment as the platform passes it), three times from a copy of the same
state: the median counts. Then, on the large one, a backfill of its last 90 days (`dbt run`
over the window) against a full refresh, and retention purges of its oldest day and of its
oldest 30 days.
Targets: incremental refresh on 10 million events <= 10 s; large / small <= 1.5.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from assets.ingestion import load_files  # noqa: E402
from assets.sample_data import generate  # noqa: E402
from bench.common import (  # noqa: E402
    bench_database, drop_copy, restore_copy, save_copy, scratch_dir, timed)
from orchestration import incremental, retention  # noqa: E402
from orchestration.runtime import dbt_command  # noqa: E402

REFERENCE = ("accounts", "users", "workflows", "workflow_steps", "experiments")


def dbt(settings, *args: str, env: dict[str, str] | None = None) -> None:
    done = dbt_command(settings, *args, capture=True, extra_env=env)
    if done.returncode != 0:
        print(done.stdout[-4000:], done.stderr[-2000:])
        raise SystemExit(f"dbt {' '.join(args)} failed")


def sample_history(files: list[Path], share: float, out: Path) -> list[Path]:
    """The lines of a share of the executions (and of the users), by a hash of their id."""
    out.mkdir(parents=True, exist_ok=True)
    limit = int(share * 2**32)
    written = []
    for path in files:
        target = out / path.name
        with path.open() as src, target.open("w") as dst:
            for line in src:
                try:
                    event = json.loads(line)
                    key = event.get("execution_id") or event.get("user_id") or event["event_id"]
                except (ValueError, KeyError, AttributeError):
                    continue
                if zlib.crc32(str(key).encode()) < limit:
                    dst.write(line)
        written.append(target)
    return written


def refresh_run(settings, times: dict, label: str, increment: Path) -> incremental.Window:
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        incremental.record(conn, incremental.plan(conn, overlap_seconds=0))
    (loaded,) = load_files(settings.warehouse_url, [increment])
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        conn.execute("analyze raw.events")
        with timed(f"{label} plan", times):
            window = incremental.plan(conn, overlap_seconds=0)
    with timed(f"{label} incremental", times):
        dbt(settings, "run", env=incremental.dbt_environment(window.dbt_vars()))
    total = times[f"{label} plan"] + times[f"{label} incremental"]
    print(f"{label}: increment of {loaded.loaded:,} new events; window {window.start} to "
          f"{window.end} ({window.days} days); plan {times[f'{label} plan']:.2f} s + dbt run "
          f"{times[f'{label} incremental']:.1f} s = {total:.1f} s")
    times[f"{label} total"] = total
    return window


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--small-share", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=3,
                        help="refreshes per warehouse from the same state; the median counts")
    args = parser.parse_args()

    folder = scratch_dir() / f"incremental-{args.events}"
    if not (folder / "manifest.json").exists():
        generate(folder, events=args.events, days=args.days + 1, seed=42)
    files = sorted((folder / "events").glob("*.jsonl"))
    history, increment = files[:-1], files[-1]
    small_history = sample_history(history, args.small_share, folder / "small_history")

    times: dict[str, float] = {}
    for label, paths in (("small", small_history), ("large", history)):
        with bench_database() as settings:
            for table in REFERENCE:
                load_files(settings.warehouse_url, [folder / f"{table}.jsonl"], table)
            results = load_files(settings.warehouse_url, paths)
            with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
                conn.execute("vacuum analyze raw.events")
            dbt(settings, "parse", "--quiet")
            with timed(f"{label} full", times):
                dbt(settings, "run", "--full-refresh")
            print(f"{label}: {sum(r.loaded for r in results):,} events; full refresh "
                  f"{times[f'{label} full']:.1f} s")
            # the steady state autovacuum and the checkpointer give a warehouse between
            # refreshes (tables just built whole have no visibility map, and their first reader
            # would set every hint bit; the refresh would also flush the full build's pages)
            with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
                conn.execute("vacuum analyze")
                conn.execute("checkpoint")
            # the median of --repeats refreshes, each from a copy of the same state: one run
            # on two cores varies by 15-25 %
            copy = save_copy(settings) if args.repeats > 1 else None
            totals = []
            try:
                for attempt in range(args.repeats):
                    if attempt:
                        restore_copy(settings, copy)
                    window = refresh_run(settings, times, label, increment)
                    totals.append(times[f"{label} total"])
            finally:
                if copy:
                    drop_copy(settings, copy)
            times[f"{label} total"] = statistics.median(totals)
            print(f"{label}: refreshes {', '.join(f'{t:.1f}' for t in totals)} s; median "
                  f"{times[f'{label} total']:.1f} s")

            if label == "large":
                start = window.end - dt.timedelta(days=89)
                with timed("backfill", times):
                    dbt(settings, "run", env=incremental.dbt_environment(
                        {"wfa_window_start": start.isoformat(),
                         "wfa_window_end": window.end.isoformat()}))
                with timed("full again", times):
                    dbt(settings, "run", "--full-refresh")
                print(f"backfill of 90 days ({start} to {window.end}): {times['backfill']:.1f} s; "
                      f"full refresh of the same data: {times['full again']:.1f} s")
                # retention: a purge of the oldest day, as the daily job does, then of a month
                first = window.end - dt.timedelta(days=args.days)
                with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
                    for days in (1, 30):
                        horizons = retention.Horizons(first + dt.timedelta(days=days),
                                                      first - dt.timedelta(days=365))
                        with timed(f"purge {days}", times):
                            counts = retention.purge(conn, horizons)
                        print(f"retention purge of {days} day(s) before "
                              f"{horizons.detail_before}: {counts['raw.events']:,} raw events, "
                              f"{sum(counts.values()):,} rows in all, in "
                              f"{times[f'purge {days}']:.1f} s")

    print(f"incremental refresh, large (median): {times['large total']:.1f} s (target <= 10 s); "
          f"large / small: {times['large total'] / times['small total']:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
