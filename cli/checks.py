"""`wfa check`: the quality suites, run by hand."""

from __future__ import annotations

import datetime as dt
import sys

import click

from quality.report import run_checks
from warehouse.runtime import ensure_warehouse
from warehouse.settings import get_settings


@click.command("check")
@click.option("--mart", "marts", multiple=True, help="Only this mart (repeatable); default all.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First UTC day reconciled with raw.events (default: all of history).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last UTC day reconciled with raw.events.")
def check(marts: tuple[str, ...], since: dt.datetime | None, until: dt.datetime | None) -> None:
    """Run every quality suite against the warehouse; exit non-zero on any failure."""
    settings = get_settings()
    ensure_warehouse(settings)
    try:
        passed = run_checks(settings, list(marts), since and since.date(),
                            until and until.date(), echo=click.echo)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if not passed:
        sys.exit(1)
