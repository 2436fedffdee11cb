"""`wfa load` throughput and memory on one big JSON Lines file.

    python bench/bench_load.py --events 3700000     # about 1 GB of JSON Lines

Generates the events, concatenates them into one file, loads it into a fresh database and
prints rows/s and the peak resident memory of the loader and of its parser processes.
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

from assets.sample_data import generate  # noqa: E402
from bench.common import bench_database, scratch_dir  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3_700_000)
    args = parser.parse_args()

    folder = scratch_dir() / f"load-{args.events}"
    shutil.rmtree(folder, ignore_errors=True)
    generate(folder, events=args.events, days=90, seed=11)
    big = folder / "all-events.jsonl"
    with open(big, "wb") as out:
        for day in sorted((folder / "events").glob("*.jsonl")):
            with open(day, "rb") as handle:
                shutil.copyfileobj(handle, out, 16 * 1024 * 1024)
    size = big.stat().st_size
    with bench_database() as settings:
        # `wfa load` in its own process, so that its peak memory is its own.
        wfa = str(Path(sys.executable).with_name("wfa"))
        env = {**os.environ, "WFA_DATABASE_URL": settings.warehouse_url}
        started = time.perf_counter()
        done = subprocess.run([wfa, "load", str(big)], env=env, capture_output=True, text=True,
                              check=True)
        seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    summary = next(line for line in done.stdout.splitlines() if line.startswith("events:"))
    print(f"load of one {size / 1e9:.2f} GB JSON Lines file (wall {seconds:.1f} s, process start"
          f" included): {summary}")
    print(f"peak RSS of the loader and its parser processes (largest single process): "
          f"{peak:,.0f} MB")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
