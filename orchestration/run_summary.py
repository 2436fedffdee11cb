"""`wfa run`: execute a job in process against the Dagster instance and summarise it."""

from __future__ import annotations

import time
from collections.abc import Callable

import dagster as dg


def run_job(job_name: str, echo: Callable[[str], None] = print,
            tags: dict[str, str] | None = None) -> bool:
    """Run the job in process; a refresh job over the days new events touched unless `tags`
    name the partitions. True unless a step or an error-level check failed: a warn-level check
    (the ingestion checks of raw/events, a dbt test of severity warn) is reported, not failed."""
    from orchestration.definitions import build_definitions
    from orchestration.defs.jobs import refresh_tags
    from orchestration.partitions import RANGE_END, RANGE_START
    from orchestration.stale_runs import fail_orphaned_runs, process_tags

    job = build_definitions().resolve_job_def(job_name)
    if tags is None and job.partitions_def is not None:
        tags = refresh_tags()
    if tags:
        echo(f"partitions {tags.get(RANGE_START)} to {tags.get(RANGE_END)}")
    started = time.monotonic()
    with dg.DagsterInstance.get() as instance:
        pool_storage_connections(instance)
        fail_orphaned_runs(instance, echo)
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, tags={**(tags or {}), **process_tags()},
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}})
    seconds = time.monotonic() - started
    materialised = [e.asset_key.to_user_string() for e in result.get_asset_materialization_events()]
    evaluations = [e.event_specific_data for e in result.all_events
                   if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION]
    failed = [ev for ev in evaluations if not ev.passed]
    warned = [ev for ev in failed if ev.severity == dg.AssetCheckSeverity.WARN]
    errors = [ev for ev in failed if ev.severity != dg.AssetCheckSeverity.WARN]
    ok = result.success and not errors
    outcome = "FAILED" if not ok else \
        f"succeeded with {len(warned)} warning(s)" if warned else "succeeded"
    echo(f"run {result.run_id}: {outcome} in {seconds:.1f} s")
    echo(f"  assets materialised: {len(materialised)}")
    echo(f"  checks: {len(evaluations) - len(failed)} passed, {len(errors)} failed, "
         f"{len(warned)} warned")
    for ev in errors:
        echo(f"    failed check: {_name(ev)}")
    for ev in warned:
        echo(f"    warning: {_name(ev)} (a warn-level check: it does not fail the run)")
    _report_quarantine(echo)
    if not result.success:
        for event in result.all_events:
            if event.event_type == dg.DagsterEventType.STEP_FAILURE:
                echo(f"  step failed: {event.step_key}: {event.event_specific_data.error.message[:2000]}")
    return ok


def _report_quarantine(echo: Callable[[str], None]) -> None:
    from quality.quarantine import current
    from warehouse.settings import get_settings

    for entry in current(get_settings().warehouse_url):
        echo(f"  quarantined: account {entry.account_id or '(none)'} fails "
             f"{', '.join(entry.checks)} (failing rows: {entry.failing_rows}); the others were refreshed")


def _name(evaluation) -> str:
    return f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"


def pool_storage_connections(instance: dg.DagsterInstance) -> None:
    """Reuse Dagster's storage connections for the whole run.

    Outside the webserver, dagster-postgres opens a new connection for every event it stores;
    a first build stores a planned and a materialisation event per asset and daily partition
    (thousands), and connecting took about as long as storing. The webserver's setting is a pool
    instead (no statement timeout here: 0)."""
    instance.optimize_for_webserver(statement_timeout=0, pool_recycle=3600, max_overflow=10)
