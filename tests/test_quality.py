"""The quality suites on a real pipeline's output: all pass; each kind of expectation fails on
a deliberately corrupted mart, and only the expectations that should.

The marts are built once per module from small generated data; each corruption is undone by
restoring the mart from a pristine copy.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from quality.ingestion import recent_loads, unknown_references
from quality.rules import MARTS
from quality.runner import Limits, validate_marts
from quality.window import Window
from tests.helpers import execute, query, run_dbt
from warehouse.ingestion import load_files

pytestmark = pytest.mark.db

REFERENCE = ("accounts", "users", "workflows", "workflow_steps", "experiments")
LINEAR = "in a linear workflow, entered at step k+1 <= completed at step k"


@pytest.fixture(scope="module")
def built(warehouse, tmp_path_factory):
    from warehouse.sample_data import generate

    folder = tmp_path_factory.mktemp("sample")
    generate(folder, events=3000, days=20, seed=5)
    for table in REFERENCE:
        load_files(warehouse.warehouse_url, [folder / f"{table}.jsonl"], table)
    load_files(warehouse.warehouse_url, [folder / "events"])
    run_dbt(warehouse, "run")
    execute(warehouse, "create schema pristine")
    for mart in MARTS:
        execute(warehouse, f"create table pristine.{mart} as select * from marts.{mart}")
    return warehouse


def restore(settings, mart: str) -> None:
    execute(settings, f"truncate marts.{mart}; insert into marts.{mart} select * from pristine.{mart}")


def failing(settings, mart: str, **options) -> set[tuple[str, str]]:
    (result,) = validate_marts(settings.warehouse_url, [mart], record=False, **options)
    return {(f.kind, f.target) for f in result.failures}


def first_row(table: str, where: str) -> str:
    """A predicate on ctid matching one row (ctid is stable until the row is updated)."""
    return f"ctid = (select ctid from marts.{table} where {where} limit 1)"


def test_every_suite_passes_on_the_pipeline_output_and_covers_every_kind(built, tmp_path):
    results = validate_marts(built.warehouse_url, docs_dir=tmp_path / "docs")
    assert [r.mart for r in results] == list(MARTS)
    assert [r.mart for r in results if not r.success] == []
    for result in results:
        assert result.row_count == query(built, f"select count(*) as n from marts.{result.mart}")[0]["n"]
        assert result.row_count > 0
        assert result.previous_row_count is None  # the first run sets the baseline
    assert (tmp_path / "docs" / "index.html").exists()
    assert all(r.docs_url.startswith("file://") and r.mart in r.docs_url for r in results)

    from quality.raw_totals import RawTotals
    from quality.suites import build_suite
    totals = RawTotals(built.warehouse_url, Window())
    for mart in MARTS:
        kinds = {e.meta["kind"] for e in build_suite(mart, totals, previous_row_count=10).expectations}
        assert {"schema", "keys", "range", "reconciliation", "row_count"} <= kinds, mart


def test_the_second_run_bounds_the_row_count_by_the_first(built):
    (result,) = validate_marts(built.warehouse_url, ["fct_cost_daily"])
    assert result.success
    assert result.previous_row_count == result.row_count
    assert result.evaluated == validate_marts(
        built.warehouse_url, ["fct_cost_daily"], record=False)[0].evaluated


CASES = {
    "a count off by one": (
        "fct_workflow_daily",
        "update marts.fct_workflow_daily set completed = completed + 1 where {row}",
        "completed > 0",
        {("reconciliation", "enrolments, completions, conversions, failures, exits, credits, "
                            "cost_usd equal raw.events (all days)")}),
    "a cost off by one cent": (
        "fct_cost_daily",
        "update marts.fct_cost_daily set cost_usd = cost_usd + 0.01 where {row}",
        "cost_usd > 0",
        {("reconciliation", "credits, cost_usd equal raw.events (all days)")}),
    "a duplicated key": (
        "fct_workflow_daily",
        "insert into marts.fct_workflow_daily select * from marts.fct_workflow_daily where {row}",
        "new_enrollments = 0 and completed = 0 and goals_achieved = 0 and failed = 0"
        " and exited = 0 and credits = 0 and cost_usd = 0",
        {("keys", "one row per (account_id, workflow_id, date)")}),
    "a null key": (
        "fct_executions",
        "update marts.fct_executions set execution_id = null where {row}",
        "true",
        {("keys", "execution_id")}),
    "a rate of 101": (
        "fct_action_daily",
        "update marts.fct_action_daily set success_rate = 101 where {row}",
        "success_rate is not null",
        {("range", "success_rate")}),
    "a negative count": (
        "fct_errors_daily",
        "update marts.fct_errors_daily set affected_executions = -1 where {row}",
        "true",
        {("range", "affected_executions")}),
    "a p50 above the p95": (
        "fct_workflow_daily",
        "update marts.fct_workflow_daily set p50_duration_seconds = p95_duration_seconds + 1"
        " where {row}",
        "p95_duration_seconds is not null",
        {("range", "p95_duration_seconds, p50_duration_seconds")}),
    "a step with more completions than entries": (
        "fct_workflow_step_daily",
        "update marts.fct_workflow_step_daily set completed = entered + 1 where {row}",
        "entered > 0 and completed = entered",
        {("consistency", "completed <= entered and failed <= entered"),
         ("consistency", "entered = completed + in_progress + converted + dropped_off"),
         ("reconciliation", "step_entries, step_completions, step_failures, credits, cost_usd "
                            "equal raw.events (all days)")}),
    "a workflow's month that its account's month does not include": (
        "fct_monthly_summary",
        "update marts.fct_monthly_summary set conversions = conversions + 1 where {row}",
        "workflow_id is not null",
        {("consistency", "an account's month is the sum of its workflows' months")}),
    "an account's month off by one enrolment": (
        "fct_monthly_summary",
        "update marts.fct_monthly_summary set enrollments = enrollments + 1 where {row}",
        "workflow_id is null",
        {("consistency", "an account's month is the sum of its workflows' months"),
         ("reconciliation", "enrolments, completions, conversions, credits, cost_usd equal"
                            " raw.events (all days)")}),
    "a cohort that does not add up": (
        "fct_retention_cohorts",
        "update marts.fct_retention_cohorts set retained = cohort_size + 1,"
        " retained_unbounded = cohort_size + 1 where {row}",
        "period_number = 1",
        {("consistency", "retained <= retained_unbounded <= cohort_size")}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_expectation_fails_on_a_corrupted_mart(built, case):
    mart, corruption, where, expected = CASES[case]
    assert failing(built, mart) == set()
    execute(built, corruption.format(row=first_row(mart, where)))
    try:
        assert failing(built, mart) == expected
    finally:
        restore(built, mart)


def test_a_sub_cent_difference_passes_and_a_cent_fails(built):
    row = first_row("fct_cost_daily", "cost_usd > 0")
    execute(built, f"update marts.fct_cost_daily set cost_usd = cost_usd + 0.004 where {row}")
    try:
        assert failing(built, "fct_cost_daily") == set()
    finally:
        restore(built, "fct_cost_daily")


def test_the_schema_must_match_the_contract(built):
    execute(built, "alter table marts.dim_accounts add column extra integer")
    try:
        assert failing(built, "dim_accounts") == {("schema", "the columns of the dbt contract")}
    finally:
        execute(built, "alter table marts.dim_accounts drop column extra")
    execute(built, "alter table marts.dim_accounts alter column users type integer")
    try:
        assert failing(built, "dim_accounts") == {("schema", "users")}
    finally:
        execute(built, "alter table marts.dim_accounts alter column users type bigint")


def test_the_linear_funnel_holds_step_by_step(built):
    """The generated workflows all branch, so a linear version is added by hand; its rows add
    to the totals, so reconciliation fails too, and the funnel order only when it is broken."""
    def add_version(second_step_entered: int) -> None:
        execute(built, """
            insert into marts.fct_workflow_step_daily (account_id, workflow_id, workflow_version,
                step_id, date, step_order, step_type, entered, completed, failed, in_progress,
                converted, dropped_off, skipped, credits, cost_usd)
            values ('acc_x', 'wf_linear', 1, 's1', date '2026-08-02', 1, 'action', 5, 3, 0, 0, 0, 2, 0, 0, 0),
                   ('acc_x', 'wf_linear', 1, 's2', date '2026-08-02', 2, 'action', %s, 1, 0, 0, 0, %s, 0, 0, 0)
        """, (second_step_entered, second_step_entered - 1))

    reconciliation = ("reconciliation", "step_entries, step_completions, step_failures, credits, "
                                        "cost_usd equal raw.events (all days)")
    add_version(3)
    try:
        assert failing(built, "fct_workflow_step_daily") == {reconciliation}
    finally:
        restore(built, "fct_workflow_step_daily")
    add_version(4)
    try:
        assert failing(built, "fct_workflow_step_daily") == {reconciliation, ("consistency", LINEAR)}
    finally:
        restore(built, "fct_workflow_step_daily")


def test_the_row_count_moves_within_bounds_of_the_previous_passing_run(built):
    count = query(built, "select count(*) as n from marts.fct_user_activity_daily")[0]["n"]
    execute(built, "insert into quality.mart_row_counts (mart, row_count, passed) values"
                   " ('fct_user_activity_daily', %s, true)", (count * 2,))
    doubled = {("row_count", f"row count within bounds of the previous passing check ({count * 2})")}
    assert failing(built, "fct_user_activity_daily") == doubled
    assert failing(built, "fct_user_activity_daily", limits=Limits(max_drop_pct=60)) == set()
    # a failed run is no baseline: the bad count recorded below does not move the bounds
    execute(built, "insert into quality.mart_row_counts (mart, row_count, passed) values"
                   " ('fct_user_activity_daily', %s, false)", (count,))
    assert failing(built, "fct_user_activity_daily") == doubled
    execute(built, "insert into quality.mart_row_counts (mart, row_count, passed) values"
                   " ('fct_user_activity_daily', %s, true)", (count,))
    assert failing(built, "fct_user_activity_daily") == set()


def test_reconciliation_covers_only_its_window(built):
    day = query(built, "select min(date) as d from marts.fct_cost_daily where cost_usd > 0")[0]["d"]
    row = first_row("fct_cost_daily", f"cost_usd > 0 and date = date '{day}'")
    execute(built, f"update marts.fct_cost_daily set cost_usd = cost_usd + 1 where {row}")
    after = Window(day + dt.timedelta(days=1), None)
    inside = Window(day, day)
    try:
        assert failing(built, "fct_cost_daily", window=after) == set()
        assert failing(built, "fct_cost_daily", window=inside) == {
            ("reconciliation", f"credits, cost_usd equal raw.events ({day} to {day})")}
    finally:
        restore(built, "fct_cost_daily")


def test_an_unknown_mart_is_refused(built):
    with pytest.raises(ValueError, match="no suite for fct_nope"):
        validate_marts(built.warehouse_url, ["fct_nope"])


def test_ingestion_quality_reports_rejections_and_unknown_references(built, tmp_path):
    from quality.raw_totals import RawTotals

    before = unknown_references(built.warehouse_url, 24)
    assert (before.unknown_account, before.unknown_workflow) == (0, 0)
    actions = RawTotals(built.warehouse_url, Window())["actions"]  # kept in the cache
    good = {"event_type": "user.activity", "occurred_at": "2026-08-03T10:00:00Z",
            "account_id": "acc_nobody", "user_id": "u_x",
            "properties": {"session_id": "s", "action": "login", "resource": "r", "duration_ms": 5}}
    lines = [json.dumps({**good, "event_id": "q1"}),
             json.dumps({**good, "event_id": "q2", "event_type": "execution.enrolled",
                         "workflow_id": "wf_nobody", "workflow_version": 1, "execution_id": "x_q2",
                         "contact_id": "c", "properties": {"enrollment_source": "api"}}),
             "not json", json.dumps({**good, "event_id": "q3", "event_type": "no.such.type"})]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    load_files(built.warehouse_url, [path])
    try:
        check_ingestion(built, before)
        # the cached raw totals follow raw.events: the new user.activity is counted
        assert RawTotals(built.warehouse_url, Window())["actions"] == actions + 1
    finally:  # the marts were not rebuilt: the next tests need raw.events as they were
        execute(built, "delete from raw.events where event_id in ('q1', 'q2')")


def check_ingestion(built, before) -> None:
    worst = recent_loads(built.warehouse_url, 24)[0]
    assert (worst.source_file.endswith("mixed.jsonl"), worst.rows_read, worst.rejected) == (True, 4, 2)
    assert worst.rejected_pct == 50.0
    after = unknown_references(built.warehouse_url, 24)
    assert (after.unknown_account, after.unknown_workflow) == (2, 1)
    assert after.events == before.events + 2
    assert (after.sample_accounts, after.sample_workflows) == (["acc_nobody"], ["wf_nobody"])


def test_wfa_check_prints_the_table_and_exits_non_zero_on_a_failure(built, tmp_path):
    from click.testing import CliRunner

    from cli.main import main

    env = {"WFA_DATABASE_URL": built.warehouse_url, "WFA_HOME": str(tmp_path)}
    done = CliRunner().invoke(main, ["check"], env=env)
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0].split() == ["mart", "result", "run", "failed", "rows", "seconds"]
    assert len(MARTS) == 13
    assert [line.split()[:2] for line in lines[1:14]] == [[mart, "ok"] for mart in MARTS]
    assert f"13 of 13 suites passed. Data Docs: {(tmp_path / 'data_docs' / 'index.html').as_uri()}" \
        in done.output

    execute(built, "update marts.fct_action_daily set error_rate = 101 where "
            + first_row("fct_action_daily", "error_rate is not null"))
    try:
        done = CliRunner().invoke(main, ["check", "--mart", "fct_action_daily"], env=env)
    finally:
        restore(built, "fct_action_daily")
    assert done.exit_code == 1
    assert done.output.splitlines()[1].split()[:4] == ["fct_action_daily", "FAIL", "31", "1"]
    assert "fct_action_daily: [range] expect_column_values_to_be_between error_rate: ['101']" \
        in done.output
    assert "0 of 1 suites passed; failed: fct_action_daily" in done.output
