"""Every quality check over the marts of a generated warehouse, timed.

    python bench/bench_checks.py --events 10000000

Generates and loads the events, builds the marts (dbt run), then prints the seconds of each
mart's suite, of the ingestion checks, and of everything together (target: at most 60 s), then
of a second run that finds the raw totals cached.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_database, scratch_dir, timed  # noqa: E402
from quality.ingestion import recent_loads, unknown_references  # noqa: E402
from quality.runner import validate_marts  # noqa: E402
from warehouse.ingestion import load_files  # noqa: E402
from warehouse.runtime import dbt_command  # noqa: E402
from warehouse.sample_data import generate  # noqa: E402

REFERENCE = ("accounts", "users", "workflows", "workflow_steps", "experiments")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--keep", action="store_true", help="keep the database and files")
    args = parser.parse_args()

    times: dict[str, float] = {}
    folder = scratch_dir() / f"checks-{args.events}"
    shutil.rmtree(folder, ignore_errors=True)
    with timed("generate", times):
        generate(folder, events=args.events, days=args.days, seed=42)
    with bench_database(keep=args.keep) as settings:
        for table in REFERENCE:
            load_files(settings.warehouse_url, [folder / f"{table}.jsonl"], table)
        with timed("load", times):
            load_files(settings.warehouse_url, [folder / "events"])
        dbt_command(settings, "parse", "--quiet", capture=True)
        with timed("build", times):
            done = dbt_command(settings, "run", capture=True)
        if done.returncode != 0:
            print(done.stdout[-4000:], done.stderr[-2000:])
            raise SystemExit("dbt run failed")
        print(f"warehouse: {args.events:,} events over {args.days} days; generated in "
              f"{times['generate']:.1f} s, loaded in {times['load']:.1f} s, marts built in "
              f"{times['build']:.1f} s")

        with tempfile.TemporaryDirectory(prefix="wfa-docs-") as docs:
            started = time.perf_counter()
            results = validate_marts(settings.warehouse_url, docs_dir=Path(docs))
            with timed("ingestion", times):
                recent_loads(settings.warehouse_url, 24)
                unknown_references(settings.warehouse_url, 24)
            total = time.perf_counter() - started
        print(f"{'mart':<26} {'rows':>12} {'expectations':>13} {'seconds':>8}")
        for r in results:
            print(f"{r.mart:<26} {r.row_count:>12,} {r.evaluated:>13} {r.seconds:>8.2f}"
                  f"{'' if r.success else '  FAILED'}")
        suites = sum(r.seconds for r in results)
        print(f"suites: {sum(r.evaluated for r in results)} expectations in {suites:.1f} s; "
              f"ingestion checks: {times['ingestion']:.1f} s")
        print(f"all checks (with Data Docs): {total:.1f} s (target <= 60)")
        with timed("warm", times):  # the raw totals now come from quality.raw_totals_cache
            validate_marts(settings.warehouse_url)
        print(f"again, raw totals cached (unchanged raw.events): {times['warm']:.1f} s")
        if any(not r.success for r in results):
            raise SystemExit("a suite failed on the generated warehouse")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
