"""Freshness in the UI: dbt's source freshness of raw.events, as a check of that asset. (The
marts' own freshness policies are set by the dbt translator, orchestration/dbt_resources.py.)

No `from __future__ import annotations`: Dagster reads annotations at runtime.
"""

import dagster as dg

RAW_EVENTS = dg.AssetKey(["raw", "events"])


@dg.asset_check(asset=RAW_EVENTS, name="dbt_source_freshness",
                description="`dbt source freshness` of raw.events (loaded_at_field received_at): "
                            "warns after an hour without new events, fails after a day.")
def dbt_source_freshness() -> dg.AssetCheckResult:
    import json
    import tempfile
    from pathlib import Path

    from warehouse.runtime import dbt_command
    from warehouse.settings import get_settings

    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "sources.json"
        dbt_command(get_settings(), "source", "freshness", "--select", "source:raw.events",
                    "--output", str(output), capture=True)
        if not output.exists():
            return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN,
                                       metadata={"status": "dbt source freshness did not run"})
        (result,) = json.loads(output.read_text())["results"]
    status = result["status"]
    return dg.AssetCheckResult(
        passed=status == "pass",
        severity=dg.AssetCheckSeverity.ERROR if status == "error" else dg.AssetCheckSeverity.WARN,
        metadata={"status": status,
                  "max_loaded_at": str(result.get("max_loaded_at")),
                  "age_seconds": float(result.get("max_loaded_at_time_ago_in_s") or 0.0)})


def build_defs() -> dg.Definitions:
    return dg.Definitions(asset_checks=[dbt_source_freshness])
