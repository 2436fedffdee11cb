"""A load killed in the middle (kill -9 of `wfa load`) leaves its batch with the counts of what
it stored, is marked failed at the next load, and loading the file again keeps every rejected
line once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson

from tests.helpers import execute, query

BAD_EVERY = 1_000  # one line in a thousand is not JSON


def _write(path: Path, count: int) -> Path:
    with open(path, "wb") as handle:
        for n in range(count):
            if n % BAD_EVERY == 0:
                handle.write(b"{broken line %d\n" % n)
                continue
            handle.write(orjson.dumps({
                "event_id": f"k_{n:07d}", "event_type": "execution.enrolled",
                "occurred_at": "2026-09-01T10:00:00Z", "account_id": "acc_k",
                "workflow_id": "wf_k", "workflow_version": 1, "execution_id": f"x_{n:07d}",
                "contact_id": "c"}) + b"\n")
    return path


def _load(settings, path: Path) -> subprocess.Popen:
    env = {**os.environ, "WFA_DATABASE_URL": settings.warehouse_url}
    return subprocess.Popen([str(Path(sys.executable).with_name("wfa")), "load", str(path)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_killed_load_is_marked_failed_and_a_reload_completes_it_once(warehouse, tmp_path):
    execute(warehouse, "truncate raw.events, raw.events_rejected, raw.load_batches")
    total = 300_000
    path = _write(tmp_path / "events.jsonl", total)
    bad = total // BAD_EVERY
    load = _load(warehouse, path)
    deadline = time.monotonic() + 120
    while not query(warehouse, "select 1 from raw.load_batches where loaded > 0"):
        assert time.monotonic() < deadline and load.poll() is None, load.stderr.read()
        time.sleep(0.02)
    os.kill(load.pid, signal.SIGKILL)
    load.wait(30)
    # a COMMIT the load sent just before it died still lands: wait for its sessions to end
    while query(warehouse, "select 1 from pg_stat_activity where datname = current_database()"
                           " and backend_type = 'client backend' and pid <> pg_backend_pid()"):
        assert time.monotonic() < deadline + 60, "the killed load's sessions did not end"
        time.sleep(0.05)

    # one statement, one snapshot
    (batch,) = query(warehouse, "select rows_read, loaded, duplicates, rejected, status,"
                                " (select count(*) from raw.events) as stored,"
                                " (select count(*) from raw.events_rejected) as kept"
                                " from raw.load_batches")
    stored, kept = batch["stored"], batch["kept"]
    assert 0 < stored < total - bad
    # the batch counts exactly what the killed load stored, and adds up
    assert (batch["loaded"], batch["rejected"]) == (stored, kept)
    assert batch["rows_read"] == batch["loaded"] + batch["duplicates"] + batch["rejected"]
    assert batch["status"] == "running"  # nobody knows yet

    again = _load(warehouse, path)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert (f"events: {total:,} rows read = {total - bad - stored:,} loaded + {stored:,}"
            f" duplicates + {bad:,} rejected") in out
    assert query(warehouse, "select status from raw.load_batches order by load_id") == [
        {"status": "failed"}, {"status": "done"}]
    assert query(warehouse, "select count(*) as n from raw.events")[0]["n"] == total - bad
    # each broken line kept once, with its line number
    assert query(warehouse, "select count(*) as n, count(distinct line_number) as lines,"
                            " min(line_number) as first from raw.events_rejected") == [
        {"n": bad, "lines": bad, "first": 1}]


def test_each_chunk_stores_its_rows_and_its_counts_in_one_transaction(warehouse, tmp_path):
    """What makes the batch's counts exact at any kill: triggers note the transaction of every
    insert into raw.events and of every update of the batch; each insert's transaction must
    also be one that counted it."""
    execute(warehouse, """
        truncate raw.events, raw.events_rejected, raw.load_batches;
        create table if not exists public.txn_seen (kind text, txid bigint);
        truncate public.txn_seen;
        create or replace function public.note_txn() returns trigger language plpgsql as $$
        begin insert into public.txn_seen values (tg_argv[0], txid_current()); return null; end
        $$;
        drop trigger if exists note_events on raw.events;
        create trigger note_events after insert on raw.events
            for each statement execute function public.note_txn('events');
        drop trigger if exists note_batches on raw.load_batches;
        create trigger note_batches after update on raw.load_batches
            for each statement execute function public.note_txn('batch');
    """)
    try:
        total = 120_000
        load = _load(warehouse, _write(tmp_path / "events.jsonl", total))
        out, err = load.communicate(timeout=300)
        assert load.returncode == 0, err
        (seen,) = query(warehouse, """
            select count(distinct txid) filter (where kind = 'events') as inserts,
                   count(distinct txid) filter (where kind = 'events' and txid not in (
                       select txid from public.txn_seen where kind = 'batch')) as uncounted
            from public.txn_seen""")
        assert seen["inserts"] > 1  # several chunks, so the check means something
        assert seen["uncounted"] == 0
    finally:
        execute(warehouse, "drop trigger note_events on raw.events;"
                           " drop trigger note_batches on raw.load_batches;"
                           " drop table public.txn_seen; drop function public.note_txn()")
