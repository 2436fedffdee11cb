"""Time the sample-data generator: writes N events (10 million by default) to a temporary
directory, prints seconds and events per second, then deletes the directory.

    .venv/bin/python bench/bench_generate.py [--events N] [--days D] [--seed S]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from warehouse.sample_data import generate  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dir", type=Path, default=None,
                        help="parent of the temporary directory (default: the system's)")
    args = parser.parse_args(argv)

    out = Path(tempfile.mkdtemp(prefix="wfa_bench_", dir=args.dir))
    try:
        began = time.perf_counter()
        manifest = generate(out, events=args.events, days=args.days, seed=args.seed)
        seconds = time.perf_counter() - began
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    finally:
        shutil.rmtree(out, ignore_errors=True)
    written = manifest["events_written"]
    print(f"events requested   {args.events:,}")
    print(f"events written     {written:,} valid + {manifest['duplicates_written']:,} duplicates"
          f" + {manifest['malformed_total']:,} malformed lines")
    print(f"bytes written      {size / 1e9:.2f} GB")
    print(f"seconds            {seconds:.1f}")
    print(f"events/s           {written / seconds:,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
