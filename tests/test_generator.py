"""The seeded sample-data generator: determinism, volumes, the event contract, the defects it
plants on purpose (late, duplicate, malformed lines) and the facts its manifest states
(anomalies, experiments). No database needed."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from warehouse.sample_data import generate

EVENTS = 40_000
DAYS = 60
SEED = 7
START = dt.date(2026, 8, 1)

EXECUTION_COLUMNS = ("workflow_id", "workflow_version", "execution_id")
REQUIRED = {
    "execution.enrolled": (*EXECUTION_COLUMNS, "contact_id"),
    "step.started": (*EXECUTION_COLUMNS, "step_id"),
    "step.completed": (*EXECUTION_COLUMNS, "step_id"),
    "step.failed": (*EXECUTION_COLUMNS, "step_id"),
    "step.skipped": (*EXECUTION_COLUMNS, "step_id"),
    "goal.achieved": EXECUTION_COLUMNS,
    "execution.completed": EXECUTION_COLUMNS,
    "execution.exited": EXECUTION_COLUMNS,
    "execution.failed": EXECUTION_COLUMNS,
    "user.activity": ("user_id",),
}
PROPERTIES = {  # property -> expected kind ("int", "number", "str" or a set of values)
    "execution.enrolled": {"enrollment_source": {"trigger", "bulk", "api", "manual"},
                           "trigger_type": "str"},
    "step.started": {},
    "step.completed": {"duration_ms": "int", "credits": "number", "cost_usd": "number"},
    "step.failed": {"duration_ms": "int", "error_type": "error", "error_message": "str",
                    "credits": "number", "cost_usd": "number"},
    "step.skipped": {"reason": {"condition_false"}},
    "goal.achieved": {"goal_id": "str"},
    "execution.completed": {},
    "execution.exited": {"exit_reason": "str"},
    "execution.failed": {"error_type": "error", "error_message": "str"},
    "user.activity": {"session_id": "str", "duration_ms": "int", "resource": "str",
                      "action": {"login", "view_dashboard", "edit_workflow", "publish_workflow",
                                 "export", "view_report"}},
}
ERROR_TYPES = {"validation_error", "api_timeout", "network_error", "authentication_error",
               "data_processing_error", "resource_exhaustion", "configuration_error",
               "external_service_error"}
COLUMNS = {"event_id", "event_type", "occurred_at", "account_id", "workflow_id",
           "workflow_version", "execution_id", "contact_id", "step_id", "user_id", "properties"}
REFERENCE_COLUMNS = {
    "accounts": ["account_id", "name", "plan", "timezone", "monthly_budget_usd", "created_at"],
    "users": ["user_id", "account_id", "role", "created_at"],
    "workflows": ["workflow_id", "account_id", "name", "owner_user_id", "created_at", "status"],
    "workflow_steps": ["workflow_id", "workflow_version", "step_id", "step_order", "step_type",
                       "step_name", "action_type"],
    "experiments": ["experiment_id", "workflow_id", "name", "started_at", "ended_at",
                    "control_variant", "variants"],
}


def parse_time(value) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone(dt.timezone.utc) if moment.tzinfo else None


def malformed_kind(line: str) -> str | None:
    """Why a line breaks the contract (the generator's kinds), or None when it is valid."""
    try:
        event = json.loads(line)
    except ValueError:
        return "truncated_json" if line.startswith('{"event_id"') else "not_json"
    if isinstance(event, list):
        return "json_array"
    if not isinstance(event, dict):
        return "not_json"
    event_type = event.get("event_type")
    if event_type not in REQUIRED:
        return "unknown_event_type"
    for name in ("event_id", "occurred_at", "account_id", *REQUIRED[event_type]):
        if event.get(name) in (None, ""):
            return "missing_required_field"
    for name in ("event_id", "account_id", "workflow_id", "execution_id", "contact_id",
                 "step_id", "user_id"):
        if event.get(name) is not None and not isinstance(event[name], str):
            return "wrong_type"
    if not isinstance(event.get("properties"), dict):
        return "wrong_type"
    if parse_time(event["occurred_at"]) is None:
        return "bad_timestamp"
    version = event.get("workflow_version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        return "not_a_number"
    for key in ("duration_ms", "credits", "cost_usd", "value_usd"):
        value = event["properties"].get(key)
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            return "not_a_number"
    return None


class Dataset:
    def __init__(self, root: Path):
        self.root = root
        self.manifest = json.loads((root / "manifest.json").read_text())
        self.lines: list[tuple[str, int, str]] = []  # (file day, line number, text)
        for path in sorted((root / "events").glob("*.jsonl")):
            for number, text in enumerate(path.read_text().splitlines(), start=1):
                self.lines.append((path.stem, number, text))
        self.bad = [(day, n, text) for day, n, text in self.lines if malformed_kind(text)]
        seen: set[str] = set()
        records = []
        self.valid_lines: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
        for day, n, text in self.lines:
            if malformed_kind(text):
                continue
            event = json.loads(text)
            self.valid_lines[event["event_id"]].append((day, n, text))
            if event["event_id"] in seen:
                continue
            seen.add(event["event_id"])
            event["file_day"] = day
            records.append(event)
        self.events = records
        frame = pd.DataFrame(records)
        frame["ts"] = pd.to_datetime(frame["occurred_at"], utc=True, format="ISO8601")
        frame["day"] = frame["ts"].dt.strftime("%Y-%m-%d")
        self.frame = frame

    def reference(self, name: str) -> list[dict]:
        return [json.loads(line) for line in (self.root / f"{name}.jsonl").read_text()
                .splitlines()]


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sample_a")
    generate(root, events=EVENTS, days=DAYS, seed=SEED, start=START)
    return root


@pytest.fixture(scope="module")
def data(out) -> Dataset:
    return Dataset(out)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_same_seed_gives_byte_identical_files(out, tmp_path):
    again = tmp_path / "again"
    generate(again, events=EVENTS, days=DAYS, seed=SEED, start=START)
    first, second = _files(out), _files(again)
    assert sorted(first) == sorted(second)
    assert len([name for name in first if name.startswith("events/")]) == DAYS
    for name in first:
        assert first[name] == second[name], name


def test_output_does_not_depend_on_hash_randomisation(out, tmp_path):
    again = tmp_path / "subprocess"
    code = ("import datetime, sys; from warehouse.sample_data import generate; "
            f"generate(sys.argv[1], events={EVENTS}, days={DAYS}, seed={SEED}, "
            f"start=datetime.date.fromisoformat('{START.isoformat()}'))")
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code, str(again)], cwd=root, check=True,
                   env={**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(root)})
    assert _files(again) == _files(out)


def test_another_seed_gives_different_data(out, tmp_path):
    other = tmp_path / "other"
    generate(other, events=EVENTS, days=DAYS, seed=SEED + 1, start=START)
    first, second = _files(out), _files(other)
    assert first["events/2026-08-15.jsonl"] != second["events/2026-08-15.jsonl"]
    assert first["workflow_steps.jsonl"] != second["workflow_steps.jsonl"]


def test_valid_events_match_the_request_and_the_manifest(data):
    manifest = data.manifest
    assert abs(len(data.events) - EVENTS) <= 0.05 * EVENTS
    assert manifest["events_written"] == len(data.events)
    by_type = Counter(e["event_type"] for e in data.events)
    assert manifest["events_by_type"] == {t: by_type[t] for t in REQUIRED}
    assert manifest["lines_written"] == len(data.lines)
    assert manifest["lines_written"] == (len(data.events) + manifest["duplicates_written"]
                                         + manifest["malformed_total"])
    activity = manifest["events_by_type"]["user.activity"] / len(data.events)
    assert 0.01 < activity < 0.06


def test_every_malformed_kind_is_present(data):
    found = Counter(malformed_kind(text) for _, _, text in data.bad)
    expected = set(data.manifest["malformed_written"])
    assert expected == {"not_json", "truncated_json", "json_array", "missing_required_field",
                        "unknown_event_type", "bad_timestamp", "not_a_number", "wrong_type"}
    assert set(found) == expected
    assert dict(found) == data.manifest["malformed_written"]
    assert 0.0005 * EVENTS <= len(data.bad) <= 0.002 * EVENTS
    ids = {e["event_id"] for e in data.events}
    for _, _, text in data.bad:  # never the id of a valid event
        try:
            event = json.loads(text)
        except ValueError:
            continue
        if isinstance(event, dict):
            assert event.get("event_id") not in ids


def test_duplicates_are_exact_copies_of_an_earlier_line(data):
    copies = same_file = later_file = 0
    for occurrences in data.valid_lines.values():
        if len(occurrences) == 1:
            continue
        first_day, first_number, first_text = occurrences[0]
        for day, number, text in occurrences[1:]:
            assert text == first_text
            assert (day, number) > (first_day, first_number)
            copies += 1
            same_file += day == first_day
            later_file += day > first_day
    assert copies == data.manifest["duplicates_written"]
    assert 0.002 * EVENTS <= copies <= 0.01 * EVENTS
    assert same_file and later_file
    assert later_file == data.manifest["duplicates_in_later_file"]


def _kind_ok(value, kind) -> bool:
    if isinstance(kind, set):
        return value in kind
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
    if kind == "error":
        return value in ERROR_TYPES
    return isinstance(value, str) and value != ""


def test_every_valid_line_satisfies_the_contract(data):
    accounts = {a["account_id"] for a in data.reference("accounts")}
    steps = {(s["workflow_id"], s["workflow_version"], s["step_id"])
             for s in data.reference("workflow_steps")}
    users = {u["user_id"]: u["account_id"] for u in data.reference("users")}
    for event in data.events:
        event_type = event["event_type"]
        assert set(event) - {"file_day"} <= COLUMNS, event
        assert "received_at" not in event
        for name in ("event_id", "account_id", *REQUIRED[event_type]):
            if name != "workflow_version":
                assert isinstance(event[name], str) and event[name], (name, event)
        assert event["account_id"] in accounts
        assert parse_time(event["occurred_at"]) is not None
        properties = event["properties"]
        for key, kind in PROPERTIES[event_type].items():
            assert _kind_ok(properties.get(key), kind), (key, event)
        if event_type == "user.activity":
            assert users[event["user_id"]] == event["account_id"]
            continue
        assert isinstance(event["workflow_version"], int) and event["workflow_version"] >= 1
        if event_type.startswith("step."):
            assert (event["workflow_id"], event["workflow_version"], event["step_id"]) in steps
        if event_type == "goal.achieved" and "value_usd" in properties:
            assert _kind_ok(properties["value_usd"], "number")
        if event_type in ("step.completed", "step.failed"):
            assert 0 <= properties["cost_usd"] <= 1.0
            assert round(properties["cost_usd"], 6) == properties["cost_usd"]
    offsets = Counter(e["occurred_at"][-1] == "Z" for e in data.events)
    assert 0.02 < offsets[False] / len(data.events) < 0.08  # some local offsets, most UTC


def test_execution_timelines_are_consistent(data):
    frame = data.frame[data.frame["execution_id"].notna()]
    enrolled = frame[frame["event_type"] == "execution.enrolled"].set_index("execution_id")["ts"]
    assert enrolled.index.is_unique
    assert set(frame["execution_id"]) == set(enrolled.index)  # every execution has its enrolment
    others = frame[frame["event_type"] != "execution.enrolled"]
    assert (others["ts"].values > enrolled.reindex(others["execution_id"]).values).all()
    terminal = frame[frame["event_type"].isin(
        ["goal.achieved", "execution.completed", "execution.failed", "execution.exited"])]
    ended = terminal.groupby("execution_id")["ts"].min()
    steps = frame[frame["event_type"].str.startswith("step.")]
    steps = steps[steps["execution_id"].isin(ended.index)]
    assert (steps["ts"].values <= ended.reindex(steps["execution_id"]).values).all()
    # each execution holds one workflow version of one account
    assert (frame.groupby("execution_id")[["workflow_id", "workflow_version", "account_id"]]
            .nunique() == 1).all().all()


def test_statuses_match_the_manifest(data):
    frame = data.frame[data.frame["execution_id"].notna()]
    kinds = frame.groupby("execution_id")["event_type"].agg(set)

    def status(types: set) -> str:
        for event_type, name in (("goal.achieved", "goal_achieved"),
                                 ("execution.completed", "completed"),
                                 ("execution.failed", "error"), ("execution.exited", "exited")):
            if event_type in types:
                return name
        return "active"

    counts = Counter(kinds.map(status))
    by_status = data.manifest["executions"]["by_status"]
    assert {k: v for k, v in by_status.items() if v} == dict(counts)
    assert all(by_status[s] > 0 for s in ("goal_achieved", "completed", "error", "exited",
                                          "active"))
    # a branch not taken is skipped, and some goals come after the workflow completed
    assert (frame["event_type"] == "step.skipped").any()
    per = frame.pivot_table(index="execution_id", columns="event_type", values="ts",
                            aggfunc="min")
    assert (per["goal.achieved"] > per["execution.completed"]).any()


def test_late_events_are_in_a_later_file(data):
    frame = data.frame
    late = frame["file_day"] > frame["day"]
    assert not (frame["file_day"] < frame["day"]).any()  # never delivered before it occurs
    assert 0.01 < late.mean() < 0.03
    assert late.sum() == data.manifest["late_events"]
    # lines are not in time order within a file
    first = frame[frame["file_day"] == "2026-08-20"]
    assert not first["ts"].is_monotonic_increasing


def _daily(series: pd.Series, day: str) -> tuple[float, float]:
    return float(series.get(day, 0.0)), float(series.drop(day, errors="ignore").median())


def test_planted_anomalies_are_visible(data):
    frame = data.frame
    anomalies = {a["kind"]: a for a in data.manifest["anomalies"]}
    assert set(anomalies) == {"error_rate_spike", "cost_spike", "traffic_drop"}
    for anomaly in anomalies.values():
        assert (dt.date.fromisoformat(anomaly["date"]) - START).days >= 30

    spike = anomalies["error_rate_spike"]
    ends = frame[(frame["workflow_id"] == spike["workflow_id"])
                 & frame["event_type"].isin(["step.completed", "step.failed"])]
    rate = ends.groupby("day")["event_type"].agg(lambda s: (s == "step.failed").mean())
    value, median = _daily(rate, spike["date"])
    assert value > 0 and value >= 3 * median

    spike = anomalies["cost_spike"]
    costed = ends = frame[(frame["workflow_id"] == spike["workflow_id"])
                          & frame["event_type"].isin(["step.completed", "step.failed"])]
    cost = costed.assign(cost=costed["properties"].map(lambda p: p["cost_usd"]))
    value, median = _daily(cost.groupby("day")["cost"].sum(), spike["date"])
    assert value >= 3 * median > 0

    drop = anomalies["traffic_drop"]
    enrolled = frame[(frame["workflow_id"] == drop["workflow_id"])
                     & (frame["event_type"] == "execution.enrolled")]
    per_day = enrolled.groupby("day").size()
    weekdays = per_day[[dt.date.fromisoformat(d).weekday() < 5 for d in per_day.index]]
    value, median = _daily(weekdays, drop["date"])
    assert value * 3 <= median


def test_experiment_variants_follow_traffic_shares(data):
    frame = data.frame
    enrolled = frame[frame["event_type"] == "execution.enrolled"]
    props = enrolled["properties"]
    experiment = props.map(lambda p: p.get("experiment_id"))
    variant = props.map(lambda p: p.get("variant"))
    assert len(data.manifest["experiments"]) >= 2
    for exp in data.manifest["experiments"]:
        mine = experiment == exp["experiment_id"]
        assert (enrolled.loc[mine, "workflow_id"] == exp["workflow_id"]).all()
        started = pd.Timestamp(exp["started_at"])
        ended = pd.Timestamp(exp["ended_at"]) if exp["ended_at"] else pd.Timestamp.max.tz_localize(
            "UTC")
        in_window = ((enrolled["workflow_id"] == exp["workflow_id"])
                     & (enrolled["ts"] >= started) & (enrolled["ts"] < ended))
        assert (mine == in_window).all()
        n = int(mine.sum())
        assert n >= 50
        shares = variant[mine].value_counts(normalize=True)
        assert set(shares.index) <= set(exp["variants"])
        for name, share in exp["variants"].items():
            tolerance = max(0.05, 4 * math.sqrt(share * (1 - share) / n))
            assert abs(shares.get(name, 0.0) - share) <= tolerance, (exp["experiment_id"], name)
        assert set(exp["conversion_probability"]) == set(exp["variants"])
    designs = [e["true_lift"] for e in data.manifest["experiments"]]
    assert any(lift > 0.05 for lift in designs) and any(lift == 0 for lift in designs)


def test_reference_tables(data):
    for name, columns in REFERENCE_COLUMNS.items():
        rows = data.reference(name)
        assert rows and all(list(row) == columns for row in rows), name
    steps = pd.DataFrame(data.reference("workflow_steps"))
    assert not steps.duplicated(["workflow_id", "workflow_version", "step_id"]).any()
    for _, version in steps.groupby(["workflow_id", "workflow_version"]):
        version = version.sort_values("step_order")
        assert list(version["step_order"]) == list(range(1, len(version) + 1))
        types = list(version["step_type"])
        assert types[0] == "trigger" and types[-1] == "goal"
        assert {"action", "condition", "wait"} <= set(types)
        assert version.loc[version["step_type"] == "action", "action_type"].notna().all()
    workflows = data.reference("workflows")
    assert all(5 <= n <= 10 for n in Counter(w["account_id"] for w in workflows).values())
    users = {u["user_id"]: u for u in data.reference("users")}
    for workflow in workflows:
        owner = users[workflow["owner_user_id"]]
        assert owner["account_id"] == workflow["account_id"]
    for exp in data.reference("experiments"):
        assert math.isclose(sum(exp["variants"].values()), 1.0)
        assert exp["control_variant"] in exp["variants"]
    accounts = data.reference("accounts")
    assert {a["plan"] for a in accounts} <= {"free", "pro", "enterprise"}
    assert {b["status"] for b in data.manifest["budgets"]} >= {"over", "near"}
    assert data.manifest["version_upgrades"]


def test_version_upgrades_are_recorded_and_used(data):
    frame = data.frame
    enrolled = frame[frame["event_type"] == "execution.enrolled"]
    for upgrade in data.manifest["version_upgrades"]:
        mine = enrolled[enrolled["workflow_id"] == upgrade["workflow_id"]]
        before = mine[mine["day"] < upgrade["date"]]["workflow_version"]
        after = mine[mine["day"] >= upgrade["date"]]["workflow_version"]
        assert (before < upgrade["to_version"]).all()
        assert (after >= upgrade["to_version"]).all()


def test_small_and_odd_sizes(tmp_path):
    manifest = generate(tmp_path, events=3_000, days=14, seed=1, malformed_rate=0,
                        duplicate_rate=0)
    assert abs(manifest["events_written"] - 3_000) <= 150
    assert manifest["malformed_total"] == 0 and manifest["duplicates_written"] == 0
    assert len(list((tmp_path / "events").glob("*.jsonl"))) == 14
    assert np.isclose(sum(manifest["files"].values()), manifest["lines_written"])
