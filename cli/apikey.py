"""`wfa apikey`: the HTTP API's keys."""

from __future__ import annotations

import click

from api.infra.keys import create_key, revoke_key
from warehouse.runtime import ensure_warehouse
from warehouse.settings import get_settings


@click.group()
def apikey() -> None:
    """API keys of the HTTP API: one account, a role and scopes each; stored hashed."""


@apikey.command("create")
@click.option("--account", required=True, help="The account the key reads and writes.")
@click.option("--role", type=click.Choice(["viewer", "admin"]), default="viewer", show_default=True)
@click.option("--scope", "scopes", multiple=True, type=click.Choice(["read", "ingest"]),
              help="read and/or ingest (repeat; default: read, plus ingest for admin).")
def apikey_create(account: str, role: str, scopes: tuple[str, ...]) -> None:
    """Create a key and print it once: it is not stored, only its hash."""
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
    if not revoke_key(get_settings().warehouse_url, key):
        raise click.ClickException("no live key matches")
    click.echo("revoked")
