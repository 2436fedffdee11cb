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
state: the median counts. The two warehouses' refreshes alternate (small, large, small...),
each warehouse with its own dbt target folder (no parse when they switch), so that a drift of
the machine's speed, which moved one warehouse's median by 10 % between runs of this script,
weighs on both alike. Then, on the large one, a backfill of its last 90 days (`dbt run` over
the window) against a full refresh, and retention purges of its oldest day and of its oldest 30
days.
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

from bench.common import bench_databases, drop_copy, restore_copy, save_copy, scratch_dir, timed  # noqa: E402
from warehouse import (
    incremental,
    retention,  # noqa: E402
)
from warehouse.ingestion import load_files  # noqa: E402
from warehouse.runtime import dbt_command  # noqa: E402
from warehouse.sample_data import generate  # noqa: E402

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


def refresh_run(settings, times: dict, label: str, increment: Path,
                env: dict[str, str]) -> incremental.Window:
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        incremental.record(conn, incremental.plan(conn, overlap_seconds=0))
    (loaded,) = load_files(settings.warehouse_url, [increment])
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        conn.execute("analyze raw.events")
        with timed(f"{label} plan", times):
            window = incremental.plan(conn, overlap_seconds=0)
    with timed(f"{label} incremental", times):
        dbt(settings, "run", env={**env, **incremental.dbt_environment(window.dbt_vars())})
    total = times[f"{label} plan"] + times[f"{label} incremental"]
    print(f"{label}: increment of {loaded.loaded:,} new events; window {window.start} to "
          f"{window.end} ({window.days} days); plan {times[f'{label} plan']:.2f} s + dbt run "
          f"{times[f'{label} incremental']:.1f} s = {total:.1f} s", flush=True)
    times[f"{label} total"] = total
    return window


def build(settings, folder: Path, paths: list[Path], label: str, times: dict,
          env: dict[str, str]) -> None:
    """History loaded, a full refresh, then the steady state of a warehouse between refreshes."""
    for table in REFERENCE:
        load_files(settings.warehouse_url, [folder / f"{table}.jsonl"], table)
    results = load_files(settings.warehouse_url, paths)
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        conn.execute("vacuum analyze raw.events")
    dbt(settings, "parse", "--quiet", env=env)
    with timed(f"{label} full", times):
        dbt(settings, "run", "--full-refresh", env=env)
    print(f"{label}: {sum(r.loaded for r in results):,} events; full refresh "
          f"{times[f'{label} full']:.1f} s", flush=True)
    # autovacuum and the checkpointer's steady state (tables just built whole have no
    # visibility map, and their first reader would set every hint bit; the refresh would also
    # flush the full build's pages)
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        conn.execute("vacuum analyze")
        conn.execute("checkpoint")


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
    histories = {"small": small_history, "large": history}
    with bench_databases(2) as databases:
        warehouses = dict(zip(histories, databases))
        # each warehouse its own dbt target folder: dbt parses again whenever the profile
        # (the database) changes from one invocation to the next in the same folder
        envs = {label: {"DBT_TARGET_PATH": str(folder / f"target-{label}")}
                for label in warehouses}
        for label, settings in warehouses.items():
            build(settings, folder, histories[label], label, times, envs[label])
        copies = {label: save_copy(settings) for label, settings in warehouses.items()}
        totals: dict[str, list[float]] = {label: [] for label in warehouses}
        try:
            for attempt in range(args.repeats):
                for label, settings in warehouses.items():
                    if attempt:
                        restore_copy(settings, copies[label])
                    window = refresh_run(settings, times, label, increment, envs[label])
                    totals[label].append(times[f"{label} total"])
        finally:
            for label, settings in warehouses.items():
                drop_copy(settings, copies[label])
        for label in warehouses:
            times[f"{label} total"] = statistics.median(totals[label])
            print(f"{label}: refreshes {', '.join(f'{t:.1f}' for t in totals[label])} s; "
                  f"median {times[f'{label} total']:.1f} s")
        ratios = [large / small for small, large in zip(totals["small"], totals["large"])]
        print(f"large / small, refresh by refresh: {', '.join(f'{r:.2f}' for r in ratios)}")

        settings, env = warehouses["large"], envs["large"]
        start = window.end - dt.timedelta(days=89)
        with timed("backfill", times):
            dbt(settings, "run", env={**env, **incremental.dbt_environment(
                {"wfa_window_start": start.isoformat(),
                 "wfa_window_end": window.end.isoformat()})})
        with timed("full again", times):
            dbt(settings, "run", "--full-refresh", env=env)
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
