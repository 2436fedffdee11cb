"""Malformed lines, made from real lines of the same file, each of a known kind the loader must
reject. A malformed line carries its own event_id (never one of a valid event)."""

from __future__ import annotations

import numpy as np
import orjson

KINDS = (
    "not_json",                # not JSON at all
    "truncated_json",          # a valid line cut short
    "json_array",              # an array instead of an object
    "missing_required_field",  # no account_id, or an execution/step event without execution_id
    "unknown_event_type",
    "bad_timestamp",           # "2026-13-45T99:00:00Z", "yesterday", ...
    "not_a_number",            # workflow_version "abc", properties.cost_usd "12,5"
    "wrong_type",              # account_id as an object, properties as a string
)
GARBAGE = (
    "<html><body><h1>502 Bad Gateway</h1></body></html>",
    "ERROR: connection reset by peer",
    "event_type=step.completed account_id=acc_001 duration_ms=120",
    "undefined",
    "{{event}}",
)
UNKNOWN_TYPES = ("execution.paused", "step.retried", "contact.created", "workflow.published")
BAD_TIMESTAMPS = ("2026-13-45T99:00:00Z", "yesterday", "2026-02-30T10:00:00Z", "not a date")


def _pick(rng: np.random.Generator, values):
    return values[int(rng.integers(len(values)))]


def corrupt(kind: str, line: str, event_id: str, rng: np.random.Generator) -> tuple[str, str]:
    """A malformed version of `line` of the given kind; returns (text, variant)."""
    if kind == "not_json":
        return _pick(rng, GARBAGE), "garbage"
    event = orjson.loads(line)
    event["event_id"] = event_id
    text = orjson.dumps(event).decode()
    if kind == "truncated_json":
        cut = int(rng.integers(max(2, len(text) // 4), len(text) - 1))
        return text[:cut], "truncated"
    if kind == "json_array":
        return "[" + text + "]", "array"
    if kind == "missing_required_field":
        if "execution_id" in event and rng.random() < 0.5:
            del event["execution_id"]
            variant = "no_execution_id"
        else:
            del event["account_id"]
            variant = "no_account_id"
    elif kind == "unknown_event_type":
        event["event_type"] = _pick(rng, UNKNOWN_TYPES)
        variant = "unknown_type"
    elif kind == "bad_timestamp":
        event["occurred_at"] = _pick(rng, BAD_TIMESTAMPS)
        variant = "bad_occurred_at"
    elif kind == "not_a_number":
        props = event.get("properties")
        if isinstance(props, dict) and "cost_usd" in props and rng.random() < 0.5:
            props["cost_usd"] = "12,5"
            variant = "cost_usd_text"
        elif "workflow_version" in event:
            event["workflow_version"] = "abc"
            variant = "workflow_version_text"
        else:
            props["duration_ms"] = "12,5"
            variant = "duration_ms_text"
    elif kind == "wrong_type":
        if rng.random() < 0.5:
            event["account_id"] = {"id": event["account_id"]}
            variant = "account_id_object"
        else:
            event["properties"] = orjson.dumps(event.get("properties") or {}).decode()
            variant = "properties_string"
    else:
        raise ValueError(f"unknown malformed kind {kind!r}")
    return orjson.dumps(event).decode(), variant


def plan(rng: np.random.Generator, *, events: int, days: int, rate: float) -> list[list[str]]:
    """The malformed kinds to write into each day's file: about rate x events lines, every kind
    at least once when there are 5,000 events or more."""
    if rate <= 0 or days <= 0:
        return [[] for _ in range(days)]
    total = int(round(rate * events))
    if events >= 5000:
        total = max(total, len(KINDS))
    kinds = list(KINDS[:min(total, len(KINDS))])
    kinds += [KINDS[i] for i in rng.integers(0, len(KINDS), max(0, total - len(kinds)))]
    per_day: list[list[str]] = [[] for _ in range(days)]
    for kind, day in zip(kinds, rng.integers(0, days, total).tolist()):
        per_day[day].append(kind)
    return per_day
