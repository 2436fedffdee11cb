"""Seeded sample data for workflow-analytics: reference tables, event files by arrival day and a
manifest of what was planted (anomalies, experiments, version upgrades, budgets).

    generate(Path("data/sample"), events=1_000_000, days=90, seed=42)

The same arguments always give byte-identical files: every random draw comes from
numpy.random.default_rng streams keyed by (seed, purpose[, day]), and nothing depends on the
clock, hash ordering or the number of processes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from warehouse.sample_data.activity import Activity, build_activity
from warehouse.sample_data.catalog import DAY_MS, Catalog, enrollment_weights
from warehouse.sample_data.catalog_builder import build_catalog
from warehouse.sample_data.events import STATUSES, synthesize
from warehouse.sample_data.lines import EVENT_TYPES, LOCAL_TIME_SHARE, Batch, render
from warehouse.sample_data.malformed import plan as plan_malformed
from warehouse.sample_data.writer import (
    LATE_SHARE,
    EventFiles,
    arrival_days,
    write_json,
    write_jsonl,
)

ACTIVITY_SHARE = 0.03  # user.activity among all events
CHUNK_EXECUTIONS = 50_000  # executions synthesised and rendered at a time
PILOT_EXECUTIONS = 20_000
MALFORMED_ID_BASE = 1 << 62
_DAY_FILE = re.compile(r"\d{4}-\d\d-\d\d\.jsonl")


def generate(out_dir: Path, *, events: int = 1_000_000, days: int = 90, seed: int = 42,
             start: dt.date = dt.date(2026, 8, 1), malformed_rate: float = 0.001,
             duplicate_rate: float = 0.005) -> dict:
    """Write the sample data set under out_dir and return its manifest (also written to
    out_dir/manifest.json). `events` is the number of valid events to write (approximately);
    duplicates and malformed lines come on top. Day files already in out_dir/events are
    replaced."""
    if days < 1:
        raise ValueError("days must be at least 1")
    if events < 0:
        raise ValueError("events must not be negative")
    if isinstance(start, dt.datetime):
        start = start.date()
    out_dir = Path(out_dir)
    _clear_day_files(out_dir / "events")

    def stream(*key: int) -> np.random.Generator:
        return np.random.default_rng([seed, *key])

    salts = Salts(*(int(x) for x in stream(0).integers(0, 1 << 62, 3)))
    cat = build_catalog(stream(1), events=events, days=days, start=start)
    activity = build_activity(cat, stream(2), int(round(ACTIVITY_SHARE * events)),
                              salts.session)
    _assign_owners(cat, activity.user_rows, stream(3))
    counts = _enrolments(cat, max(0, events - len(activity)), stream)

    files = EventFiles(out_dir, start=start, days=days, seed=seed, duplicate_rate=duplicate_rate,
                       malformed_plan=plan_malformed(stream(7), events=events, days=days,
                                                     rate=malformed_rate),
                       id_salt=salts.id, malformed_id_base=MALFORMED_ID_BASE)
    months = _month_index(cat)
    totals = Totals(status=np.zeros(len(STATUSES), np.int64),
                    cost=np.zeros((cat.n_accounts, months.max() + 1)))
    for day in range(days):
        _write_day(cat, day, counts[day], activity, files, totals, months, stream(10, day),
                   salts)

    budgets = _budgets(cat, totals.cost, stream(8))
    references = {
        "accounts": cat.account_rows, "users": activity.user_rows,
        "workflows": cat.workflow_rows, "workflow_steps": cat.step_rows,
        "experiments": cat.experiment_rows,
    }
    for name, rows in references.items():
        write_jsonl(out_dir / f"{name}.jsonl", rows)
    manifest = _manifest(cat, events, files, totals, references, budgets, seed=seed,
                         malformed_rate=malformed_rate, duplicate_rate=duplicate_rate)
    write_json(out_dir / "manifest.json", manifest)
    return manifest


@dataclass
class Salts:
    id: int  # event ids
    execution: int  # execution ids
    session: int  # user session ids


@dataclass
class Totals:
    """What has been written so far, for the manifest and the budgets."""
    status: np.ndarray  # executions per STATUSES
    cost: np.ndarray  # [account, month] cost as written
    by_type: Counter = field(default_factory=Counter)
    next_id: int = 0  # event number of the next event
    executions: int = 0
    late: int = 0  # events that arrive in a later day's file


def _clear_day_files(events_dir: Path) -> None:
    events_dir.mkdir(parents=True, exist_ok=True)
    for stale in events_dir.iterdir():
        if _DAY_FILE.fullmatch(stale.name):
            stale.unlink()


def _enrolments(cat: Catalog, target: int, stream: Callable[..., np.random.Generator]
                ) -> np.ndarray:
    """Executions to enrol per [day, workflow], enough for about `target` events, with the
    planted traffic drop; sets each account's pool of contacts."""
    weights = enrollment_weights(cat, stream(4))
    per_execution = _events_per_execution(cat, weights, stream(5))
    n_exec = int(round(target / per_execution)) if per_execution > 0 else 0
    counts = stream(6).multinomial(n_exec, weights.ravel()).reshape(weights.shape)
    _plant_traffic_drop(cat, counts)
    _contact_pools(cat, counts)
    return counts


def _write_day(cat: Catalog, day: int, counts: np.ndarray, activity: Activity, files: EventFiles,
               totals: Totals, months: np.ndarray, rng: np.random.Generator, salts: Salts
               ) -> None:
    """The executions enrolled on `day`, in chunks, and the day's user activity (with the last
    chunk), added to the files by arrival day; then the day's file is written."""
    chunks = _chunks(counts)
    for i, chunk in enumerate(chunks):
        result = synthesize(cat, day, chunk, rng, totals.executions, salts.execution)
        totals.executions += int(chunk.sum())
        totals.status += result.status_counts
        np.add.at(totals.cost, (result.cost_acc, months[result.cost_day]), result.cost_usd)
        batches = result.batches
        if i == len(chunks) - 1:
            batches = batches + [activity.batch(day)]
        lines, t = _render_batches(cat, batches, totals, rng, salts.id)
        occurred = (t - cat.start_ms) // DAY_MS
        arrival = arrival_days(occurred, rng, cat.days)
        totals.late += int((arrival > occurred).sum())
        files.add(np.array(lines, dtype=object), arrival)
    files.flush(day)


def _render_batches(cat: Catalog, batches: list[Batch], totals: Totals, rng: np.random.Generator,
                    id_salt: int) -> tuple[list[str], np.ndarray]:
    """The batches' JSON lines, numbered on from totals.next_id, and their event times."""
    lines: list[str] = []
    times = []
    for batch in batches:
        lines += render(batch, totals.next_id, id_salt, rng, cat.acc_ids, cat.acc_alt_off_min,
                        cat.acc_alt_off_text)
        totals.next_id += len(batch)
        totals.by_type[batch.event_type] += len(batch)
        times.append(batch.t)
    return lines, np.concatenate(times)


def _manifest(cat: Catalog, events: int, files: EventFiles, totals: Totals, references: dict,
              budgets: list[dict], *, seed: int, malformed_rate: float, duplicate_rate: float
              ) -> dict:
    by_type = totals.by_type
    return {
        "seed": seed,
        "start": cat.start.isoformat(),
        "days": cat.days,
        "end": (cat.start + dt.timedelta(days=cat.days - 1)).isoformat(),
        "events_requested": events,
        "events_written": int(sum(by_type.values())),
        "events_by_type": {name: int(by_type[name]) for name in EVENT_TYPES},
        "lines_written": int(sum(files.lines_per_file.values())),
        "duplicates_written": files.duplicates,
        "duplicates_in_later_file": files.duplicates_cross_file,
        "malformed_written": {kind: int(n) for kind, n in sorted(files.malformed.items())},
        "malformed_total": int(sum(files.malformed.values())),
        "malformed_variants": dict(sorted(files.malformed_variants.items())),
        "late_events": totals.late,
        "executions": {"total": int(totals.executions),
                       "by_status": {s: int(n) for s, n in zip(STATUSES, totals.status)}},
        "reference_rows": {name: len(rows) for name, rows in references.items()},
        "anomalies": cat.anomalies,
        "experiments": cat.exp_manifest,
        "version_upgrades": cat.upgrades,
        "budgets": budgets,
        "parameters": {"malformed_rate": malformed_rate, "duplicate_rate": duplicate_rate,
                       "late_share": LATE_SHARE, "local_time_share": LOCAL_TIME_SHARE,
                       "activity_share": ACTIVITY_SHARE},
        "files": {f"events/{name}": n for name, n in files.lines_per_file.items()},
    }


def _chunks(counts: np.ndarray) -> list[np.ndarray]:
    total = int(counts.sum())
    k = max(1, -(-total // CHUNK_EXECUTIONS))
    if k == 1:
        return [counts]
    base, rem = counts // k, counts % k
    return [base + (i < rem) for i in range(k)]


def _events_per_execution(cat: Catalog, weights: np.ndarray, rng: np.random.Generator
                          ) -> float:
    """Average number of events an execution yields within the window, measured on a pilot
    sample with the real enrolment distribution (the end of the window truncates the
    executions enrolled in its last days)."""
    cat.acc_contact_off = np.zeros(cat.n_accounts, np.int64)
    cat.acc_contact_pool = np.ones(cat.n_accounts, np.int64)
    counts = rng.multinomial(PILOT_EXECUTIONS, weights.ravel()).reshape(weights.shape)
    total = 0
    for day in range(cat.days):
        if counts[day].any():
            result = synthesize(cat, day, counts[day], rng, 0, 0)
            total += sum(len(b) for b in result.batches)
    return total / PILOT_EXECUTIONS


def _plant_traffic_drop(cat: Catalog, counts: np.ndarray) -> None:
    """Set the drop day's enrolments to the planted share of the workflow's typical weekday
    (the median of the weekdays within two weeks), so the drop shows at any scale."""
    w, day, factor = cat.traffic_drop
    near = [d for d in range(max(0, day - 14), min(cat.days, day + 15))
            if d != day and cat.day_date(d).weekday() < 5 and counts[d, w] > 0]
    if near:
        counts[day, w] = int(round(factor * float(np.median(counts[near, w]))))


def _contact_pools(cat: Catalog, counts: np.ndarray) -> None:
    """Each account's contacts: a pool twice its number of enrolments, so that about a
    fifth of the contacts enrol more than once."""
    per_acc = np.bincount(cat.wf_account, weights=counts.sum(axis=0), minlength=cat.n_accounts)
    pool = np.maximum(20, 2 * per_acc.astype(np.int64))
    cat.acc_contact_pool = pool
    cat.acc_contact_off = np.cumsum(pool) - pool


def _assign_owners(cat: Catalog, users: list[dict], rng: np.random.Generator) -> None:
    """A workflow's owner: an admin or editor of its account who existed when it was made."""
    for row in cat.workflow_rows:
        eligible = [u["user_id"] for u in users if u["account_id"] == row["account_id"]
                    and u["role"] in ("admin", "editor") and u["created_at"] <= row["created_at"]]
        row["owner_user_id"] = eligible[int(rng.integers(len(eligible)))] if eligible else None


def _month_index(cat: Catalog) -> np.ndarray:
    keys = [(d.year, d.month) for d in (cat.day_date(i) for i in range(cat.days))]
    first = keys[0]
    return np.array([(y - first[0]) * 12 + m - first[1] for y, m in keys], np.int64)


def _budgets(cat: Catalog, cost: np.ndarray, rng: np.random.Generator) -> list[dict]:
    """Monthly budgets from the costs actually written: the cost-spike account is over budget
    in its most expensive month, the next most expensive account near it, the rest well
    under."""
    spike_acc = int(cat.wf_account[cat.cost_spike[0]])
    peak = cost.max(axis=1)
    peak_month = cost.argmax(axis=1)
    others = [a for a in np.argsort(-peak, kind="stable").tolist() if a != spike_acc]
    near = others[0] if others else None
    first = cat.day_date(0)
    out = []
    for a, row in enumerate(cat.account_rows):
        if a == spike_acc:
            factor = 0.85
        elif a == near:
            factor = 1.05
        else:
            factor = float(rng.uniform(1.6, 4.0))
        budget = round(float(peak[a]) * factor, 2) if peak[a] >= 0.05 else 100.0
        status = ("over" if peak[a] > budget else "near" if peak[a] >= 0.9 * budget
                  else "under")
        row["monthly_budget_usd"] = budget
        m = int(peak_month[a])
        year, month = first.year + (first.month - 1 + m) // 12, (first.month - 1 + m) % 12 + 1
        out.append({"account_id": row["account_id"], "monthly_budget_usd": budget,
                    "peak_month": f"{year:04d}-{month:02d}",
                    "peak_month_cost_usd": round(float(peak[a]), 6), "status": status})
    return out
