"""The public benchmark series under bench/data (NAB, Prophet's example), each read after its
checksum is checked against the folder's SHA256SUMS, so a score is never computed on altered
or truncated data. WFA_BENCHMARKS points at another folder laid out the same way."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
from pathlib import Path

import pandas as pd

ROOT = Path(os.environ.get("WFA_BENCHMARKS", Path(__file__).resolve().parent / "data"))

MISSING = """{what} not found: {path}
The benchmark series ship with the repository under bench/data (see bench/data/README.md).
Restore them with `git checkout -- bench/data`, or set WFA_BENCHMARKS to a folder laid out the
same way (nab/combined_windows.json, nab/data/<folder>/<series>.csv[.gz], nab/SHA256SUMS;
prophet/example_wp_log_peyton_manning.csv, prophet/SHA256SUMS)."""


class BenchmarkDataError(RuntimeError):
    pass


def nab_windows() -> dict[str, list[list[str]]]:
    """NAB's labelled anomaly windows: series name -> [[start, end], ...]."""
    return json.loads(_verified(ROOT / "nab", "combined_windows.json"))


def nab_series(name: str) -> pd.DataFrame:
    """One NAB series (timestamp, value); `name` as in combined_windows.json."""
    return pd.read_csv(io.BytesIO(_verified(ROOT / "nab", f"data/{name}")),
                       parse_dates=["timestamp"])


def peyton_manning() -> pd.DataFrame:
    """Prophet's example series: daily log page views (ds, y)."""
    return pd.read_csv(io.BytesIO(_verified(ROOT / "prophet",
                                            "example_wp_log_peyton_manning.csv")),
                       parse_dates=["ds"])


def _verified(folder: Path, name: str) -> bytes:
    """The file's bytes (decompressed when it is stored as name.gz), checked against the
    checksum SHA256SUMS gives for name."""
    sums = folder / "SHA256SUMS"
    if not sums.exists():
        raise BenchmarkDataError(MISSING.format(what="checksum list", path=sums))
    expected = dict(reversed(line.split(maxsplit=1)) for line in sums.read_text().splitlines()
                    if line.strip())
    if name not in expected:
        raise BenchmarkDataError(f"{name} is not listed in {sums}")
    path = folder / name
    if path.exists():
        data = path.read_bytes()
    elif path.with_name(path.name + ".gz").exists():
        data = gzip.decompress(path.with_name(path.name + ".gz").read_bytes())
    else:
        raise BenchmarkDataError(MISSING.format(what="benchmark series", path=path))
    if hashlib.sha256(data).hexdigest() != expected[name]:
        raise BenchmarkDataError(f"{path}: its sha256 differs from the one in {sums}")
    return data
