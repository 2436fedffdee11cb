"""Incremental refreshes equal a full refresh over the same raw events, whatever order and
grouping the events arrive in.

Two warehouses receive the same batches of the sample data: random batches, days out of order,
events arriving a batch or more late, duplicates re-sent in later batches. After each batch the
first is refreshed incrementally (the window planned from the events received since its last
refresh), the second rebuilt from scratch; every mart and incremental intermediate must then be
identical, row for row.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import psycopg
import pytest

from tests.conftest import make_database
from tests.helpers import query, run_dbt
from warehouse import incremental
from warehouse.ingestion import load_files

TABLES = [
    "marts.fct_executions", "marts.fct_workflow_daily", "marts.fct_workflow_step_daily",
    "marts.fct_action_daily", "marts.fct_executions_hourly", "marts.fct_errors_daily",
    "marts.fct_cost_daily", "marts.fct_user_activity_daily", "marts.fct_retention_cohorts",
    "marts.dim_accounts", "marts.dim_workflows", "marts.dim_workflow_steps",
    "intermediate.int_executions_summarised", "intermediate.int_step_outcomes_extracted",
    "intermediate.int_step_outcomes_aggregated", "intermediate.int_step_entries",
    "intermediate.int_step_entries_aggregated",
    "intermediate.int_user_sessions_summarised", "intermediate.int_retention_member_days",
    "intermediate.int_retention_counts",
]
REFERENCE = ("accounts", "users", "workflows", "workflow_steps", "experiments")


def table_rows(settings, table: str) -> list[tuple]:
    """Every row, in a canonical order (by their text), values as text: equal means identical.
    received_at (when an event was loaded: each warehouse loaded it at its own time) is left
    out."""
    with psycopg.connect(settings.warehouse_url) as conn:
        rows = conn.execute(f"select (to_jsonb(t) - 'received_at')::text from {table} as t"
                            f" order by 1").fetchall()
    return [row[0] for row in rows]


def assert_same_marts(incremental_wh, full_wh, when: str) -> None:
    for table in TABLES:
        got, expected = table_rows(incremental_wh, table), table_rows(full_wh, table)
        assert expected, f"{table} is empty {when}"
        if got != expected:
            missing = sorted(set(expected) - set(got))[:5]
            extra = sorted(set(got) - set(expected))[:5]
            pytest.fail(f"{table} differs from a full refresh {when}: {len(got)} rows against "
                        f"{len(expected)}; missing {missing}; unexpected {extra}")


def shuffled_batches(sample: Path, batches: int, seed: int) -> list[list[str]]:
    """The sample's event lines (in arrival-day files) cut into batches by arrival, then
    scrambled: 10% of the lines arrive one to three batches late, 5% are sent again in a later
    batch, and each batch is shuffled."""
    rng = random.Random(seed)
    files = sorted((sample / "events").iterdir())
    lines = [line for path in files for line in path.read_text().splitlines() if line.strip()]
    size = len(lines) // batches + 1
    cut = [lines[i * size:(i + 1) * size] for i in range(batches)]
    out: list[list[str]] = [[] for _ in range(batches)]
    for index, batch in enumerate(cut):
        for line in batch:
            late = rng.random() < 0.10 and index < batches - 1
            target = min(batches - 1, index + rng.randint(1, 3)) if late else index
            out[target].append(line)
            if rng.random() < 0.05:
                out[rng.randint(target, batches - 1)].append(line)
    for batch in out:
        rng.shuffle(batch)
    return out


@pytest.fixture(scope="module")
def pair(pg_server_url, tmp_path_factory):
    from warehouse.sample_data import generate

    sample = tmp_path_factory.mktemp("sample")
    generate(sample, events=6000, days=24, seed=11)
    warehouses = [make_database(pg_server_url, "incr_a"), make_database(pg_server_url, "incr_b")]
    for settings in warehouses:
        for table in REFERENCE:
            load_files(settings.warehouse_url, [sample / f"{table}.jsonl"], table)
    yield sample, warehouses
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        for settings in warehouses:
            conn.execute(f'drop database if exists "{settings.warehouse_name}" with (force)')


def refresh_incrementally(settings, overlap_seconds: int = 0) -> incremental.Window | None:
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        window = incremental.plan(conn, overlap_seconds=overlap_seconds)
    if window is None:
        return None
    # as the platform runs it: the window in the environment, not in --vars
    run_dbt(settings, "run", env=incremental.dbt_environment(window.dbt_vars()))
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        incremental.record(conn, window)
    return window


def test_incremental_refreshes_equal_a_full_refresh_after_every_batch(pair, tmp_path):
    sample, (incremental_wh, full_wh) = pair
    batches = shuffled_batches(sample, batches=4, seed=5)
    windows = []
    for number, batch in enumerate(batches, 1):
        path = tmp_path / f"batch_{number}.jsonl"
        path.write_text("\n".join(batch) + "\n")
        for settings in (incremental_wh, full_wh):
            (result,) = load_files(settings.warehouse_url, [path])
            assert result.loaded + result.duplicates + result.rejected == result.rows_read
        # as the sensor does, on even batches: re-read the events of the last hour too (every
        # earlier batch here), which a refresh must replace, never count twice
        windows.append(refresh_incrementally(incremental_wh, 3600 if number % 2 == 0 else 0))
        run_dbt(full_wh, "run", "--full-refresh")
        assert_same_marts(incremental_wh, full_wh, f"after batch {number}")

    # the first refresh built everything; later ones recomputed a window of days, which late
    # events pulled back before the newest day
    assert windows[0].first_build
    assert all(not window.first_build for window in windows[1:])
    last_day = query(full_wh, "select max(occurred_at at time zone 'UTC')::date as day "
                              "from raw.events")[0]["day"]
    assert all(window.end == last_day or window.end < last_day for window in windows[1:])
    assert any(window.start < window.end for window in windows[1:])

    # nothing new: nothing to do
    assert refresh_incrementally(incremental_wh) is None


def test_a_late_event_lands_in_its_own_day(pair, tmp_path):
    """An execution enrolled long ago whose goal arrives now: its enrolment day's cohort and
    the day the goal occurred both change, and nothing else."""
    _, (incremental_wh, full_wh) = pair
    target = query(incremental_wh, """
        select execution_id, account_id, workflow_id, workflow_version, enrolled_at
        from marts.fct_executions
        where status = 'active' and enrolled_at is not null
        order by enrolled_at limit 1""")[0]
    late = {
        "event_id": "late-goal-1", "event_type": "goal.achieved",
        "occurred_at": (target["enrolled_at"].replace(microsecond=0)).isoformat(),
        "account_id": target["account_id"], "workflow_id": target["workflow_id"],
        "workflow_version": target["workflow_version"], "execution_id": target["execution_id"],
        "properties": {"goal_id": "g", "value_usd": 12.5},
    }
    path = tmp_path / "late.jsonl"
    path.write_text(json.dumps(late) + "\n")
    for settings in (incremental_wh, full_wh):
        (result,) = load_files(settings.warehouse_url, [path])
        assert result.loaded == 1
    window = refresh_incrementally(incremental_wh)
    run_dbt(full_wh, "run", "--full-refresh")
    assert window.start == target["enrolled_at"].date()
    assert_same_marts(incremental_wh, full_wh, "after a late goal")
    (row,) = query(incremental_wh, "select status, goal_value_usd from marts.fct_executions "
                                   "where execution_id = %s", (target["execution_id"],))
    assert row["status"] == "goal_achieved" and float(row["goal_value_usd"]) == 12.5


def step_completion(entry: dict, event_id: str, duration_ms: float) -> dict:
    """A step.completed, a minute after the unfinished step `entry` (int_step_entries) began."""
    return {
        "event_id": event_id, "event_type": "step.completed",
        "occurred_at": (entry["entered_at"].replace(microsecond=0)).isoformat(),
        "account_id": entry["account_id"], "workflow_id": entry["workflow_id"],
        "workflow_version": entry["workflow_version"], "execution_id": entry["execution_id"],
        "step_id": entry["step_id"],
        "properties": {"duration_ms": duration_ms, "credits": 1, "cost_usd": 0.004},
    }


def unfinished_steps(settings, limit: int) -> list[dict]:
    """Execution steps entered but neither completed nor failed, on different days."""
    return query(settings, """
        select distinct on (entries.date) entries.execution_id, entries.step_id,
            entries.account_id, entries.workflow_id, entries.workflow_version, entries.date,
            (entries.date::timestamp at time zone 'UTC') + interval '12 hours' as entered_at
        from intermediate.int_step_entries as entries
        where entries.flags = 0
        order by entries.date, entries.execution_id, entries.step_id
        limit %s""", (limit,))


def test_funnel_counts_kept_by_difference_survive_partial_runs_and_backfills(pair, tmp_path):
    """int_step_entries_aggregated adds up the changes int_step_entries logs. Changes logged by
    a run of int_step_entries alone are added by the next run that counts; a backfill of other
    days re-counts its own days and still adds the changes logged for the rest."""
    _, (incremental_wh, full_wh) = pair
    first, second, third = unfinished_steps(incremental_wh, 3)

    def load(events: list[dict], name: str) -> None:
        path = tmp_path / name
        path.write_text("".join(json.dumps(event) + "\n" for event in events))
        for settings in (incremental_wh, full_wh):
            (result,) = load_files(settings.warehouse_url, [path])
            assert result.loaded == len(events)

    def counted(entry: dict) -> list[tuple]:
        return [(row["unfinished"], row["step_executions"]) for row in query(incremental_wh, """
            select unfinished_execution_id is not null as unfinished, step_executions
            from intermediate.int_step_entries_aggregated
            where step_id = %s and date = %s and has_completed
                and (unfinished_execution_id is null or unfinished_execution_id = %s)""",
            (entry["step_id"], entry["date"], entry["execution_id"]))]

    # 1. a run of int_step_entries alone: logged, not yet counted
    load([step_completion(first, "log-1", 1500.25)], "log_1.jsonl")
    with psycopg.connect(incremental_wh.warehouse_url, autocommit=True) as conn:
        window = incremental.plan(conn, overlap_seconds=0)
    run_dbt(incremental_wh, "run", "-s", "int_step_entries",
            env=incremental.dbt_environment(window.dbt_vars()))
    (logged,) = query(incremental_wh, "select count(*) filter (where change = 1) as added,"
                      " count(*) filter (where change = -1) as removed"
                      " from intermediate.int_step_entries_changes")
    assert (logged["added"], logged["removed"]) == (1, 1)
    before = counted(first)

    # 2. the next run counts both its own changes and those logged before
    load([step_completion(second, "log-2", 250)], "log_2.jsonl")
    assert refresh_incrementally(incremental_wh) is not None
    run_dbt(full_wh, "run", "--full-refresh")
    assert_same_marts(incremental_wh, full_wh, "after a run of int_step_entries alone")
    grouped_before = sum(n for unfinished, n in before if not unfinished)
    assert sum(n for unfinished, n in counted(first) if not unfinished) == grouped_before + 1
    assert query(incremental_wh, "select count(*) as n from "
                 "intermediate.int_step_entries_changes")[0]["n"] == 0

    # 3. logged for one day, then a backfill of another day only: it re-counts its own day and
    # adds the change logged for the other (the refresh that follows, as the sensor would
    # start it, rewrites that day's execution step as it was: a change of nothing)
    load([step_completion(third, "log-3", 75)], "log_3.jsonl")
    with psycopg.connect(incremental_wh.warehouse_url, autocommit=True) as conn:
        window = incremental.plan(conn, overlap_seconds=0)
    run_dbt(incremental_wh, "run", "-s", "int_step_entries",
            env=incremental.dbt_environment(window.dbt_vars()))
    grouped_before = sum(n for unfinished, n in counted(third) if not unfinished)
    day = first["date"].isoformat()
    run_dbt(incremental_wh, "run", env=incremental.dbt_environment(
        {"wfa_window_start": day, "wfa_window_end": day}))
    assert sum(n for unfinished, n in counted(third) if not unfinished) == grouped_before + 1
    assert refresh_incrementally(incremental_wh) is not None
    run_dbt(full_wh, "run", "--full-refresh")
    assert_same_marts(incremental_wh, full_wh, "after a backfill of another day")


def test_a_backfill_keeps_an_execution_whose_days_hold_only_its_step_events(pair, tmp_path):
    """A backfill re-reads every execution with an event in its days, also one that enrolled and
    ended before them and has only a step event there: its row keeps its enrolment and status."""
    _, (incremental_wh, full_wh) = pair
    (entry,) = query(incremental_wh, """
        select steps.execution_id, steps.account_id, steps.workflow_id, steps.workflow_version,
            steps.step_id, executions.last_event_at + interval '2 days' as entered_at
        from intermediate.int_step_entries as steps
        inner join intermediate.int_executions_summarised as executions using (execution_id)
        where executions.status = 'completed'
        order by executions.enrolled_at, steps.execution_id, steps.step_id
        limit 1""")
    # the step's completion sent again two days later, under a new event id
    path = tmp_path / "resent.jsonl"
    path.write_text(json.dumps(step_completion(entry, "resent-step-1", 500)) + "\n")
    for settings in (incremental_wh, full_wh):
        (result,) = load_files(settings.warehouse_url, [path])
        assert result.loaded == 1
    assert refresh_incrementally(incremental_wh) is not None
    run_dbt(full_wh, "run", "--full-refresh")
    assert_same_marts(incremental_wh, full_wh, "after a step event resent two days later")

    day = entry["entered_at"].date().isoformat()
    run_dbt(incremental_wh, "run", env=incremental.dbt_environment(
        {"wfa_window_start": day, "wfa_window_end": day}))
    assert_same_marts(incremental_wh, full_wh, "after a backfill of the resent event's day")
    (row,) = query(incremental_wh, "select status, enrolled_at is not null as enrolled"
                                   " from marts.fct_executions where execution_id = %s",
                   (entry["execution_id"],))
    assert row == {"status": "completed", "enrolled": True}


def test_a_redated_enrolment_moves_its_retention_day(pair, tmp_path):
    """The retention models follow the executions int_executions_summarised logs: an enrolment
    that turns out a day earlier (a second execution.enrolled, out of order) takes its
    contact's only active day away and gives it the day before."""
    _, (incremental_wh, full_wh) = pair
    # a contact enrolled once on its day, by an execution with enrolment details
    target = query(incremental_wh, """
        select executions.execution_id, executions.account_id, executions.workflow_id,
            executions.workflow_version, executions.contact_id, executions.enrollment_source,
            executions.trigger_type, executions.enrolled_at, days.date
        from intermediate.int_retention_member_days as days
        inner join marts.fct_executions as executions
            on executions.contact_id = days.member_id
            and executions.account_id = days.account_id
            and (executions.enrolled_at at time zone 'UTC')::date = days.date
        where days.cohort_type = 'contact' and days.occurrences = 1
            and executions.trigger_type is not null
            and not exists (
                select 1 from intermediate.int_retention_member_days as earlier
                where earlier.cohort_type = 'contact' and earlier.member_id = days.member_id
                    and earlier.account_id = days.account_id
                    and earlier.date = days.date - 1)
        order by days.date desc, executions.execution_id limit 1""")[0]
    earlier = target["enrolled_at"] - dt.timedelta(days=1)
    event = {
        "event_id": "redated-enrolment-1", "event_type": "execution.enrolled",
        "occurred_at": earlier.replace(microsecond=0).isoformat(),
        "account_id": target["account_id"], "workflow_id": target["workflow_id"],
        "workflow_version": target["workflow_version"], "execution_id": target["execution_id"],
        "contact_id": target["contact_id"],
        "properties": {"enrollment_source": target["enrollment_source"],
                       "trigger_type": target["trigger_type"]},
    }
    path = tmp_path / "redated.jsonl"
    path.write_text(json.dumps(event) + "\n")
    for settings in (incremental_wh, full_wh):
        (result,) = load_files(settings.warehouse_url, [path])
        assert result.loaded == 1

    def contact_days() -> list:
        return [row["date"] for row in query(incremental_wh, """
            select date from intermediate.int_retention_member_days
            where cohort_type = 'contact' and member_id = %s and account_id = %s
                and date between %s and %s order by date""",
            (target["contact_id"], target["account_id"],
             target["date"] - dt.timedelta(days=1), target["date"]))]

    assert contact_days() == [target["date"]]
    assert refresh_incrementally(incremental_wh) is not None
    run_dbt(full_wh, "run", "--full-refresh")
    assert contact_days() == [target["date"] - dt.timedelta(days=1)]
    assert_same_marts(incremental_wh, full_wh, "after a re-dated enrolment")
    # the executions' logs are emptied by the models that add them up
    for log in ("int_executions_changes_hourly", "int_executions_changes_retention"):
        assert query(incremental_wh, f"select count(*) as n from intermediate.{log}")[0]["n"] == 0
