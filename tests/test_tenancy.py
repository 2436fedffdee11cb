"""Tenancy on write: an event naming another account's workflow or execution is rejected, by the
loader and by the API alike; the live counters count an account's own events only."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from api.infra.keys import create_key
from api.infra.live import counts_between
from tests.api_server import client, serve
from tests.helpers import execute, query
from warehouse.ingestion import load_path


def event(event_id: str, account: str, workflow: str, execution: str,
          event_type: str = "execution.enrolled") -> dict:
    return {"event_id": event_id, "event_type": event_type,
            "occurred_at": "2026-09-01T10:00:00Z", "account_id": account,
            "workflow_id": workflow, "workflow_version": 1, "execution_id": execution,
            "contact_id": "c_1", "properties": {}}


def write_lines(path: Path, events: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


@pytest.fixture(autouse=True)
def empty_raw(warehouse):
    execute(warehouse, "truncate raw.events, raw.events_rejected, raw.load_batches,"
                       " raw.workflows, raw.workflow_owners, raw.execution_owners")
    # the product's reference data: wf_a belongs to acc_a
    execute(warehouse, "insert into raw.workflows (workflow_id, account_id) values"
                       " ('wf_a', 'acc_a')")


# What acc_b tries after acc_a's first file, and why each is refused (or not).
ATTEMPTS = [
    (event("b1", "acc_b", "wf_a", "x_b1"), "workflow_id 'wf_a' belongs to another account"),
    (event("b2", "acc_b", "wf_b", "x_a1"), "execution_id 'x_a1' belongs to another account"),
    (event("b3", "acc_b", "wf_new", "x_b3"), None),  # first to send wf_new: it is acc_b's
    (event("b4", "acc_b", "wf_b", "x_b4"), None),
    (event("b5", "acc_b", "wf_b", "x_b3"),
     "execution_id 'x_b3' belongs to workflow 'wf_new', not 'wf_b'"),
]


def test_the_loader_rejects_events_of_another_accounts_workflow_or_execution(warehouse, tmp_path):
    url = warehouse.warehouse_url
    first = load_path(url, write_lines(tmp_path / "a.jsonl", [
        event("a1", "acc_a", "wf_a", "x_a1"), event("a2", "acc_a", "wf_a", "x_a1", "step.started")
        | {"step_id": "s1"}]))
    assert (first.loaded, first.rejected) == (2, 0)

    result = load_path(url, write_lines(tmp_path / "b.jsonl", [e for e, _ in ATTEMPTS]))
    assert (result.rows_read, result.loaded, result.duplicates, result.rejected) == (5, 2, 0, 3)
    rejected = query(warehouse, "select line_number, reason, raw_line from raw.events_rejected"
                                " order by line_number")
    assert [(r["line_number"], r["reason"]) for r in rejected] == [
        (n, reason) for n, (_, reason) in enumerate(ATTEMPTS, start=1) if reason]
    # the raw line kept is the event as it would have been stored
    assert json.loads(rejected[0]["raw_line"]) == ATTEMPTS[0][0]

    # acc_a now cannot write into wf_new, which acc_b sent first
    late = load_path(url, write_lines(tmp_path / "a2.jsonl", [
        event("a3", "acc_a", "wf_new", "x_a3")]))
    assert (late.loaded, late.rejected) == (0, 1)
    assert query(warehouse, "select account_id, workflow_id, execution_id from raw.events"
                            " order by event_id") == [
        {"account_id": "acc_a", "workflow_id": "wf_a", "execution_id": "x_a1"},
        {"account_id": "acc_a", "workflow_id": "wf_a", "execution_id": "x_a1"},
        {"account_id": "acc_b", "workflow_id": "wf_new", "execution_id": "x_b3"},
        {"account_id": "acc_b", "workflow_id": "wf_b", "execution_id": "x_b4"},
    ]
    assert query(warehouse, "select workflow_id, account_id, decided_by from raw.workflow_owners"
                            " order by 1") == [
        {"workflow_id": "wf_a", "account_id": "acc_a", "decided_by": "reference"},
        {"workflow_id": "wf_b", "account_id": "acc_b", "decided_by": "first_event"},
        {"workflow_id": "wf_new", "account_id": "acc_b", "decided_by": "first_event"},
    ]
    assert query(warehouse, "select rows_read, loaded, duplicates, rejected, status"
                            " from raw.load_batches order by load_id") == [
        {"rows_read": 2, "loaded": 2, "duplicates": 0, "rejected": 0, "status": "done"},
        {"rows_read": 5, "loaded": 2, "duplicates": 0, "rejected": 3, "status": "done"},
        {"rows_read": 1, "loaded": 0, "duplicates": 0, "rejected": 1, "status": "done"},
    ]


def test_reference_data_decides_a_workflows_owner(warehouse, tmp_path):
    url = warehouse.warehouse_url
    load_path(url, write_lines(tmp_path / "workflows.jsonl", [
        {"workflow_id": "wf_ref", "account_id": "acc_b"}]), table="workflows")
    result = load_path(url, write_lines(tmp_path / "e.jsonl", [
        event("r1", "acc_a", "wf_ref", "x_r1"), event("r2", "acc_b", "wf_ref", "x_r2")]))
    assert (result.loaded, result.rejected) == (1, 1)
    assert query(warehouse, "select event_id from raw.events") == [{"event_id": "r2"}]


def test_the_api_rejects_events_of_another_accounts_workflow_or_execution(warehouse):
    url = warehouse.warehouse_url
    _, key_a = create_key(url, "acc_a", "viewer", ["read", "ingest"])
    _, key_b = create_key(url, "acc_b", "viewer", ["read", "ingest"])
    with serve(warehouse) as base:
        with client(base, key_a) as http:
            answer = http.post("/api/v1/events", json=[event("a1", "acc_a", "wf_a", "x_a1")])
            assert answer.json()["accepted"] == 1
        with client(base, key_b) as http:
            answer = http.post("/api/v1/events", json=[e for e, _ in ATTEMPTS])
    assert answer.status_code == 200
    body = answer.json()
    assert (body["received"], body["accepted"], body["duplicates"], body["rejected"]) == (
        5, 2, 0, 3)
    assert [(r["event_id"], r["status"], r["reason"]) for r in body["results"]] == [
        (e["event_id"], "rejected" if reason else "accepted", reason) for e, reason in ATTEMPTS]
    assert query(warehouse, "select line_number, reason from raw.events_rejected"
                            " order by line_number") == [
        {"line_number": n, "reason": reason}
        for n, (_, reason) in enumerate(ATTEMPTS, start=1) if reason]
    assert query(warehouse, "select count(*) as n from raw.events where account_id = 'acc_b'"
                            " and workflow_id = 'wf_a'") == [{"n": 0}]


def test_live_counts_are_an_accounts_own(warehouse):
    """Events stored before ownership was checked (or written around it) move only the stream
    of their own account."""
    execute(warehouse, """
        insert into raw.events (event_id, event_type, occurred_at, received_at, account_id,
                                workflow_id, workflow_version, execution_id, contact_id)
        values ('l1', 'execution.enrolled', '2026-09-01', '2026-09-01 10:00', 'acc_a', 'wf_a', 1,
                'x_l1', 'c'),
               ('l2', 'execution.enrolled', '2026-09-01', '2026-09-01 10:00', 'acc_b', 'wf_a', 1,
                'x_l2', 'c'),
               ('l3', 'execution.completed', '2026-09-01', '2026-09-01 10:00', 'acc_b', 'wf_a',
                1, 'x_l2', null)""")
    since = dt.datetime(2026, 9, 1, 9, tzinfo=dt.timezone.utc)
    until = dt.datetime(2026, 9, 1, 11, tzinfo=dt.timezone.utc)
    with psycopg.connect(warehouse.warehouse_url, row_factory=dict_row) as conn:
        changes = counts_between(conn, [("acc_a", "wf_a")], since, until)
    assert dict(changes[("acc_a", "wf_a")]) == {"total_enrolled": 1, "currently_active": 1}


def test_foreign_events_stored_before_ownership_are_set_aside_and_the_refresh_runs(
        pg_server_url):
    """Events written into another account's workflow or execution before ownership was
    checked broke a model (a duplicate key) and a reconciliation check, which stopped the
    refresh for every account; the migration sets them aside with their reason."""
    from tests.conftest import make_database
    from tests.helpers import run_dbt
    from warehouse import migrate

    settings = make_database(pg_server_url, "legacy_tenancy")
    url = settings.warehouse_url
    with psycopg.connect(url, autocommit=True) as conn:  # back to the layer before 0008
        conn.execute("drop schema raw cascade")
        conn.execute("drop schema platform cascade")
        conn.execute("create schema platform")
        conn.execute("create table platform.schema_migrations (version text primary key,"
                     " name text not null, checksum text not null,"
                     " applied_at timestamptz not null default now())")
        for step in migrate.available():
            if step.version >= "0008":
                break
            conn.execute(step.sql)
            conn.execute("insert into platform.schema_migrations values (%s, %s, %s)",
                         (step.version, step.name, step.checksum))
        conn.execute("insert into raw.workflows (workflow_id, account_id) values"
                     " ('wf_a', 'acc_a')")
        conn.execute("""
            insert into raw.events (event_id, event_type, occurred_at, received_at, account_id,
                                    workflow_id, workflow_version, execution_id, contact_id)
            values ('a1', 'execution.enrolled', '2026-09-01 10:00', '2026-09-01 10:00', 'acc_a',
                    'wf_a', 1, 'x1', 'c1'),
                   ('a2', 'execution.completed', '2026-09-01 11:00', '2026-09-01 11:00',
                    'acc_a', 'wf_a', 1, 'x1', null),
                   ('b1', 'execution.enrolled', '2026-09-01 12:00', '2026-09-01 12:00', 'acc_b',
                    'wf_a', 1, 'x2', 'c2'),
                   ('b2', 'execution.enrolled', '2026-09-01 13:00', '2026-09-01 13:00', 'acc_b',
                    'wf_b', 1, 'x1', 'c3'),
                   ('b3', 'execution.enrolled', '2026-09-01 14:00', '2026-09-01 14:00', 'acc_b',
                    'wf_b', 1, 'x3', 'c4')""")
    assert migrate.migrate(url) == [m.version for m in migrate.available()
                                    if m.version >= "0008"]
    assert query(settings, "select event_id from raw.events order by 1") == [
        {"event_id": e} for e in ("a1", "a2", "b3")]
    rejected = query(settings, "select source_file, raw_line, reason from raw.events_rejected"
                               " order by reason")
    assert [(r["source_file"], json.loads(r["raw_line"])["event_id"], r["reason"])
            for r in rejected] == [
        ("migration:0008_tenancy", "b2", "execution_id 'x1' belongs to another account"),
        ("migration:0008_tenancy", "b1", "workflow_id 'wf_a' belongs to another account")]

    run_dbt(settings, "build")  # every model and test passes: the refresh goes on
    assert query(settings, "select account_id, workflow_id, execution_id, status"
                           " from marts.fct_executions order by execution_id") == [
        {"account_id": "acc_a", "workflow_id": "wf_a", "execution_id": "x1",
         "status": "completed"},
        {"account_id": "acc_b", "workflow_id": "wf_b", "execution_id": "x3", "status": "active"}]
