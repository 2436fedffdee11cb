"""Stream rows out of JSON Lines and CSV files, one at a time, in constant memory.

Each reader yields (line_number, raw, row): raw is the line as read (bytes for JSON Lines, decoded
only if the row is rejected), row the decoded mapping, or a `Rejected` when the line itself
cannot be decoded.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from pathlib import Path

import orjson

from assets.ingestion.validate import Rejected

Row = tuple[int, "bytes | str", "dict | Rejected"]


def open_binary(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def file_format(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    if suffixes and suffixes[-1] == ".csv":
        return "csv"
    if suffixes and suffixes[-1] in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    raise ValueError(f"{path}: unknown file type (expected .jsonl, .ndjson, .json or .csv)")


def read_jsonl(path: Path) -> Iterator[Row]:
    loads = orjson.loads
    with open_binary(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue  # blank lines are not rows
            try:
                row = loads(line)
            except orjson.JSONDecodeError as exc:
                row = Rejected(f"not JSON: {exc}"[:200])
            yield number, line, row


class _LineRecorder:
    """Feeds csv.reader physical lines and remembers which ones made the current record."""

    def __init__(self, text: io.TextIOBase):
        self._text = text
        self.lines: list[str] = []
        self.line_number = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._text)
        self.lines.append(line)
        self.line_number += 1
        return line


def read_csv(path: Path) -> Iterator[Row]:
    with open_binary(path) as handle:
        text = io.TextIOWrapper(handle, encoding="utf-8", errors="replace", newline="")
        recorder = _LineRecorder(text)
        reader = csv.reader(recorder)
        try:
            header = [name.strip() for name in next(reader)]
        except StopIteration:
            return
        while True:
            recorder.lines = []
            start = recorder.line_number + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield start, "".join(recorder.lines).rstrip("\r\n"), Rejected(f"bad CSV: {exc}")
                continue
            raw = "".join(recorder.lines).rstrip("\r\n")
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # blank lines are not rows
            if len(fields) != len(header):
                yield start, raw, Rejected(
                    f"expected {len(header)} fields as in the header, got {len(fields)}")
                continue
            row: dict = {name: (value if value != "" else None)
                         for name, value in zip(header, fields)}
            yield start, raw, _decode_csv_json(row)


def _decode_csv_json(row: dict) -> "dict | Rejected":
    """CSV carries nested objects (properties, variants) as JSON strings."""
    for key in ("properties", "variants"):
        value = row.get(key)
        if value is not None:
            try:
                row[key] = orjson.loads(value)
            except orjson.JSONDecodeError:
                return Rejected(f"{key} is not valid JSON")
    return row


def raw_text(raw: "bytes | str") -> str:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    return raw.rstrip("\r\n").replace("\x00", "")  # text columns cannot hold NUL


def read_rows(path: Path) -> Iterator[Row]:
    return read_csv(path) if file_format(path) == "csv" else read_jsonl(path)
