"""python -m warehouse.sample_data OUT_DIR [--events N] [--days D] [--seed S] [--start DATE]"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from warehouse.sample_data.generator import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warehouse.sample_data",
                                     description="Write the seeded sample data set.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2026, 8, 1))
    parser.add_argument("--malformed-rate", type=float, default=0.001)
    parser.add_argument("--duplicate-rate", type=float, default=0.005)
    args = parser.parse_args(argv)
    manifest = generate(args.out_dir, events=args.events, days=args.days, seed=args.seed,
                        start=args.start, malformed_rate=args.malformed_rate,
                        duplicate_rate=args.duplicate_rate)
    print(f"{manifest['events_written']:,} events, {manifest['duplicates_written']:,} duplicates,"
          f" {manifest['malformed_total']:,} malformed lines in {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
