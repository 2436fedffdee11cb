"""`wfa load` and `wfa generate`: events and reference data into the raw layer."""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import click
import psycopg

from warehouse.ingestion import LoadFailure, iter_load
from warehouse.runtime import ensure_warehouse
from warehouse.sample_data import generate
from warehouse.settings import Settings, get_settings

REFERENCE_LOAD_ORDER = ("accounts", "users", "workflows", "workflow_steps", "experiments")


@click.command("load")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--table", default="events", show_default=True,
              help="events, or a reference table: accounts, users, workflows, workflow_steps, "
                   "experiments.")
def load(paths: tuple[Path, ...], table: str) -> None:
    """Load JSON Lines / CSV files (or folders of them) into the raw layer."""
    settings = get_settings()
    ensure_warehouse(settings)
    if not _load_and_report(settings, list(paths), table):
        sys.exit(1)


def _load_and_report(settings: Settings, paths: list[Path], table: str) -> bool:
    """Load, print per-file and total counts; False if a file could not be read at all, or
    only in part (truncated or corrupt)."""
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


@click.command("generate")
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
    options = {"events": events, "days": days, "seed": seed}
    if start is not None:
        options["start"] = start.date()
    if out is not None:
        started = time.monotonic()
        manifest = generate(out, **options)
        click.echo(f"wrote {manifest.get('events_written', events):,} events to {out}"
                   f" in {time.monotonic() - started:.1f} s")
        return
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
    with psycopg.connect(settings.warehouse_url) as conn:
        return conn.execute("select exists (select from raw.events)").fetchone()[0]
