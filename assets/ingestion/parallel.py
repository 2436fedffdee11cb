"""Parse and validate big JSON Lines files on every core, in order, with bounded memory.

The main process cuts the file into blocks of whole lines; worker processes decode and validate
them; results come back in file order, so line numbers and "first copy wins" hold as in the
single-process path. At most `2 × workers` blocks are in flight.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import orjson

from assets.ingestion.json_fast_path import plain_json_copy_line
from assets.ingestion.pipeline import gc_paused
from assets.ingestion.readers import open_binary
from assets.ingestion.validate import ParsedChunk, Rejected, validate_chunk

BLOCK_BYTES = 2 * 1024 * 1024
PARALLEL_MIN_BYTES = 32 * 1024 * 1024  # below this, starting workers costs more than it saves

def parse_block(block: bytes, first_line: int) -> ParsedChunk:
    with gc_paused():
        rows = []
        loads = orjson.loads
        for number, raw in enumerate(block.split(b"\n"), start=first_line):
            if not raw.strip():
                continue  # blank lines are not rows
            row = plain_json_copy_line(raw)  # the common event, validated at once
            if row is None:
                try:
                    row = loads(raw)
                except orjson.JSONDecodeError as exc:
                    row = Rejected(f"not JSON: {exc}"[:200])
            rows.append((number, raw, row))
        return validate_chunk(rows)


def _blocks(path: Path, block_bytes: int) -> Iterator[tuple[bytes, int]]:
    line = 1
    with open_binary(path) as handle:
        while True:
            block = handle.read(block_bytes)
            if not block:
                return
            if not block.endswith(b"\n"):
                block += handle.readline()
            yield block.removesuffix(b"\n"), line
            line += block.count(b"\n")


def worker_count() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def worth_parallel(total_bytes: int) -> bool:
    return total_bytes >= PARALLEL_MIN_BYTES and worker_count() > 1


@contextmanager
def parser_pool() -> Iterator[ProcessPoolExecutor]:
    """Worker processes shared by every file of one load."""
    # spawn: the loader may run inside a threaded process (Dagster, the API) where fork is unsafe.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=worker_count(), mp_context=context) as pool:
        yield pool


def parsed_files(paths: list[Path], pool: ProcessPoolExecutor,
                 block_bytes: int = BLOCK_BYTES) -> Iterator[tuple[Path, Iterator[ParsedChunk]]]:
    """For each path in order, (path, its parsed chunks). Blocks of the next files are parsed
    while the current one is stored, so many small files keep every worker busy. Each file's
    chunks must be consumed before asking for the next file."""

    def submissions():
        for path in paths:
            try:
                for block, first_line in _blocks(path, block_bytes):
                    yield path, pool.submit(parse_block, block, first_line)
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


def parsed_blocks(path: Path, pool: ProcessPoolExecutor,
                  block_bytes: int = BLOCK_BYTES) -> Iterator[ParsedChunk]:
    """The parsed chunks of one file."""
    for _, chunks in parsed_files([path], pool, block_bytes):
        yield from chunks
