"""`make bench`: every benchmark with its default size (set BENCH_EVENTS for another size)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    events = os.environ.get("BENCH_EVENTS", "10000000")
    subprocess.run([sys.executable, str(HERE / "bench_generate.py"), "--events", events],
                   check=True)
    subprocess.run([sys.executable, str(HERE / "bench_load.py")], check=True)
    subprocess.run([sys.executable, str(HERE / "bench_pipeline.py"), "--events", events],
                   check=True)
    subprocess.run([sys.executable, str(HERE / "bench_incremental.py"), "--events", events],
                   check=True)
    subprocess.run([sys.executable, str(HERE / "bench_checks.py"), "--events", events],
                   check=True)
    subprocess.run([sys.executable, str(HERE / "bench_analytics.py")], check=True)
    subprocess.run([sys.executable, str(HERE / "bench_api.py"),
                    "--enrolments", os.environ.get("BENCH_ENROLMENTS", "1000000")], check=True)
