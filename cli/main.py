"""`wfa`: the operator's command line.

Each command group lives in its own module and is imported only when its command runs, so the
warehouse commands (`wfa db up`, `wfa load`) start in a fraction of a second without loading
Dagster, dbt or pandas (tests/test_warehouse.py keeps it so)."""

from __future__ import annotations

import importlib

import click

# command name -> "module:object"
COMMANDS = {
    "db": "cli.db:db",
    "apikey": "cli.apikey:apikey",
    "load": "cli.data:load",
    "generate": "cli.data:generate_command",
    "retention": "cli.retention:retention_command",
    "check": "cli.checks:check",
    "run": "cli.pipeline:run",
    "backfill": "cli.pipeline:backfill",
    "ui": "cli.pipeline:ui",
    "daemon": "cli.pipeline:daemon",
    "serve": "cli.api_server:serve",
    "dbt": "cli.dbt_passthrough:dbt",
}


class LazyGroup(click.Group):
    """A group whose commands are imported when they are asked for (click's lazy loading)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, _, name = COMMANDS[cmd_name].partition(":")
        return getattr(importlib.import_module(module), name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """workflow-analytics: warehouse, ingestion, pipeline and UI."""


if __name__ == "__main__":
    main()
