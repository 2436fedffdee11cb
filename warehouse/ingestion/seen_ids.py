"""The event ids one load has offered so far, as a Bloom filter: no false negatives, a small
share of false positives, and memory that does not grow with the ids.

Most repeats a load meets are of ids it offered itself (a re-sent event in a later file). So
instead of looking every id up in the primary key, about 4 µs an id at 10 million rows, it
looks up only those the filter may have seen: the repeats and about 0.6% of the others. An id
stored before the load (or by a concurrent one) makes an offer fail on the primary key, and the
loader then looks every id up (loader._insert_new_events).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BITS_PER_ID = 12  # with 4 probes: about 0.6% false positives at the expected count
PROBES = 4
MAX_BYTES = 64 * 1024 * 1024  # past ~45 million ids the share of false positives grows
MIN_LINE_BYTES = 100  # the shortest plausible event line, to size the filter from file sizes


class SeenIds:
    def __init__(self, expected_ids: int):
        bits = max(1 << 16, min(expected_ids * BITS_PER_ID, MAX_BYTES * 8))
        self.size = np.uint64(bits)
        self.bits = np.zeros((bits + 7) // 8, dtype=np.uint8)

    @classmethod
    def for_bytes(cls, load_bytes: int) -> "SeenIds":
        return cls(load_bytes // MIN_LINE_BYTES)

    def _positions(self, ids: Sequence[str]) -> np.ndarray:
        # Python's own string hash (64 bits, cached on each str), split in two for double
        # hashing; stable within the process, which is all one load needs
        hashes = np.fromiter(map(hash, ids), dtype=np.int64, count=len(ids)).view(np.uint64)
        first = hashes & np.uint64(0xFFFFFFFF)
        step = (hashes >> np.uint64(32)) | np.uint64(1)
        probes = np.arange(PROBES, dtype=np.uint64)
        return (first[:, None] + step[:, None] * probes) % self.size

    def add_and_check(self, ids: Sequence[str]) -> list[str]:
        """Record `ids` and return those that may have been recorded before this call (every
        one that was, and a few that were not)."""
        if not ids:
            return []
        positions = self._positions(ids)
        byte, bit = positions >> np.uint64(3), (positions & np.uint64(7)).astype(np.uint8)
        present = ((self.bits[byte] >> bit) & 1).all(axis=1)
        np.bitwise_or.at(self.bits, byte.ravel(), np.left_shift(1, bit.ravel()).astype(np.uint8))
        return [ids[i] for i in np.flatnonzero(present)]
