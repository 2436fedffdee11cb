"""File output: events buffered by arrival day and written one file per day, shuffled, with
re-sent duplicates and malformed lines mixed in; reference tables and the manifest.

A day's file is final once every enrolment day up to it has been synthesised (an event never
arrives before it occurs, nor occurs before its execution's enrolment), so only the few days
ahead that late or long-running events reach are held in memory.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import numpy as np
import orjson

from warehouse.sample_data.lines import mix64
from warehouse.sample_data.malformed import corrupt

LATE_SHARE = 0.02
LATE_DELAY_P = np.array([0.40, 0.20, 0.12, 0.10, 0.08, 0.05, 0.05])  # 1..7 days
SAME_FILE_DUPLICATE_SHARE = 0.65
FALLBACK_LINE = ('{"event_id":"evt_0","event_type":"execution.completed",'
                 '"occurred_at":"2026-08-01T00:00:00.000Z","account_id":"acc_001",'
                 '"workflow_id":"wf_0001","workflow_version":1,"execution_id":"exe_0",'
                 '"properties":{}}')


def arrival_days(occurred_day: np.ndarray, rng: np.random.Generator, days: int) -> np.ndarray:
    """The day each event is delivered: mostly the day it occurred, a share 1-7 days later
    (never after the last day of the window)."""
    late = rng.random(len(occurred_day)) < LATE_SHARE
    delay = 1 + np.searchsorted(np.cumsum(LATE_DELAY_P), rng.random(len(occurred_day)),
                                side="right")
    delay = np.minimum(delay, len(LATE_DELAY_P))
    return np.minimum(np.where(late, occurred_day + delay, occurred_day), days - 1)


class EventFiles:
    def __init__(self, out_dir: Path, *, start: dt.date, days: int, seed: int,
                 duplicate_rate: float, malformed_plan: list[list[str]], id_salt: int,
                 malformed_id_base: int):
        self.dir = out_dir / "events"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.start, self.days, self.seed = start, days, seed
        self.duplicate_rate = duplicate_rate
        self.malformed_plan = malformed_plan
        self.id_salt = id_salt
        self.next_malformed_id = malformed_id_base
        self.pending: dict[int, list[np.ndarray]] = {}
        self.pending_dups: dict[int, list[np.ndarray]] = {}
        self.lines_per_file: dict[str, int] = {}
        self.duplicates = 0
        self.duplicates_cross_file = 0
        self.malformed = Counter()
        self.malformed_variants = Counter()

    def path(self, day: int) -> Path:
        return self.dir / f"{(self.start + dt.timedelta(days=day)).isoformat()}.jsonl"

    def add(self, lines: np.ndarray, arrival: np.ndarray) -> None:
        """Queue lines (object array of str) for their arrival days."""
        if not len(lines):
            return
        order = np.argsort(arrival, kind="stable")
        arrival, lines = arrival[order], lines[order]
        bounds = np.flatnonzero(np.diff(arrival)) + 1
        for part, day in zip(np.split(lines, bounds), arrival[np.r_[0, bounds]].tolist()):
            self.pending.setdefault(day, []).append(part)

    def flush(self, day: int) -> None:
        """Write the file of `day`: its events shuffled, duplicates after their originals,
        malformed lines anywhere."""
        rng = np.random.default_rng([self.seed, 50, day])
        parts = self.pending.pop(day, [])
        valid = np.concatenate(parts) if parts else np.empty(0, dtype=object)
        n = len(valid)
        valid = valid[rng.permutation(n)]
        items, keys = [valid], [np.arange(n, dtype=np.float64)]

        dup = np.flatnonzero(rng.random(n) < self.duplicate_rate)
        target = np.minimum(day + rng.integers(1, 4, len(dup)), self.days - 1)
        later = (rng.random(len(dup)) >= SAME_FILE_DUPLICATE_SHARE) & (target > day)
        same = dup[~later]
        items.append(valid[same])
        keys.append(same + 0.5 + rng.random(len(same)) * (n - same - 0.5))
        for d in np.unique(target[later]).tolist():
            self.pending_dups.setdefault(d, []).append(valid[dup[later][target[later] == d]])
        carried = self.pending_dups.pop(day, [])
        carried = np.concatenate(carried) if carried else np.empty(0, dtype=object)
        items.append(carried)
        keys.append(rng.random(len(carried)) * n)
        self.duplicates += len(same) + len(carried)
        self.duplicates_cross_file += len(carried)

        bad = self._malformed(day, valid, rng)
        items.append(bad)
        keys.append(rng.random(len(bad)) * n)

        order = np.argsort(np.concatenate(keys), kind="stable")
        lines = np.concatenate(items)[order].tolist()
        with open(self.path(day), "wb") as handle:
            if lines:
                handle.write(("\n".join(lines) + "\n").encode())
        self.lines_per_file[self.path(day).name] = len(lines)

    def _malformed(self, day: int, valid: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        kinds = self.malformed_plan[day]
        out = np.empty(len(kinds), dtype=object)
        for i, kind in enumerate(kinds):
            line = FALLBACK_LINE
            wanted = '"execution_id"' if kind in ("missing_required_field", "not_a_number") else ""
            for _ in range(50):  # an execution event for the kinds that alter its columns
                if not len(valid):
                    break
                line = valid[int(rng.integers(len(valid)))]
                if wanted in line:
                    break
            event_id = "evt_%016x" % int(mix64(np.array([self.next_malformed_id]),
                                               self.id_salt)[0])
            self.next_malformed_id += 1
            out[i], variant = corrupt(kind, line, event_id, rng)
            self.malformed[kind] += 1
            self.malformed_variants[f"{kind}:{variant}"] += 1
        return out


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with open(path, "wb") as handle:
        for row in rows:
            handle.write(orjson.dumps(row))
            handle.write(b"\n")


def write_json(path: Path, value) -> None:
    path.write_bytes(orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n")
