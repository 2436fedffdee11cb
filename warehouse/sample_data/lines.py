"""Rendering event batches as JSON Lines text, fast: one %-template per event type, filled from
columns converted to Python lists once per batch.

Ids are counters passed through bijective integer mixers, so they are unique, look random and
depend only on the seed and the generation order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOCAL_TIME_SHARE = 0.05  # events written with the account's UTC offset instead of Z

_U64 = np.uint64
_M48 = _U64((1 << 48) - 1)


def mix64(x: np.ndarray, salt: int) -> np.ndarray:
    """splitmix64's finaliser over (x xor salt): a bijection of 64-bit integers."""
    z = (np.asarray(x, dtype=np.uint64) ^ _U64(salt & 0xFFFFFFFFFFFFFFFF)) + _U64(
        0x9E3779B97F4A7C15)
    z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
    return z ^ (z >> _U64(31))


def mix48(x: np.ndarray, salt: int) -> np.ndarray:
    """A bijection of 48-bit integers (odd multipliers and xor-shifts modulo 2**48)."""
    z = (np.asarray(x, dtype=np.uint64) ^ _U64(salt & ((1 << 48) - 1))) & _M48
    z = (z * _U64(0x9E3779B97F4B)) & _M48
    z ^= z >> _U64(23)
    z = (z * _U64(0xC2B2AE3D27D5)) & _M48
    z ^= z >> _U64(21)
    return z


_EXEC = ',"workflow_id":"%s","workflow_version":%d,"execution_id":"exe_%012x"'
TEMPLATES = {
    "execution.enrolled": _EXEC + ',"contact_id":"ct_%08d","properties":{"enrollment_source":'
                                  '"%s","trigger_type":"%s"%s}}',
    "step.started": _EXEC + ',"step_id":"%s","properties":{}}',
    "step.completed": _EXEC + ',"step_id":"%s","properties":{"duration_ms":%d,"credits":%s,'
                              '"cost_usd":%.6f}}',
    "step.failed": _EXEC + ',"step_id":"%s","properties":{"duration_ms":%d,"error_type":"%s",'
                           '"error_message":"%s","credits":%s,"cost_usd":%.6f}}',
    "step.skipped": _EXEC + ',"step_id":"%s","properties":{"reason":"condition_false"}}',
    "goal.achieved": _EXEC + ',"properties":{"goal_id":"%s"%s}}',
    "execution.completed": _EXEC + ',"properties":{}}',
    "execution.exited": _EXEC + ',"properties":{"exit_reason":"%s"}}',
    "execution.failed": _EXEC + ',"properties":{"error_type":"%s","error_message":"%s"}}',
    "user.activity": ',"user_id":"%s","properties":{"session_id":"ses_%012x","action":"%s",'
                     '"resource":"%s","duration_ms":%d}}',
}
EVENT_TYPES = tuple(TEMPLATES)


def _head(event_type: str) -> str:
    return ('{"event_id":"evt_%016x","event_type":"' + event_type
            + '","occurred_at":"%s%s","account_id":"%s"')


FULL_TEMPLATES = {name: _head(name) + tail for name, tail in TEMPLATES.items()}


@dataclass
class Batch:
    """Events of one type: occurrence times (epoch ms), account index, and the columns that
    fill the type's template after account_id, in order."""
    event_type: str
    t: np.ndarray
    acc: np.ndarray
    cols: list

    def __len__(self) -> int:
        return len(self.t)


def timestamps(t: np.ndarray, acc: np.ndarray, rng: np.random.Generator, alt_min: np.ndarray,
               alt_text: np.ndarray) -> tuple[list, list]:
    """ISO 8601 texts of the instants t: mostly UTC with Z, a share in the account's local
    offset (the same instant)."""
    local = rng.random(len(t)) < LOCAL_TIME_SHARE
    off = np.where(local, alt_min[acc], 0)
    text = np.datetime_as_string((t + off * 60_000).astype("datetime64[ms]"), unit="ms")
    suffix = np.where(local, alt_text[acc], "Z")
    return text.tolist(), suffix.tolist()


def render(batch: Batch, first_id: int, id_salt: int, rng: np.random.Generator,
           acc_ids: np.ndarray, alt_min: np.ndarray, alt_text: np.ndarray) -> list[str]:
    """The batch's lines; event ids are first_id, first_id + 1, ... (mixed)."""
    n = len(batch)
    if n == 0:
        return []
    ids = mix64(np.arange(first_id, first_id + n, dtype=np.uint64), id_salt).tolist()
    text, suffix = timestamps(batch.t, batch.acc, rng, alt_min, alt_text)
    accounts = acc_ids[batch.acc].tolist()
    cols = [c.tolist() if isinstance(c, np.ndarray) else c for c in batch.cols]
    template = FULL_TEMPLATES[batch.event_type]
    return [template % row for row in zip(ids, text, suffix, accounts, *cols)]
