"""`wfa`: the operator's command line."""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

import click

from orchestration.settings import PROJECT_DIR, Settings, get_settings

REFERENCE_LOAD_ORDER = ("accounts", "users", "workflows", "workflow_steps", "experiments")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """workflow-analytics: warehouse, ingestion, pipeline and UI."""


# --- wfa db ---------------------------------------------------------------------------------

@main.group()
def db() -> None:
    """The warehouse: embedded PostgreSQL by default, or WFA_DATABASE_URL."""


@db.command("up")
@click.option("--port", type=int, help="Port of the embedded server (default 54329, or WFA_PORT).")
def db_up(port: int | None) -> None:
    """Start the embedded server (harmless if running), create databases, apply migrations."""
    from orchestration.runtime import ensure_warehouse

    settings = Settings(port=port) if port else get_settings()
    applied = ensure_warehouse(settings)
    where = "embedded server" if settings.embedded else "external server"
    click.echo(f"warehouse ready ({where}): {settings.warehouse_url}")
    if applied:
        click.echo(f"applied migrations: {', '.join(applied)}")


@db.command("down")
def db_down() -> None:
    """Stop the embedded server."""
    from orchestration import warehouse

    settings = get_settings()
    if not settings.embedded:
        raise click.ClickException("WFA_DATABASE_URL is set: the external server is not ours to stop")
    click.echo(warehouse.stop(settings).detail)


@db.command("url")
@click.option("--dagster", is_flag=True, help="Print the URL of Dagster's database instead.")
def db_url(dagster: bool) -> None:
    """Print the connection URL."""
    settings = get_settings()
    click.echo(settings.dagster_url if dagster else settings.warehouse_url)


@db.command("status")
def db_status() -> None:
    """Tell whether the embedded server runs."""
    from orchestration import warehouse

    settings = get_settings()
    if not settings.embedded:
        click.echo(f"external server: {settings.warehouse_url}")
        return
    click.echo(warehouse.status(settings).detail)


@db.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations of the raw layer."""
    from orchestration import migrate

    applied = migrate.migrate(get_settings().warehouse_url)
    click.echo(f"applied: {', '.join(applied)}" if applied else "up to date")


@db.command("grant-bi")
@click.option("--role", default="wfa_bi", show_default=True, help="Name of the read-only role.")
@click.option("--password", envvar="WFA_BI_PASSWORD", default=None,
              help="Its password (or WFA_BI_PASSWORD); without one it can only log in locally "
                   "where the server trusts it.")
def db_grant_bi(role: str, password: str | None) -> None:
    """Create (or update) a login role for BI tools that reads schema marts and nothing else."""
    from orchestration.bi_role import grant_bi
    from orchestration.runtime import ensure_warehouse

    settings = get_settings()
    ensure_warehouse(settings)
    grant_bi(settings.warehouse_url, role, password)
    click.echo(f"role {role} can read schema marts (current and future tables) and nothing else")


# --- wfa apikey -----------------------------------------------------------------------------

@main.group()
def apikey() -> None:
    """API keys of the HTTP API: one account, a role and scopes each; stored hashed."""


@apikey.command("create")
@click.option("--account", required=True, help="The account the key reads and writes.")
@click.option("--role", type=click.Choice(["viewer", "admin"]), default="viewer", show_default=True)
@click.option("--scope", "scopes", multiple=True, type=click.Choice(["read", "ingest"]),
              help="read and/or ingest (repeat; default: read, plus ingest for admin).")
def apikey_create(account: str, role: str, scopes: tuple[str, ...]) -> None:
    """Create a key and print it once: it is not stored, only its hash."""
    from api.keys import create_key
    from orchestration.runtime import ensure_warehouse

    settings = get_settings()
    ensure_warehouse(settings)
    chosen = list(scopes) or (["read", "ingest"] if role == "admin" else ["read"])
    key_id, key = create_key(settings.warehouse_url, account, role, chosen)
    click.echo(key)
    click.echo(f"key id {key_id}: account {account}, role {role}, scopes {','.join(chosen)}"
               " (the key is shown only now)", err=True)


@apikey.command("revoke")
@click.argument("key")
def apikey_revoke(key: str) -> None:
    """Revoke a key, given the key or its id."""
    from api.keys import revoke_key

    if not revoke_key(get_settings().warehouse_url, key):
        raise click.ClickException("no live key matches")
    click.echo("revoked")


# --- wfa serve ------------------------------------------------------------------------------

@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=1, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Start the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from orchestration.runtime import ensure_warehouse

    ensure_warehouse(get_settings())
    click.echo(f"API on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    uvicorn.run("api.main:app", host=host, port=port, workers=workers, log_level="warning")


# --- wfa load -------------------------------------------------------------------------------

@main.command("load")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--table", default="events", show_default=True,
              help="events, or a reference table: accounts, users, workflows, workflow_steps, "
                   "experiments.")
def load(paths: tuple[Path, ...], table: str) -> None:
    """Load JSON Lines / CSV files (or folders of them) into the raw layer."""
    from orchestration.runtime import ensure_warehouse

    settings = get_settings()
    ensure_warehouse(settings)
    if not _load_and_report(settings, list(paths), table):
        sys.exit(1)


def _load_and_report(settings: Settings, paths: list[Path], table: str) -> bool:
    """Load, print per-file and total counts; False if a file could not be read at all, or
    only in part (truncated or corrupt)."""
    from assets.ingestion import LoadFailure, iter_load

    ok = True
    totals = [0, 0, 0, 0]
    reasons: dict[str, int] = {}
    started = time.monotonic()
    click.echo(f"{'file':<48} {'read':>10} {'loaded':>10} {'duplicate':>10} {'rejected':>10}")
    for result in iter_load(settings.warehouse_url, paths, table,
                            window=settings.event_window()):
        path = result.source_file
        if isinstance(result, LoadFailure):
            click.echo(f"{path[-48:]:<48} cannot be read: {result.error}", err=True)
            ok = False
            continue
        counts = (result.rows_read, result.loaded, result.duplicates, result.rejected)
        totals = [a + b for a, b in zip(totals, counts)]
        for reason, count in result.reasons.items():
            reasons[reason] = reasons.get(reason, 0) + count
        click.echo(f"{path[-48:]:<48} " + " ".join(f"{c:>10,}" for c in counts))
        if result.damaged:  # its rows up to the break are in the counts above
            click.echo(f"{path}: {result.damaged}; the rows before the break are loaded",
                       err=True)
            ok = False
    seconds = time.monotonic() - started
    click.echo(f"{'total':<48} " + " ".join(f"{c:>10,}" for c in totals))
    rate = totals[0] / seconds if seconds else 0.0
    click.echo(f"{table}: {totals[0]:,} rows read = {totals[1]:,} loaded + {totals[2]:,} duplicates"
               f" + {totals[3]:,} rejected, in {seconds:.1f} s ({rate:,.0f} rows/s)")
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        click.echo(f"  rejected: {count:>8,}  {reason}")
    return ok


# --- wfa generate ---------------------------------------------------------------------------

@main.command("generate")
@click.option("--events", default=1_000_000, show_default=True, help="Events to generate.")
@click.option("--days", default=90, show_default=True, help="Days of history.")
@click.option("--seed", default=42, show_default=True, help="Same seed, same data.")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First day (default: the generator's fixed start, so runs are reproducible).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Write files here instead of loading them into the warehouse.")
@click.option("--if-empty", is_flag=True, help="Do nothing if the warehouse already has events.")
def generate_command(events: int, days: int, seed: int, start: dt.datetime | None,
                     out: Path | None, if_empty: bool) -> None:
    """Generate a realistic, seeded sample data set (into the warehouse, or files with --out)."""
    from assets.sample_data import generate

    options = {"events": events, "days": days, "seed": seed}
    if start is not None:
        options["start"] = start.date()
    if out is not None:
        started = time.monotonic()
        manifest = generate(out, **options)
        click.echo(f"wrote {manifest.get('events_written', events):,} events to {out}"
                   f" in {time.monotonic() - started:.1f} s")
        return
    from orchestration.runtime import ensure_warehouse

    settings = get_settings()
    ensure_warehouse(settings)
    if if_empty and _has_events(settings):
        click.echo("the warehouse already has events; nothing generated")
        return
    with tempfile.TemporaryDirectory(prefix="wfa-sample-") as folder:
        root = Path(folder)
        started = time.monotonic()
        generate(root, **options)
        click.echo(f"generated in {time.monotonic() - started:.1f} s; loading")
        ok = True
        for table in REFERENCE_LOAD_ORDER:
            ok &= _load_and_report(settings, [root / f"{table}.jsonl"], table)
        ok &= _load_and_report(settings, [root / "events"], "events")
    if not ok:
        sys.exit(1)


def _has_events(settings: Settings) -> bool:
    import psycopg

    with psycopg.connect(settings.warehouse_url) as conn:
        return conn.execute("select exists (select from raw.events)").fetchone()[0]


# --- wfa check ------------------------------------------------------------------------------

@main.command("check")
@click.option("--mart", "marts", multiple=True, help="Only this mart (repeatable); default all.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First UTC day reconciled with raw.events (default: all of history).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last UTC day reconciled with raw.events.")
def check(marts: tuple[str, ...], since: dt.datetime | None, until: dt.datetime | None) -> None:
    """Run every quality suite against the warehouse; exit non-zero on any failure."""
    from orchestration.runtime import ensure_warehouse
    from quality.report import run_checks

    settings = get_settings()
    ensure_warehouse(settings)
    try:
        passed = run_checks(settings, list(marts), since and since.date(),
                            until and until.date(), echo=click.echo)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if not passed:
        sys.exit(1)


# --- wfa run / ui / dbt ---------------------------------------------------------------------

@main.command("run")
@click.option("--job", "job_name", default="refresh_all", show_default=True)
def run(job_name: str) -> None:
    """Materialise every asset in process (no UI needed) and print a summary."""
    from orchestration.runtime import ensure_warehouse, prepare_dagster
    from orchestration.run_summary import run_job

    settings = get_settings()
    ensure_warehouse(settings)
    prepare_dagster(settings)
    if not run_job(job_name, echo=click.echo):
        sys.exit(1)


@main.command("backfill")
@click.option("--start", "start", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="First day (UTC) to recompute.")
@click.option("--end", "end", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="Last day (UTC) to recompute, inclusive.")
@click.option("--job", "job_name", default="refresh_marts", show_default=True)
def backfill(start: dt.datetime, end: dt.datetime, job_name: str) -> None:
    """Recompute the daily partitions from START to END in one run (one dbt invocation), as
    the UI's backfill does. The marts' other days and the events watermark are left alone."""
    from orchestration.partitions import RANGE_END, RANGE_START, daily_partitions
    from orchestration.runtime import ensure_warehouse, prepare_dagster
    from orchestration.run_summary import run_job

    if end < start:
        raise click.BadParameter("--end is before --start")
    settings = get_settings()
    partitions = daily_partitions(settings)
    first, last = partitions.get_first_partition_key(), partitions.get_last_partition_key()
    if start.date().isoformat() < first or end.date().isoformat() > last:
        raise click.BadParameter(f"the daily partitions run from {first} to {last} "
                                 "(WFA_PARTITIONS_START sets the first)")
    ensure_warehouse(settings)
    prepare_dagster(settings)
    tags = {RANGE_START: start.date().isoformat(), RANGE_END: end.date().isoformat()}
    if not run_job(job_name, echo=click.echo, tags=tags):
        sys.exit(1)


@main.command("retention")
@click.option("--dry-run", is_flag=True, help="Print what would be deleted; delete nothing.")
def retention_command(dry_run: bool) -> None:
    """Apply the retention policy: detail after WFA_RETENTION_DETAIL_DAYS, daily marts after
    WFA_RETENTION_DAILY_DAYS, monthly summaries kept (the daily `retention` job does the same)."""
    import psycopg

    from orchestration import retention
    from orchestration.runtime import ensure_warehouse

    settings = get_settings()
    ensure_warehouse(settings)
    horizons = retention.Horizons.as_of(settings.clock(), settings.retention_detail_days,
                                        settings.retention_daily_days)
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        counts = retention.purge(conn, horizons, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"detail before {horizons.detail_before}, daily marts before {horizons.daily_before}")
    for table, rows in counts.items():
        click.echo(f"  {table:<45} {verb} {rows:>12,} rows")
    click.echo(f"  {'total':<45} {verb} {sum(counts.values()):>12,} rows")


@main.command("ui")
@click.option("--port", default=3000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def ui(port: int, host: str) -> None:
    """Start the Dagster UI and its daemon (schedules, sensors, run queue)."""
    import dagster as dg

    from orchestration.runtime import ensure_warehouse, prepare_dagster
    from orchestration.stale_runs import fail_orphaned_runs

    settings = get_settings()
    ensure_warehouse(settings)
    prepare_dagster(settings)
    # a run left STARTED by a killed `wfa run` would keep the sensor and schedule waiting
    with dg.DagsterInstance.get() as instance:
        fail_orphaned_runs(instance, click.echo)
    dagster = str(Path(sys.executable).with_name("dagster"))
    os.chdir(PROJECT_DIR)
    os.execv(dagster, [dagster, "dev", "-w", str(PROJECT_DIR / "workspace.yaml"),
                       "-p", str(port), "-h", host])


@main.command("dbt", context_settings={"ignore_unknown_options": True,
                                       "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def dbt(args: tuple[str, ...]) -> None:
    """Run dbt against the configured warehouse, e.g. `wfa dbt docs generate`."""
    from orchestration.runtime import dbt_command, ensure_warehouse

    settings = get_settings()
    ensure_warehouse(settings)
    sys.exit(dbt_command(settings, *args).returncode)


if __name__ == "__main__":
    main()
