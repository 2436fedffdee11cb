"""The raw layer as external assets: written by `wfa load` and the ingestion API, not by Dagster."""

from __future__ import annotations

import dagster as dg

RAW_TABLES = {
    "events": "Execution events, one row per event_id (append-only).",
    "events_rejected": "Rows the loader refused, with the raw line, file, line number and reason.",
    "accounts": "Accounts (tenants), a snapshot of the product database.",
    "users": "Users of each account.",
    "workflows": "Workflows of each account.",
    "workflow_steps": "Steps of each workflow version, in order.",
    "experiments": "A/B experiments with their variants and traffic shares.",
}


def raw_source_specs() -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            key=dg.AssetKey(["raw", table]),
            description=description,
            group_name="raw",
            kinds={"postgres"},
            owners=["team:data-platform"],
            metadata={"dagster/table_name": f"raw.{table}"},
        )
        for table, description in RAW_TABLES.items()
    ]


def build_defs() -> dg.Definitions:
    return dg.Definitions(assets=raw_source_specs())
