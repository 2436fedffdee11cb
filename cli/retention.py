"""`wfa retention`: the retention policy, applied by hand."""

from __future__ import annotations

import click
import psycopg

from warehouse import retention
from warehouse.runtime import ensure_warehouse
from warehouse.settings import get_settings


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="Print what would be deleted; delete nothing.")
def retention_command(dry_run: bool) -> None:
    """Apply the retention policy: detail after WFA_RETENTION_DETAIL_DAYS, daily marts after
    WFA_RETENTION_DAILY_DAYS, monthly summaries kept (the daily `retention` job does the same)."""
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
