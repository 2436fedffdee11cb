"""The loader: every row read is loaded, a duplicate or rejected with its reason."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from tests.helpers import execute, query
from warehouse.ingestion import load_files, load_path


def enrolled(event_id: str, **overrides) -> dict:
    event = {
        "event_id": event_id, "event_type": "execution.enrolled",
        "occurred_at": "2026-09-01T10:00:00Z", "account_id": "acc_1", "workflow_id": "wf_1",
        "workflow_version": 1, "execution_id": f"x_{event_id}", "contact_id": "c_1",
        "properties": {"enrollment_source": "api", "trigger_type": "form_submitted"},
    }
    event.update(overrides)
    return event


def write_lines(path: Path, lines: list) -> Path:
    path.write_text("".join((l if isinstance(l, str) else json.dumps(l)) + "\n" for l in lines))
    return path


@pytest.fixture(autouse=True)
def empty_raw(warehouse):
    execute(warehouse, "truncate raw.events, raw.events_rejected, raw.load_batches, raw.accounts,"
                       " raw.experiments")


BAD_LINES = [
    ("{not json", "not JSON"),
    ("[1, 2, 3]", "not a JSON object: got list"),
    (enrolled("b1", account_id=None), "missing required field account_id"),
    (enrolled("b2", contact_id=None),
     "missing required field contact_id (required on execution.enrolled)"),
    ({**enrolled("b3"), "event_type": "step.exploded"}, "unknown event_type: 'step.exploded'"),
    (enrolled("b4", occurred_at="2026-13-45T99:00:00Z"),
     "bad timestamp in occurred_at: '2026-13-45T99:00:00Z'"),
    (enrolled("b5", occurred_at="yesterday"), "bad timestamp in occurred_at: 'yesterday'"),
    (enrolled("b6", workflow_version="abc"), "workflow_version is not a number: 'abc'"),
    ({**enrolled("b7"), "event_type": "step.completed", "step_id": "s1",
      "properties": {"cost_usd": "12,5"}}, "properties.cost_usd is not a number: '12,5'"),
    (enrolled("b8", account_id={"id": 1}),
     "account_id has the wrong type: expected a string, got dict"),
    (enrolled("b9", properties="oops"),
     "properties has the wrong type: expected an object, got str"),
    (enrolled("b10", workflow_version=True),
     "workflow_version has the wrong type: expected an integer, got boolean"),
    ({**enrolled("b11"), "event_type": "step.failed", "step_id": "s1",
      "properties": {"error_type": "gremlins"}}, "properties.error_type has an unknown value: 'gremlins'"),
    ({**enrolled("b12"), "event_type": "step.completed", "step_id": "s1",
      "properties": {"duration_ms": -5}},
     "properties.duration_ms must be a finite non-negative number: -5"),
    (enrolled("b13", contact_id="bad\u0000id"), "contact_id contains a NUL character"),
]


def test_every_bad_row_is_rejected_with_its_reason_line_and_file(warehouse, tmp_path):
    good = [enrolled("g1"), enrolled("g2", occurred_at="2026-09-01T12:30:00+02:00")]
    lines = [good[0], *[line for line, _ in BAD_LINES], good[1]]
    path = write_lines(tmp_path / "mixed.jsonl", lines)

    result = load_path(warehouse.warehouse_url, path)

    assert (result.rows_read, result.loaded, result.duplicates, result.rejected) == (
        len(lines), 2, 0, len(BAD_LINES))
    stored = query(warehouse, "select line_number, reason, raw_line, source_file, load_id"
                              " from raw.events_rejected order by line_number")
    # "not JSON" carries the parser's own detail after the colon.
    assert stored[0]["reason"].startswith("not JSON: ")
    stored[0]["reason"] = "not JSON"
    assert [(r["line_number"], r["reason"]) for r in stored] == [
        (number, reason) for number, (_, reason) in enumerate(BAD_LINES, start=2)]
    assert stored[0]["raw_line"] == "{not json"
    assert json.loads(stored[2]["raw_line"])["event_id"] == "b1"
    assert {r["source_file"] for r in stored} == {str(path)}
    assert {r["load_id"] for r in stored} == {result.load_id}
    batch = query(warehouse, "select rows_read, loaded, duplicates, rejected from raw.load_batches")
    assert batch == [{"rows_read": 17, "loaded": 2, "duplicates": 0, "rejected": 15}]


def test_times_with_offsets_are_stored_in_utc(warehouse, tmp_path):
    path = write_lines(tmp_path / "tz.jsonl", [
        enrolled("t1", occurred_at="2026-09-01T23:30:00-05:00"),
        enrolled("t2", occurred_at="2026-09-01T10:00:00"),  # no offset: UTC
        enrolled("t3", occurred_at="2026-09-01T10:00:00.123456+02:00"),
    ])
    load_path(warehouse.warehouse_url, path)
    rows = query(warehouse, "select event_id, occurred_at from raw.events order by event_id")
    assert [r["occurred_at"] for r in rows] == [
        datetime(2026, 9, 2, 4, 30, tzinfo=timezone.utc),
        datetime(2026, 9, 1, 10, 0, tzinfo=timezone.utc),
        datetime(2026, 9, 1, 8, 0, 0, 123456, tzinfo=timezone.utc),
    ]


def test_duplicates_within_a_file_across_chunks_and_across_loads(warehouse, tmp_path):
    first = write_lines(tmp_path / "one.jsonl", [
        enrolled("d1"), enrolled("d2"), enrolled("d1"), enrolled("d3"), enrolled("d2"),
    ])
    # Chunks of two: the repeats of d1 and d2 fall into later chunks than the originals.
    result = load_path(warehouse.warehouse_url, first, chunk_rows=2)
    assert (result.rows_read, result.loaded, result.duplicates, result.rejected) == (5, 3, 2, 0)

    again = write_lines(tmp_path / "two.jsonl", [
        enrolled("d3", occurred_at="2026-09-02T00:00:00Z"), enrolled("d4"),
    ])
    result = load_path(warehouse.warehouse_url, again)
    assert (result.rows_read, result.loaded, result.duplicates) == (2, 1, 1)
    rows = query(warehouse, "select event_id, occurred_at from raw.events order by event_id")
    assert [r["event_id"] for r in rows] == ["d1", "d2", "d3", "d4"]
    # The first copy of d3 is the one kept: a re-sent event is never stored twice.
    assert rows[2]["occurred_at"] == datetime(2026, 9, 1, 10, tzinfo=timezone.utc)

    # New events are offered without a lookup until a chunk holds a stored one: here the
    # second of its chunk (a0 goes in first, and is rolled back with it), then a chunk of new
    # events only, looked up first from then on.
    third = write_lines(tmp_path / "three.jsonl", [
        enrolled("a0"), enrolled("d4", occurred_at="2026-09-03T00:00:00Z"),
        enrolled("a1"), enrolled("a2"),
    ])
    result = load_path(warehouse.warehouse_url, third, chunk_rows=2, writers=1)
    assert (result.rows_read, result.loaded, result.duplicates) == (4, 3, 1)
    rows = query(warehouse, "select event_id, occurred_at from raw.events order by event_id")
    assert [r["event_id"] for r in rows] == ["a0", "a1", "a2", "d1", "d2", "d3", "d4"]
    assert rows[6]["occurred_at"] == datetime(2026, 9, 1, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize("with_filter", [False, True])
def test_concurrent_loads_of_the_same_events_store_each_once(warehouse, tmp_path, with_filter):
    # with the filter of load_files, each load offers its ids without looking them up (none
    # was stored when it started): the primary key catches what the others stored meanwhile
    events = [enrolled(f"c{i}") for i in range(3000)]
    paths = [write_lines(tmp_path / f"same{i}.jsonl", events) for i in range(3)]
    results = []

    def load(path):
        if with_filter:
            results.extend(load_files(warehouse.warehouse_url, [path], chunk_rows=500))
        else:
            results.append(load_path(warehouse.warehouse_url, path, chunk_rows=500))

    threads = [threading.Thread(target=load, args=(p,)) for p in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.loaded for r in results) == 3000
    assert sum(r.duplicates for r in results) == 6000
    assert all(r.balanced for r in results)
    assert query(warehouse, "select count(*) as n from raw.events") == [{"n": 3000}]


@pytest.fixture
def looked_up(monkeypatch):
    """The ids the loader looks up in the primary key, in order (the lookups still run)."""
    from warehouse.ingestion import loader

    ids = []
    real_lookup = loader._lookup_query

    def counting_lookup(event_ids):
        ids.extend(event_ids)
        return real_lookup(event_ids)

    monkeypatch.setattr(loader, "_lookup_query", counting_lookup)
    return ids


@pytest.mark.parametrize("stored_before", [0, 300])
def test_a_load_looks_up_only_the_ids_it_may_have_offered(warehouse, tmp_path, looked_up,
                                                         stored_before):
    if stored_before:  # other events, stored by an earlier load: none of them comes again
        load_path(warehouse.warehouse_url, write_lines(tmp_path / "earlier.jsonl", [
            enrolled(f"o{i:03d}") for i in range(stored_before)]))
    looked_up.clear()
    # the second file starts with 40 repeats of the first (another time, so the kept copy
    # shows), then new events, then a repeat of one of its own; without the filter, the chunk
    # of the first repeats would make every later id be looked up
    first = write_lines(tmp_path / "a.jsonl", [enrolled(f"s{i:03d}") for i in range(400)])
    second = write_lines(tmp_path / "b.jsonl", [
        *[enrolled(f"s{i:03d}", occurred_at="2026-09-02T00:00:00Z") for i in range(0, 400, 10)],
        *[enrolled(f"t{i:03d}") for i in range(200)],
        enrolled("t000", occurred_at="2026-09-02T00:00:00Z"),
    ])
    results = load_files(warehouse.warehouse_url, [first, second], chunk_rows=50)

    assert [(r.rows_read, r.loaded, r.duplicates) for r in results] == [(400, 400, 0),
                                                                        (241, 200, 41)]
    # only repeats were looked up (t000's first copy may still be in flight: then it is set
    # aside without a lookup), never one of the 600 new ids
    assert set(looked_up) <= {f"s{i:03d}" for i in range(0, 400, 10)} | {"t000"}
    assert len(looked_up) >= 40
    assert query(warehouse, "select count(*) as n, max(occurred_at) as last from raw.events") == [
        {"n": 600 + stored_before, "last": datetime(2026, 9, 1, 10, tzinfo=timezone.utc)}]


def test_once_a_chunk_meets_events_stored_before_the_load_every_later_id_is_looked_up(
        warehouse, tmp_path, looked_up):
    load_path(warehouse.warehouse_url, write_lines(tmp_path / "earlier.jsonl", [
        enrolled(f"o{i:03d}") for i in range(100)]))
    looked_up.clear()
    # the first chunk repeats stored events the filter cannot know of: its offer fails on the
    # key, and from then on every id is looked up before it is offered
    path = write_lines(tmp_path / "again.jsonl", [
        *[enrolled(f"o{i:03d}", occurred_at="2026-09-02T00:00:00Z") for i in range(0, 100, 4)],
        *[enrolled(f"n{i:03d}") for i in range(175)],
    ])
    [result] = load_files(warehouse.warehouse_url, [path], chunk_rows=50, writers=1)
    assert (result.rows_read, result.loaded, result.duplicates) == (200, 175, 25)
    assert set(looked_up) == {f"o{i:03d}" for i in range(0, 100, 4)} | {
        f"n{i:03d}" for i in range(175)}
    assert query(warehouse, "select count(*) as n, max(occurred_at) as last from raw.events") == [
        {"n": 275, "last": datetime(2026, 9, 1, 10, tzinfo=timezone.utc)}]


def test_parallel_writers_keep_the_first_copy_of_a_repeat_in_a_later_chunk(warehouse, tmp_path):
    # Chunks of 10 stored by 4 writers side by side: each event's repeat (another time) falls in
    # the next chunk, often while the first copy's chunk is still being written.
    lines = []
    for block in range(60):
        ids = [f"w{block:02d}_{i}" for i in range(10)]
        lines += [enrolled(event_id, occurred_at="2026-09-01T10:00:00Z") for event_id in ids[:5]]
        lines += [enrolled(event_id, occurred_at="2026-09-02T10:00:00Z")
                  for event_id in [f"w{block - 1:02d}_{i}" for i in range(5)] if block]
        lines += [enrolled(event_id, occurred_at="2026-09-01T10:00:00Z") for event_id in ids[5:]]
    path = write_lines(tmp_path / "repeats.jsonl", lines)
    result = load_path(warehouse.warehouse_url, path, chunk_rows=10, writers=4)
    assert (result.rows_read, result.loaded, result.duplicates, result.rejected) == (
        60 * 10 + 59 * 5, 600, 295, 0)
    assert query(warehouse, "select occurred_at, count(*) as n from raw.events group by 1") == [
        {"occurred_at": datetime(2026, 9, 1, 10, tzinfo=timezone.utc), "n": 600}]
    assert query(warehouse, "select loaded, duplicates from raw.load_batches") == [
        {"loaded": 600, "duplicates": 295}]


def test_csv_with_any_column_order_json_properties_and_empty_fields(warehouse, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "occurred_at,event_type,event_id,account_id,workflow_id,workflow_version,execution_id,"
        "contact_id,step_id,user_id,properties\n"
        '2026-09-01T10:00:00Z,execution.enrolled,v1,acc_1,wf_1,2,x1,c1,,,"{""enrollment_source"": ""bulk""}"\n'
        "2026-09-01T10:05:00Z,step.completed,v2,acc_1,wf_1,2,x1,,s1,,\n"
        '2026-09-01T10:06:00Z,step.failed,v3,acc_1,wf_1,2,x1,,s2,,"{""error_message"": ""line one\\nline two"",\n""error_type"": ""api_timeout""}"\n'
        "2026-09-01T10:07:00Z,step.completed,v4,acc_1,wf_1,x,x1,,s1,,\n"
        "2026-09-01T10:07:00Z,step.completed,v5,acc_1\n"
        '2026-09-01T10:08:00Z,user.activity,v6,acc_1,,,,,,u1,"{not json"\n'
    )
    result = load_path(warehouse.warehouse_url, path)
    assert (result.rows_read, result.loaded, result.duplicates, result.rejected) == (6, 3, 0, 3)
    rows = query(warehouse, "select event_id, workflow_version, contact_id, step_id, properties"
                            " from raw.events order by event_id")
    assert rows == [
        {"event_id": "v1", "workflow_version": 2, "contact_id": "c1", "step_id": None,
         "properties": {"enrollment_source": "bulk"}},
        {"event_id": "v2", "workflow_version": 2, "contact_id": None, "step_id": "s1",
         "properties": {}},
        {"event_id": "v3", "workflow_version": 2, "contact_id": None, "step_id": "s2",
         "properties": {"error_message": "line one\nline two", "error_type": "api_timeout"}},
    ]
    rejected = query(warehouse, "select line_number, reason from raw.events_rejected"
                                " order by line_number")
    # The header is line 1 and the quoted newline makes v3 span lines 4-5.
    assert rejected == [
        {"line_number": 6, "reason": "workflow_version is not a number: 'x'"},
        {"line_number": 7, "reason": "expected 11 fields as in the header, got 4"},
        {"line_number": 8, "reason": "properties is not valid JSON"},
    ]


def test_reference_tables_upsert_and_validate(warehouse, tmp_path):
    accounts = write_lines(tmp_path / "accounts.jsonl", [
        {"account_id": "acc_1", "name": "Acme", "plan": "pro", "timezone": "Europe/Paris",
         "monthly_budget_usd": 100.5, "created_at": "2026-01-01T00:00:00Z"},
        {"account_id": "acc_2", "name": "Beta", "monthly_budget_usd": "lots"},
        {"name": "no id"},
        {"account_id": "acc_1", "name": "Acme Inc", "plan": "enterprise",
         "monthly_budget_usd": 250},
    ])
    result = load_path(warehouse.warehouse_url, accounts, table="accounts")
    assert (result.rows_read, result.loaded, result.duplicates, result.rejected) == (4, 1, 1, 2)
    assert query(warehouse, "select account_id, name, plan, monthly_budget_usd from raw.accounts") == [
        {"account_id": "acc_1", "name": "Acme Inc", "plan": "enterprise",
         "monthly_budget_usd": Decimal("250.000000")}]
    reasons = [r["reason"] for r in query(
        warehouse, "select reason from raw.events_rejected order by line_number")]
    assert reasons[0].startswith("monthly_budget_usd: ")
    assert reasons[1] == "missing required field account_id"

    experiments = write_lines(tmp_path / "experiments.jsonl", [
        {"experiment_id": "e1", "workflow_id": "wf_1", "control_variant": "control",
         "variants": {"control": 0.5, "treatment": 0.5}},
        {"experiment_id": "e2", "workflow_id": "wf_1", "control_variant": "a",
         "variants": {"control": 0.5, "treatment": 0.5}},
        {"experiment_id": "e3", "workflow_id": "wf_1", "control_variant": "control",
         "variants": {"control": 0.7, "treatment": 0.7}},
    ])
    result = load_path(warehouse.warehouse_url, experiments, table="experiments")
    assert (result.loaded, result.rejected) == (1, 2)
    assert query(warehouse, "select variants from raw.experiments") == [
        {"variants": {"control": 0.5, "treatment": 0.5}}]


def test_folders_expand_to_their_files_in_name_order(warehouse, tmp_path):
    folder = tmp_path / "events"
    folder.mkdir()
    write_lines(folder / "2026-09-02.jsonl", [enrolled("f2"), enrolled("f1")])
    write_lines(folder / "2026-09-01.jsonl", [enrolled("f1")])
    (folder / "notes.txt").write_text("not loaded")
    results = load_files(warehouse.warehouse_url, [folder])
    assert [(Path(r.source_file).name, r.loaded, r.duplicates) for r in results] == [
        ("2026-09-01.jsonl", 1, 0), ("2026-09-02.jsonl", 1, 1)]


def test_cli_prints_counts_and_fails_only_on_unreadable_files(warehouse, tmp_path):
    path = write_lines(tmp_path / "cli.jsonl", [enrolled("k1"), enrolled("k1"), "nope"])
    env = {**os.environ, "WFA_DATABASE_URL": warehouse.warehouse_url}
    wfa = str(Path(sys.executable).with_name("wfa"))
    done = subprocess.run([wfa, "load", str(path)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "events: 3 rows read = 1 loaded + 1 duplicates + 1 rejected" in done.stdout

    missing = subprocess.run([wfa, "load", str(tmp_path / "absent.jsonl")], env=env,
                             capture_output=True, text=True)
    assert missing.returncode == 1
    assert "cannot be read" in missing.stderr


def test_parallel_parsing_matches_the_single_process_path(tmp_path):
    from warehouse.ingestion.loader import _validated_chunks
    from warehouse.ingestion.parallel import parsed_blocks, parser_pool
    from warehouse.ingestion.readers import read_jsonl

    lines = [enrolled(f"p{i}") for i in range(400)]
    lines[7] = "{broken"
    lines[100] = enrolled("p5")  # a repeat, in a later block than its first copy
    lines[250] = ""  # blank lines are not rows, but still count in line numbers
    lines[251] = enrolled("p9", occurred_at="not a time")
    path = write_lines(tmp_path / "big.jsonl", lines)

    def flatten(chunks):
        ids, texts, rejections, rows, repeats = [], [], [], 0, 0
        for chunk in chunks:
            ids += chunk.event_ids
            texts += chunk.copy_text.split("\n") if chunk.copy_text else []
            rejections += [(n, bytes(r) if isinstance(r, bytes) else r.encode(), why.split(":")[0])
                           for n, r, why in chunk.rejections]
            rows += chunk.rows_read
            repeats += chunk.repeats
        return rows, repeats, dict(zip(ids, texts)), rejections

    # Blocks of ~4 KB: many blocks, several per worker.
    with parser_pool() as pool:
        parallel = flatten(parsed_blocks(path, pool, block_bytes=4096))
    single = flatten(_validated_chunks(read_jsonl(path), 1000))
    assert parallel[0] == single[0] == 399
    assert parallel[2] == single[2]
    assert [r[0] for r in parallel[3]] == [r[0] for r in single[3]] == [8, 252]
    # 397 valid rows, p5 twice: 396 distinct events, whichever path parsed them.
    assert len(parallel[2]) == 396


EVENTS_INDEXES = ("select indexname, indexdef from pg_indexes"
                  " where schemaname = 'raw' and tablename = 'events' order by 1")


def test_a_big_first_load_builds_the_secondary_indexes_after_the_rows(warehouse, tmp_path,
                                                                      monkeypatch):
    from warehouse.ingestion import deferred_indexes as deferral

    before = query(warehouse, EVENTS_INDEXES)
    assert len(before) == 6  # the primary key and five secondary indexes (one partial)
    monkeypatch.setattr(deferral, "DEFER_MIN_BYTES", 0)  # any load counts as big
    with deferral.deferred_indexes(warehouse.warehouse_url, 1) as deferred:
        during = query(warehouse, EVENTS_INDEXES)
        waiting = query(warehouse, "select index_name, definition from platform.deferred_indexes"
                                   " order by 1")
    assert [r["indexname"] for r in during] == ["events_pkey"]
    assert sorted(deferred) == [r["indexname"] for r in before if r["indexname"] != "events_pkey"]
    assert [(r["index_name"], r["definition"]) for r in waiting] == [
        (r["indexname"], r["indexdef"]) for r in before if r["indexname"] != "events_pkey"]
    assert query(warehouse, EVENTS_INDEXES) == before
    assert query(warehouse, "select count(*) as n from platform.deferred_indexes") == [{"n": 0}]

    # The same through `wfa load`'s path: the rows are in, the indexes back, nothing waits.
    path = write_lines(tmp_path / "first.jsonl", [enrolled(f"f{i}") for i in range(50)] + ["{x"])
    result = load_files(warehouse.warehouse_url, [path])[0]
    assert (result.rows_read, result.loaded, result.rejected) == (51, 50, 1)
    assert query(warehouse, EVENTS_INDEXES) == before
    # Not empty any more: the next load keeps the indexes.
    with deferral.deferred_indexes(warehouse.warehouse_url, 1) as deferred:
        assert deferred == []
        assert query(warehouse, EVENTS_INDEXES) == before


def test_migrate_rebuilds_the_indexes_of_a_first_load_that_stopped(warehouse, monkeypatch):
    import psycopg

    from warehouse.ingestion import deferred_indexes as deferral
    from warehouse.migrate import migrate

    before = query(warehouse, EVENTS_INDEXES)
    with psycopg.connect(warehouse.warehouse_url, autocommit=True) as load_session:
        load_session.execute("select pg_advisory_lock_shared(%s)", (deferral.LOAD_LOCK,))
        assert deferral._defer(warehouse.warehouse_url)  # a load dropped them
        migrate(warehouse.warehouse_url)  # while it runs, its indexes are left to it
        assert len(query(warehouse, EVENTS_INDEXES)) == 1
    # the load's session ended without rebuilding them: it was stopped
    migrate(warehouse.warehouse_url)
    assert query(warehouse, EVENTS_INDEXES) == before
    assert query(warehouse, "select count(*) as n from platform.deferred_indexes") == [{"n": 0}]


def test_the_deferred_indexes_on_more_columns_are_built_first():
    from warehouse.ingestion.deferred_indexes import _key_columns

    assert _key_columns("CREATE INDEX w ON raw.events USING btree (workflow_id, received_at)") == 2
    assert _key_columns("CREATE INDEX e ON raw.events USING btree (execution_id)"
                        " WHERE (execution_id IS NOT NULL)") == 1


# --- one bad event never aborts its file ----------------------------------------------------

def deep(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


# Each of these failed in PostgreSQL or in Python and stopped the whole load.
HOSTILE_LINES = [
    (enrolled("h1", occurred_at="2026-09-01T10:00:00+18:00"),
     "occurred_at has an offset out of range: '2026-09-01T10:00:00+18:00' (offsets are within"
     " ±14:00)"),
    (enrolled("h2", occurred_at="9999-12-31T23:00:00-0500"),
     "occurred_at is out of range: 9999-12-31T23:00:00-0500 is more than 24 h ahead of now"),
    (enrolled("h3", occurred_at="0001-01-01T00:00:00+01:00"),
     "occurred_at is out of range: 0001-01-01T00:00:00+01:00 is before 2000-01-01"),
    (enrolled("h4", occurred_at="2028-01-01T00:00:00Z"),  # one far-future event (issue item 5)
     "occurred_at is out of range: 2028-01-01T00:00:00Z is more than 24 h ahead of now"),
    (enrolled("h5", execution_id="x" * 10_000),
     "execution_id is too long: 10,000 characters (at most 256)"),
    (enrolled("h6", properties={"nested": deep(256)}),
     "properties are nested too deep: more than 32 levels"),
    (enrolled("h7", properties={"note": "n" * 70_000}),
     "properties are too large: 70,011 bytes as JSON (at most 65,536)"),
]


@pytest.mark.parametrize("parallel", [False, True])
def test_a_hostile_event_is_rejected_and_the_rest_of_the_file_loads(warehouse, tmp_path,
                                                                    parallel):
    lines = [enrolled("g1"), *[line for line, _ in HOSTILE_LINES], enrolled("g2")]
    path = write_lines(tmp_path / "hostile.jsonl", lines)

    # parallel_min_bytes=0: the parser worker processes take even this small file
    [result] = load_files(warehouse.warehouse_url, [path], parallel_min_bytes=0 if parallel
                          else 1 << 40)

    assert (result.rows_read, result.loaded, result.duplicates, result.rejected,
            result.damaged) == (9, 2, 0, 7, None)
    assert query(warehouse, "select line_number, reason from raw.events_rejected"
                            " order by line_number") == [
        {"line_number": number, "reason": reason}
        for number, (_, reason) in enumerate(HOSTILE_LINES, start=2)]
    # the far-future event did not stretch the warehouse's last date
    assert query(warehouse, "select count(*) as n, max(occurred_at) as last from raw.events") == [
        {"n": 2, "last": datetime(2026, 9, 1, 10, tzinfo=timezone.utc)}]


def test_one_far_future_event_is_rejected_and_never_stretches_the_series(warehouse, tmp_path):
    # issue item 5: one event dated 2028 made every daily series run densely to 2028; with
    # WFA_NOW at 2026-12-07 12:00 (the platform's clock) the window ends 24 h later
    from warehouse.settings import Settings

    window = Settings(now=datetime(2026, 12, 7, 12)).event_window()
    lines = [enrolled(f"n{i:02d}") for i in range(50)]
    lines[25] = enrolled("far", occurred_at="2028-01-01T00:00:00+00:00")
    lines[26] = enrolled("soon", occurred_at="2026-12-08T11:59:59Z")  # within 24 h of now
    path = write_lines(tmp_path / "future.jsonl", lines)

    [result] = load_files(warehouse.warehouse_url, [path], window=window)

    assert (result.rows_read, result.loaded, result.rejected) == (50, 49, 1)
    assert query(warehouse, "select line_number, reason from raw.events_rejected") == [
        {"line_number": 26, "reason": "occurred_at is out of range: 2028-01-01T00:00:00+00:00"
                                      " is more than 24 h ahead of now"}]
    assert query(warehouse, "select max(occurred_at) as last from raw.events") == [
        {"last": datetime(2026, 12, 8, 11, 59, 59, tzinfo=timezone.utc)}]


# --- files as people have them --------------------------------------------------------------

CSV_HEADER = "event_id,event_type,occurred_at,account_id,workflow_id,workflow_version,execution_id,contact_id"


def csv_line(event_id: str, contact: str = "c1") -> str:
    return f"{event_id},execution.enrolled,2026-09-01T10:00:00Z,acc_1,wf_1,1,x_{event_id},{contact}"


def test_a_csv_with_a_byte_order_mark_and_crlf_line_ends_loads_every_row(warehouse, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(
        [CSV_HEADER, csv_line("m1"), csv_line("m2"), "m3,execution.enrolled,soon,acc_1,wf_1,1,x,c",
         ""]).encode())
    result = load_path(warehouse.warehouse_url, path)
    assert (result.rows_read, result.loaded, result.rejected) == (3, 2, 1)
    assert query(warehouse, "select event_id, contact_id from raw.events order by 1") == [
        {"event_id": "m1", "contact_id": "c1"}, {"event_id": "m2", "contact_id": "c1"}]
    assert query(warehouse, "select line_number, raw_line, reason from raw.events_rejected") == [
        {"line_number": 4, "raw_line": "m3,execution.enrolled,soon,acc_1,wf_1,1,x,c",
         "reason": "bad timestamp in occurred_at: 'soon'"}]


def test_bytes_that_are_not_utf8_reject_their_line_with_the_reason(warehouse, tmp_path):
    csv_path = tmp_path / "latin1.csv"
    csv_path.write_bytes(b"\n".join([
        CSV_HEADER.encode(), csv_line("u1").encode(),
        csv_line("u2", "Jos\xe9").encode("latin-1"),  # as a Latin-1 export writes it
        csv_line("u3", "Jos\xe9").encode(), b""]))
    jsonl_path = tmp_path / "latin1.jsonl"
    jsonl_path.write_bytes(json.dumps(enrolled("u4")).encode() + b"\n"
                           + json.dumps(enrolled("u5", contact_id="Jos@")).encode()
                           .replace(b"Jos@", b"Jos\xe9") + b"\n")

    results = load_files(warehouse.warehouse_url, [csv_path, jsonl_path])

    assert [(r.rows_read, r.loaded, r.rejected) for r in results] == [(3, 2, 1), (2, 1, 1)]
    # the UTF-8 row is stored as sent; the Latin-1 one rejected, not altered
    assert query(warehouse, "select event_id, contact_id from raw.events order by 1") == [
        {"event_id": "u1", "contact_id": "c1"}, {"event_id": "u3", "contact_id": "Jos\u00e9"},
        {"event_id": "u4", "contact_id": "c_1"}]
    offset = len(csv_line("u2", "Jos"))
    jsonl_offset = json.dumps(enrolled("u5", contact_id="Jos@")).index("@")
    assert query(warehouse, "select line_number, raw_line, reason from raw.events_rejected"
                            " order by source_file, line_number") == [
        {"line_number": 3, "raw_line": csv_line("u2", "Jos\ufffd"),
         "reason": f"invalid UTF-8: byte 0xe9 at byte {offset}"},
        {"line_number": 2, "raw_line": json.dumps(enrolled("u5", contact_id="Jos\ufffd"),
                                                  ensure_ascii=False),
         "reason": f"invalid UTF-8: byte 0xe9 at byte {jsonl_offset}"}]


def jsonl_gz(prefix: str, count: int) -> bytes:
    return gzip.compress("".join(json.dumps(enrolled(f"{prefix}{i:03d}")) + "\n"
                                 for i in range(count)).encode())


EOF_ERROR = "(EOFError: Compressed file ended before the end-of-stream marker was reached)"
# Two gzip members (as `cat a.gz b.gz` makes): 300 whole events, then a second member that
# breaks off; or one member without its last 8 bytes (the checksum and size).
BROKEN_GZ = {
    "truncated": (lambda: jsonl_gz("z", 300) + jsonl_gz("y", 100)[:12], 300,
                  f"nothing could be read after line 300 {EOF_ERROR}"),
    "corrupt": (lambda: jsonl_gz("z", 300) + jsonl_gz("y", 100)[:10] + b"\xff" * 50, 300,
                "nothing could be read after line 300 (zlib.error: Error -3 while decompressing"
                " data: invalid block type)"),
    "no trailer": (lambda: jsonl_gz("z", 300)[:-8], 300,
                   f"nothing could be read after line 300 {EOF_ERROR}"),
    "not gzip": (lambda: b'{"event_id": "z000"}\n', 0,
                 "nothing could be read from its start (BadGzipFile: Not a gzipped file"
                 " (b'{\"'))"),
}


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("case", sorted(BROKEN_GZ))
def test_a_broken_gz_keeps_and_counts_its_rows_before_the_break_and_says_so(
        warehouse, tmp_path, case, parallel):
    make, rows, where = BROKEN_GZ[case]
    path = tmp_path / "events.jsonl.gz"
    path.write_bytes(make())
    whole = write_lines(tmp_path / "whole.jsonl", [enrolled("w1")])

    results = load_files(warehouse.warehouse_url, [path, whole],
                         parallel_min_bytes=0 if parallel else 1 << 40)

    assert [(r.rows_read, r.loaded, r.rejected, r.damaged) for r in results] == [
        (rows, rows, 0, f"the file is truncated or corrupt: {where}"), (1, 1, 0, None)]
    assert query(warehouse, "select count(*) as n from raw.events") == [{"n": rows + 1}]
    # its batch says so too, with the rows it kept
    assert query(warehouse, "select loaded, status, error from raw.load_batches"
                            " order by load_id") == [
        {"loaded": rows, "status": "truncated",
         "error": f"the file is truncated or corrupt: {where}"},
        {"loaded": 1, "status": "done", "error": None}]


def test_a_truncated_csv_gz_keeps_its_rows_before_the_break(warehouse, tmp_path):
    path = tmp_path / "events.csv.gz"
    path.write_bytes(gzip.compress("\n".join(
        [CSV_HEADER, *[csv_line(f"v{i:03d}") for i in range(200)], ""]).encode())[:-8])
    result = load_path(warehouse.warehouse_url, path)
    assert (result.rows_read, result.loaded, result.rejected, result.damaged) == (
        200, 200, 0, f"the file is truncated or corrupt: nothing could be read after line 201"
                     f" {EOF_ERROR}")


def test_wfa_load_names_a_broken_gz_and_exits_non_zero(warehouse, tmp_path):
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(jsonl_gz("c", 300) + jsonl_gz("d", 100)[:12])
    whole = write_lines(tmp_path / "whole.jsonl", [enrolled("w1")])
    env = {**os.environ, "WFA_DATABASE_URL": warehouse.warehouse_url}
    wfa = str(Path(sys.executable).with_name("wfa"))
    done = subprocess.run([wfa, "load", str(path), str(whole)], env=env, capture_output=True,
                          text=True)
    assert done.returncode == 1
    assert (f"{path}: the file is truncated or corrupt: nothing could be read after line 300"
            f" {EOF_ERROR}; the rows before the break are loaded") in done.stderr
    assert "events: 301 rows read = 301 loaded + 0 duplicates + 0 rejected" in done.stdout


def test_the_parser_processes_of_a_killed_load_exit(warehouse, tmp_path):
    import psutil

    from warehouse.ingestion.parallel import PARALLEL_MIN_BYTES
    from warehouse.migrate import migrate

    # big enough for wfa load to parse it in worker processes
    template = json.dumps(enrolled("ID"))
    count = PARALLEL_MIN_BYTES // len(template) + 10_000
    path = tmp_path / "big.jsonl"
    path.write_text("".join(template.replace("ID", f"k{i}") + "\n" for i in range(count)))
    env = {**os.environ, "WFA_DATABASE_URL": warehouse.warehouse_url}
    load = subprocess.Popen([str(Path(sys.executable).with_name("wfa")), "load", str(path)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        parent = psutil.Process(load.pid)
        deadline = time.monotonic() + 60
        while True:  # until the workers are up (each shows as a spawn_main child)
            workers = [p for p in parent.children(recursive=True)
                       if "spawn_main" in " ".join(p.cmdline())]
            if len(workers) >= 2 or time.monotonic() > deadline or load.poll() is not None:
                break
            time.sleep(0.1)
        assert len(workers) >= 2 and load.poll() is None, "the load ended before its workers"
        children = parent.children(recursive=True)  # the workers and multiprocessing's tracker
    finally:
        load.kill()  # SIGKILL: nothing of the load runs after it
        load.wait()

    def alive(process) -> bool:
        try:
            return process.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + 10
    while any(map(alive, children)) and time.monotonic() < deadline:
        time.sleep(0.2)
    try:
        assert [p.pid for p in children if alive(p)] == []
    finally:
        for process in children:  # never leave them behind, even when the test fails
            if alive(process):
                process.kill()
        time.sleep(1)  # the killed load's session ends; its deferred indexes are rebuilt
        migrate(warehouse.warehouse_url)


def test_wfa_load_takes_the_window_from_the_settings_and_the_platforms_clock(warehouse, tmp_path):
    path = write_lines(tmp_path / "window.jsonl", [
        enrolled("c1", occurred_at="2026-09-01T10:00:00Z"),
        enrolled("c2", occurred_at="2026-09-01T13:30:00Z"),  # 90 min after WFA_NOW
        enrolled("c3", occurred_at="2026-05-31T23:00:00Z"),  # before WFA_EVENTS_EARLIEST
    ])
    env = {**os.environ, "WFA_DATABASE_URL": warehouse.warehouse_url,
           "WFA_NOW": "2026-09-01T12:00:00Z", "WFA_EVENTS_MAX_AHEAD_HOURS": "1",
           "WFA_EVENTS_EARLIEST": "2026-06-01"}
    wfa = str(Path(sys.executable).with_name("wfa"))
    done = subprocess.run([wfa, "load", str(path)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "events: 3 rows read = 1 loaded + 0 duplicates + 2 rejected" in done.stdout
    assert query(warehouse, "select reason from raw.events_rejected order by line_number") == [
        {"reason": "occurred_at is out of range: 2026-09-01T13:30:00Z is more than 1 h ahead of"
                   " now"},
        {"reason": "occurred_at is out of range: 2026-05-31T23:00:00Z is before 2026-06-01"}]


@pytest.mark.parametrize("parallel", [False, True])
def test_a_json_lines_file_with_a_byte_order_mark_loads_its_first_line(warehouse, tmp_path,
                                                                      parallel):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"".join(
        json.dumps(enrolled(f"b{i}")).encode() + b"\r\n" for i in range(3)))
    [result] = load_files(warehouse.warehouse_url, [path],
                          parallel_min_bytes=0 if parallel else 1 << 40)
    assert (result.rows_read, result.loaded, result.rejected) == (3, 3, 0)


def test_a_truncated_reference_file_keeps_its_rows_before_the_break(warehouse, tmp_path):
    path = tmp_path / "accounts.jsonl.gz"
    path.write_bytes(gzip.compress("".join(
        json.dumps({"account_id": f"acc_{i}", "name": f"Account {i}"}) + "\n"
        for i in range(40)).encode())[:-8])
    result = load_path(warehouse.warehouse_url, path, table="accounts")
    assert (result.rows_read, result.loaded, result.rejected, result.damaged) == (
        40, 40, 0, f"the file is truncated or corrupt: nothing could be read after line 40"
                   f" {EOF_ERROR}")
    assert query(warehouse, "select count(*) as n from raw.accounts") == [{"n": 40}]
