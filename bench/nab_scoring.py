"""NAB's standard-profile scoring and event-level precision / recall / F1 over labelled windows.

Standard profile: a true positive earns up to 1 by how early in its window it comes (scaled
sigmoid), only the first detection of a window counts, a false positive costs up to 0.11 (less
the closer it follows a window), a missed window costs 1. The first 15% of each series is a
probation period and is not scored. Normalised: 100 × (raw − null) / (perfect − null), where
null detects nothing and perfect detects every window at its start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

A_TP, A_FP, A_FN = 1.0, 0.11, 1.0
PROBATION = 0.15


def scaled_sigmoid(position: float) -> float:
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


@dataclass
class Tally:
    raw: float = 0.0
    windows: int = 0
    hits: int = 0
    false_events: int = 0
    files: list = field(default_factory=list)

    @property
    def score(self) -> float:
        null, perfect = -A_FN * self.windows, A_TP * self.windows
        return 100.0 * (self.raw - null) / (perfect - null) if self.windows else float("nan")

    @property
    def f1(self) -> tuple[float, float, float]:
        precision = self.hits / (self.hits + self.false_events) if self.hits + self.false_events else 0.0
        recall = self.hits / self.windows if self.windows else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1


def score_file(detections: np.ndarray, windows: list[tuple[int, int]], tally: Tally) -> None:
    """Add one series' detections (a boolean per row) with its windows as row ranges."""
    n = len(detections)
    probation = int(min(math.floor(PROBATION * n), PROBATION * 5000))
    max_tp = scaled_sigmoid(-1.0)
    raw, hit = 0.0, [False] * len(windows)
    previous_end, previous_width = None, None
    w = 0
    in_false_run = False
    for i in range(n):
        while w < len(windows) and i > windows[w][1]:
            previous_end, previous_width = windows[w][1], windows[w][1] - windows[w][0] + 1
            w += 1
        inside = w < len(windows) and windows[w][0] <= i <= windows[w][1]
        if not detections[i] or i < probation:
            in_false_run = in_false_run and bool(detections[i]) and not inside
            continue
        if inside:
            in_false_run = False
            if not hit[w]:
                hit[w] = True
                start, end = windows[w]
                raw += A_TP * scaled_sigmoid(-(end - i + 1) / (end - start + 1)) / max_tp
        else:
            if previous_end is None:
                raw += -1.0 * A_FP
            else:
                raw += A_FP * scaled_sigmoid(abs(previous_end - i) / (previous_width - 1))
            if not in_false_run:
                tally.false_events += 1
            in_false_run = True
    raw -= A_FN * hit.count(False)
    tally.raw += raw
    tally.windows += len(windows)
    tally.hits += hit.count(True)
