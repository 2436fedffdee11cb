"""`wfa db`: the warehouse server, its migrations and the BI role."""

from __future__ import annotations

import click

from warehouse import migrate, server
from warehouse.bi_role import grant_bi
from warehouse.runtime import ensure_warehouse
from warehouse.settings import Settings, get_settings


@click.group()
def db() -> None:
    """The warehouse: embedded PostgreSQL by default, or WFA_DATABASE_URL."""


@db.command("up")
@click.option("--port", type=int, help="Port of the embedded server (default 54329, or WFA_PORT).")
def db_up(port: int | None) -> None:
    """Start the embedded server (harmless if running), create databases, apply migrations."""
    settings = Settings(port=port) if port else get_settings()
    applied = ensure_warehouse(settings)
    where = "embedded server" if settings.embedded else "external server"
    click.echo(f"warehouse ready ({where}): {settings.warehouse_url}")
    if applied:
        click.echo(f"applied migrations: {', '.join(applied)}")


@db.command("down")
def db_down() -> None:
    """Stop the embedded server."""
    settings = get_settings()
    if not settings.embedded:
        raise click.ClickException("WFA_DATABASE_URL is set: the external server is not ours to stop")
    click.echo(server.stop(settings).detail)


@db.command("url")
@click.option("--dagster", is_flag=True, help="Print the URL of Dagster's database instead.")
def db_url(dagster: bool) -> None:
    """Print the connection URL."""
    settings = get_settings()
    click.echo(settings.dagster_url if dagster else settings.warehouse_url)


@db.command("status")
def db_status() -> None:
    """Tell whether the embedded server runs."""
    settings = get_settings()
    if not settings.embedded:
        click.echo(f"external server: {settings.warehouse_url}")
        return
    click.echo(server.status(settings).detail)


@db.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations of the raw layer."""
    applied = migrate.migrate(get_settings().warehouse_url)
    click.echo(f"applied: {', '.join(applied)}" if applied else "up to date")


@db.command("grant-bi")
@click.option("--role", default="wfa_bi", show_default=True, help="Name of the read-only role.")
@click.option("--password", envvar="WFA_BI_PASSWORD", default=None,
              help="Its password (or WFA_BI_PASSWORD); without one it can only log in locally "
                   "where the server trusts it.")
def db_grant_bi(role: str, password: str | None) -> None:
    """Create (or update) a login role for BI tools that reads schema marts and nothing else."""
    settings = get_settings()
    ensure_warehouse(settings)
    grant_bi(settings.warehouse_url, role, password)
    click.echo(f"role {role} can read schema marts (current and future tables) and nothing else")
