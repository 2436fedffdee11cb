"""The one entry point Dagster loads (workspace.yaml): small per-concern definitions, merged."""

from __future__ import annotations

import dagster as dg

from assets.analytics import definitions as analytics
from orchestration.dbt_resources import dbt_resource
from orchestration.defs import dbt_models, freshness, jobs, quality_checks, raw_sources, retention


def build_definitions() -> dg.Definitions:
    return dg.Definitions.merge(
        raw_sources.build_defs(),
        dbt_models.build_defs(),
        jobs.build_defs(),
        quality_checks.build_defs(),
        analytics.build_defs(),
        retention.build_defs(),
        freshness.build_defs(),
        dg.Definitions(resources={"dbt": dbt_resource()}),
    )


# Loaded lazily by Dagster, so that nothing (settings, the dbt manifest) is read at import time.
defs = dg.definitions(build_definitions)
