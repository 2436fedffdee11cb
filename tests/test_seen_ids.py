"""The Bloom filter of the ids a load has offered (warehouse/ingestion/seen_ids.py)."""

from __future__ import annotations

import random

from warehouse.ingestion.seen_ids import SeenIds


def ids(count: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    return sorted(f"evt_{rnd.getrandbits(64):016x}" for _ in range(count))


def test_every_id_offered_before_is_found_and_few_others():
    seen = SeenIds(200_000)
    offered = ids(200_000, seed=1)
    for start in range(0, len(offered), 20_000):
        # nothing is flagged in a first offer of new ids but the filter's few false positives
        assert len(seen.add_and_check(offered[start:start + 20_000])) < 20_000 * 0.015
    assert seen.add_and_check(offered[::7]) == offered[::7]  # no false negatives
    fresh = ids(100_000, seed=2)
    false_positives = len(seen.add_and_check(fresh))
    assert false_positives < 100_000 * 0.015


def test_a_call_flags_the_ids_of_earlier_calls_only():
    seen = SeenIds(1000)
    assert seen.add_and_check(["a", "b"]) == []
    assert seen.add_and_check(["b", "c"]) == ["b"]
    assert seen.add_and_check([]) == []
