"""`wfa serve`: the HTTP API."""

from __future__ import annotations

import click
import uvicorn

from warehouse.runtime import ensure_warehouse
from warehouse.settings import get_settings


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=1, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Start the HTTP API (OpenAPI docs at /docs)."""
    ensure_warehouse(get_settings())
    click.echo(f"API on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    uvicorn.run("api.main:app", host=host, port=port, workers=workers, log_level="warning")
