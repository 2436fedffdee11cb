"""Parse and validate big JSON Lines files on every core, in order, with bounded memory.

The main process cuts the file into blocks of whole lines; worker processes decode and validate
them; results come back in file order, so line numbers and "first copy wins" hold as in the
single-process path. At most `2 × workers` blocks are in flight.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import orjson

from warehouse.ingestion.json_fast_path import plain_json_copy_line
from warehouse.ingestion.pipeline import gc_paused
from warehouse.ingestion.readers import BOM, DAMAGE_ERRORS, damaged, open_binary, undecodable
from warehouse.ingestion.validate import (
    EventWindow,
    FileDamaged,
    ParsedChunk,
    _window,
    unexpected,
    validate_chunk,
)

BLOCK_BYTES = 2 * 1024 * 1024
PARALLEL_MIN_BYTES = 32 * 1024 * 1024  # below this, starting workers costs more than it saves
PARENT_POLL_SECONDS = 0.5


def parse_block(block: bytes, first_line: int, window: EventWindow | None = None) -> ParsedChunk:
    window = _window(window)
    with gc_paused():
        rows = []
        loads = orjson.loads
        for number, raw in enumerate(block.split(b"\n"), start=first_line):
            if number == 1 and raw.startswith(BOM):
                raw = raw[len(BOM):]
            if not raw.strip():
                continue  # blank lines are not rows
            row = plain_json_copy_line(raw, window)  # the common event, validated at once
            if row is None:
                try:
                    row = loads(raw)
                except orjson.JSONDecodeError as exc:
                    row = undecodable(raw, exc)
                except Exception as exc:  # noqa: BLE001 - one line never stops the block
                    row = unexpected(exc)
            rows.append((number, raw, row))
        return validate_chunk(rows, window)


def _read_block(handle, size: int) -> tuple[bytes, BaseException | None]:
    """About `size` bytes of whole lines; what was read before a gzip error, with the error
    (read1 returns what each decompressed piece holds, so nothing read before it is lost)."""
    parts: list[bytes] = []
    got = 0
    try:
        while got < size:
            part = handle.read1(size - got)
            if not part:
                break
            parts.append(part)
            got += len(part)
        if parts and not parts[-1].endswith(b"\n"):
            parts.append(handle.readline())
    except DAMAGE_ERRORS as error:
        return b"".join(parts), error
    return b"".join(parts), None


def _blocks(path: Path, block_bytes: int) -> Iterator[tuple[bytes, int] | FileDamaged]:
    """Blocks of whole lines with the number of their first line; a file that breaks off ends
    with a FileDamaged after its last whole line."""
    line = 1
    with open_binary(path) as handle:
        while True:
            block, error = _read_block(handle, block_bytes)
            if error is not None:  # the part of a line after the last newline is not a row
                block = block[:block.rfind(b"\n") + 1]
            if block:
                yield block.removesuffix(b"\n"), line
                line += block.count(b"\n")
            if error is not None:
                yield damaged(line - 1, error)
                return
            if not block:
                return


def worker_count() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def worth_parallel(total_bytes: int, min_bytes: int = PARALLEL_MIN_BYTES) -> bool:
    return total_bytes >= min_bytes and worker_count() > 1


def _exit_with(parent: int) -> None:
    """Pool initializer: the worker ends once the load that started it is gone, even killed
    with SIGKILL (its queues would keep it waiting forever otherwise). A thread watching the
    parent's pid rather than PR_SET_PDEATHSIG, which fires when the *thread* that spawned the
    worker ends, and pools are fed from more than one thread."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="wfa-parent-watch", daemon=True).start()


@contextmanager
def parser_pool() -> Iterator[ProcessPoolExecutor]:
    """Worker processes shared by every file of one load."""
    # spawn: the loader may run inside a threaded process (Dagster, the API) where fork is unsafe.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=worker_count(), mp_context=context,
                             initializer=_exit_with, initargs=(os.getpid(),)) as pool:
        yield pool


def parsed_files(paths: list[Path], pool: ProcessPoolExecutor, block_bytes: int = BLOCK_BYTES,
                 window: EventWindow | None = None,
                 ) -> Iterator[tuple[Path, Iterator[ParsedChunk]]]:
    """For each path in order, (path, its parsed chunks). Blocks of the next files are parsed
    while the current one is stored, so many small files keep every worker busy. Each file's
    chunks must be consumed before asking for the next file. A file that breaks off ends with
    a chunk of no rows whose `damage` says where."""
    span = _window(window)  # one for the whole load, as the single-process path

    def submissions():
        for path in paths:
            try:
                for block in _blocks(path, block_bytes):
                    if isinstance(block, FileDamaged):
                        yield path, block
                    else:
                        yield path, pool.submit(parse_block, *block, span)
            except OSError as exc:  # raised when this file's turn comes, not while reading ahead
                yield path, exc
            yield path, None  # end of this file

    window = _ahead(submissions(), 2 * worker_count() + 1)

    def chunks_of(path: Path) -> Iterator[ParsedChunk]:
        failure = None
        for owner, future in window:
            if owner != path:
                raise RuntimeError(f"parsed blocks out of order: {owner} while loading {path}")
            if future is None:
                break
            if isinstance(future, OSError):
                failure = future  # raised once this file's items are all consumed
            elif isinstance(future, FileDamaged):
                yield ParsedChunk(0, [], "", [], 0, [], [], str(future))
            elif failure is None:
                yield future.result()
        if failure is not None:
            raise failure

    for path in paths:
        yield path, chunks_of(path)


def _ahead(items: Iterator, size: int) -> Iterator:
    """Pull up to `size` items ahead of the consumer."""
    buffer: deque = deque()
    for item in items:
        buffer.append(item)
        if len(buffer) >= size:
            break
    while buffer:
        yield buffer.popleft()
        following = next(items, _END)
        if following is not _END:
            buffer.append(following)


_END = object()


def parsed_blocks(path: Path, pool: ProcessPoolExecutor, block_bytes: int = BLOCK_BYTES,
                  window: EventWindow | None = None) -> Iterator[ParsedChunk]:
    """The parsed chunks of one file."""
    for _, chunks in parsed_files([path], pool, block_bytes, window):
        yield from chunks
