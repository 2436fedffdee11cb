"""Stream rows out of JSON Lines and CSV files, one at a time, in constant memory.

Each reader yields (line_number, raw, row): raw is the line as read (bytes for JSON Lines, decoded
only if the row is rejected), row the decoded mapping, or a `Rejected` when the line itself
cannot be decoded (not JSON, not UTF-8). A file that breaks off (a truncated or corrupt .gz)
ends with a `FileDamaged` row, which is not a row but says so: the rows before it are kept.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

import orjson

from warehouse.ingestion.validate import FileDamaged, Rejected, unexpected

Row = tuple[int, "bytes | str", "dict | Rejected"]

# What gzip raises on a file that is cut short (EOFError) or corrupt (the others).
DAMAGE_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)
BOM = b"\xef\xbb\xbf"
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # a byte that is not UTF-8, under surrogateescape


def damaged(last_line: int, error: BaseException) -> FileDamaged:
    kind = "zlib.error" if isinstance(error, zlib.error) else type(error).__name__
    where = f"after line {last_line}" if last_line else "from its start"
    return FileDamaged(f"the file is truncated or corrupt: nothing could be read {where}"
                       f" ({kind}: {error})"[:300])


def _not_utf8(byte: int, offset: int) -> Rejected:
    return Rejected(f"invalid UTF-8: byte 0x{byte:02x} at byte {offset}")


def undecodable(line: bytes, error: Exception) -> Rejected:
    """The reason a JSON line could not be decoded: its bytes, else its JSON."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as bad:
        return _not_utf8(line[bad.start], bad.start)
    return Rejected(f"not JSON: {error}"[:200])


def _invalid_utf8(text: str) -> Rejected | None:
    """A line decoded with surrogateescape: the first byte that was not UTF-8, if any."""
    found = _ESCAPED_BYTE.search(text)
    if found is None:
        return None
    offset = len(text[:found.start()].encode("utf-8", "surrogateescape"))
    return _not_utf8(ord(found.group()) - 0xDC00, offset)


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
    number = 0
    with open_binary(path) as handle:
        try:
            for number, line in enumerate(handle, start=1):
                if number == 1 and line.startswith(BOM):
                    line = line[len(BOM):]
                if not line.strip():
                    continue  # blank lines are not rows
                try:
                    row = loads(line)
                except orjson.JSONDecodeError as exc:
                    row = undecodable(line, exc)
                except Exception as exc:  # noqa: BLE001 - one line never stops the file
                    row = unexpected(exc)
                yield number, line, row
        except DAMAGE_ERRORS as exc:
            yield number + 1, b"", damaged(number, exc)


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
        # utf-8-sig: a byte-order mark is not part of the first column's name; surrogateescape:
        # bytes that are not UTF-8 are kept apart, so their record is rejected, not altered
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="surrogateescape",
                                newline="")
        recorder = _LineRecorder(text)
        reader = csv.reader(recorder)
        try:
            header = [name.strip() for name in next(reader)]
        except StopIteration:
            return
        except csv.Error as exc:
            raise ValueError(f"{path}: the CSV header cannot be read: {exc}") from None
        except DAMAGE_ERRORS as exc:
            yield 1, "", damaged(0, exc)
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
            except DAMAGE_ERRORS as exc:
                yield start, "", damaged(start - 1, exc)
                return
            raw = "".join(recorder.lines).rstrip("\r\n")
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # blank lines are not rows
            if not raw.isascii() and (bad := _invalid_utf8(raw)) is not None:
                yield start, raw, bad
                continue
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
            except Exception as exc:  # noqa: BLE001 - one record never stops the file
                return unexpected(exc)
    return row


def raw_text(raw: "bytes | str") -> str:
    """A rejected line as text can hold it: bytes that are not UTF-8 (and lone surrogates)
    become U+FFFD, NUL is dropped; the reason stored beside it says what was wrong."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    elif not raw.isascii():
        try:  # the bytes as read (a CSV line decoded with surrogateescape), then as JSON Lines
            raw = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:  # another lone surrogate
            raw = raw.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return raw.rstrip("\r\n").replace("\x00", "")  # text columns cannot hold NUL


def read_rows(path: Path) -> Iterator[Row]:
    return read_csv(path) if file_format(path) == "csv" else read_jsonl(path)
