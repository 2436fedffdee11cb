"""`wfa load` throughput and memory on one big JSON Lines file.

    python bench/bench_load.py --events 3700000     # about 1 GB of JSON Lines

Generates the events, concatenates them into one file, loads it into a fresh database and
prints rows/s and the peak resident memory of the loader and of its parser processes. A first
load into an empty raw.events builds its secondary indexes at the end; `--then` more events
(other ids) are then loaded into the filled table, the way every later load goes.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_database, scratch_dir  # noqa: E402
from warehouse.sample_data import generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3_700_000)
    parser.add_argument("--then", type=int, default=1_000_000,
                        help="events loaded afterwards into the filled table (0: none)")
    args = parser.parse_args()

    folder = scratch_dir() / f"load-{args.events}"
    shutil.rmtree(folder, ignore_errors=True)
    big = one_file(folder / "first", args.events, seed=11)
    then = one_file(folder / "then", args.then, seed=12) if args.then else None
    with bench_database() as settings:
        seconds, summary = wfa_load(settings, big)
        print(f"first load, into an empty raw.events, of one {big.stat().st_size / 1e9:.2f} GB"
              f" JSON Lines file (wall {seconds:.1f} s, process start included): {summary}")
        if then is not None:
            seconds, summary = wfa_load(settings, then)
            print(f"then a load into the filled table, of {then.stat().st_size / 1e9:.2f} GB"
                  f" (wall {seconds:.1f} s): {summary}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS of the loader and its parser processes (largest single process): "
          f"{peak:,.0f} MB")
    shutil.rmtree(folder, ignore_errors=True)


def one_file(folder: Path, events: int, seed: int) -> Path:
    """The generated day files of `events` events, concatenated into one file."""
    generate(folder, events=events, days=90, seed=seed)
    big = folder / "all-events.jsonl"
    with open(big, "wb") as out:
        for day in sorted((folder / "events").glob("*.jsonl")):
            with open(day, "rb") as handle:
                shutil.copyfileobj(handle, out, 16 * 1024 * 1024)
    return big


def wfa_load(settings, path: Path) -> tuple[float, str]:
    """`wfa load` in its own process, so that its peak memory is its own."""
    wfa = str(Path(sys.executable).with_name("wfa"))
    env = {**os.environ, "WFA_DATABASE_URL": settings.warehouse_url}
    started = time.perf_counter()
    done = subprocess.run([wfa, "load", str(path)], env=env, capture_output=True, text=True,
                          check=True)
    seconds = time.perf_counter() - started
    return seconds, next(line for line in done.stdout.splitlines() if line.startswith("events:"))

if __name__ == "__main__":
    main()
