"""`wfa dbt ...`: dbt against the configured warehouse."""

from __future__ import annotations

import sys

import click

from warehouse.runtime import dbt_command, ensure_warehouse
from warehouse.settings import get_settings


@click.command("dbt", context_settings={"ignore_unknown_options": True,
                                        "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def dbt(args: tuple[str, ...]) -> None:
    """Run dbt against the configured warehouse, e.g. `wfa dbt docs generate`."""
    settings = get_settings()
    ensure_warehouse(settings)
    sys.exit(dbt_command(settings, *args).returncode)
