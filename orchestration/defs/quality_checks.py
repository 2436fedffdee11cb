"""Great Expectations suites as asset checks of the marts and of the analytics tables, and
ingestion quality on raw.events.

A mart's suite is blocking: when it fails, the assets downstream of that mart are not
materialised, so a wrong number stops before a dashboard or a BI extract reads it. The
ingestion checks only warn. No `from __future__ import annotations`: Dagster reads the context
annotation at runtime.
"""

import dagster as dg

from warehouse.settings import Settings, get_settings

SUITE_CHECK = "quality_suite"
CONTRACT_CHECK = "contract"
RAW_EVENTS = dg.AssetKey(["raw", "events"])


def _limits(settings: Settings):
    from quality.runner import Limits

    return Limits(settings.quality_row_count_max_drop_pct, settings.quality_row_count_max_growth_pct)


def suite_metadata(result) -> dict:
    metadata = {
        "expectations_run": dg.MetadataValue.int(result.evaluated),
        "expectations_failed": dg.MetadataValue.int(len(result.failures)),
        "row_count": dg.MetadataValue.int(result.row_count or 0),
        "failing_sample": dg.MetadataValue.json([f.line() for f in result.failures[:10]]),
        "seconds": dg.MetadataValue.float(round(result.seconds, 3)),
    }
    if result.previous_row_count is not None:
        metadata["previous_row_count"] = dg.MetadataValue.int(result.previous_row_count)
    if result.docs_url:
        metadata["data_docs"] = dg.MetadataValue.url(result.docs_url)
    return metadata


def mart_suite_check(mart: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=dg.AssetKey(["marts", mart]), name=SUITE_CHECK, blocking=True,
                    description=f"Great Expectations suite of {mart}: schema, keys, ranges, "
                                "consistency, reconciliation with raw.events, row-count movement.")
    def check() -> dg.AssetCheckResult:
        from quality.runner import validate_marts

        settings = get_settings()
        (result,) = validate_marts(settings.warehouse_url, [mart], docs_dir=settings.data_docs_dir,
                                   limits=_limits(settings))
        return dg.AssetCheckResult(passed=result.success, severity=dg.AssetCheckSeverity.ERROR,
                                   metadata=suite_metadata(result))

    return check


def analytics_contract_check(table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=dg.AssetKey(["marts", table]), name=CONTRACT_CHECK, blocking=True,
                    description=f"{table} against its contract (dbt source `analytics`): "
                                "columns, types, not-null and primary-key columns.")
    def check() -> dg.AssetCheckResult:
        from quality.analytics import validate_analytics

        (result,) = validate_analytics(get_settings().warehouse_url, [table])
        return dg.AssetCheckResult(passed=result.success, severity=dg.AssetCheckSeverity.ERROR,
                                   metadata=suite_metadata(result))

    return check


@dg.asset_check(asset=RAW_EVENTS, name="rejected_row_rate",
                description="Share of each recent load's rows the loader rejected; warns above "
                            "WFA_QUALITY_MAX_REJECTED_PCT.")
def rejected_row_rate() -> dg.AssetCheckResult:
    from quality.ingestion import recent_loads

    settings = get_settings()
    loads = recent_loads(settings.warehouse_url, settings.quality_ingestion_lookback_hours)
    above = [load for load in loads if load.rejected_pct > settings.quality_max_rejected_pct]
    return dg.AssetCheckResult(
        passed=not above, severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "loads_checked": len(loads),
            "loads_above_threshold": len(above),
            "threshold_pct": settings.quality_max_rejected_pct,
            "worst_rejected_pct": round(loads[0].rejected_pct, 3) if loads else 0.0,
            "sample": dg.MetadataValue.json([
                {"load_id": load.load_id, "file": load.source_file, "rows_read": load.rows_read,
                 "rejected": load.rejected} for load in (above or loads)[:5]]),
        })


@dg.asset_check(asset=RAW_EVENTS, name="known_references",
                description="Recent events whose account or workflow the reference tables do not "
                            "know; warns above WFA_QUALITY_MAX_UNKNOWN_REFERENCE_PCT.")
def known_references() -> dg.AssetCheckResult:
    from quality.ingestion import unknown_references

    settings = get_settings()
    found = unknown_references(settings.warehouse_url, settings.quality_ingestion_lookback_hours)
    return dg.AssetCheckResult(
        passed=found.unknown_pct <= settings.quality_max_unknown_reference_pct,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "events_checked": found.events,
            "unknown_account_events": found.unknown_account,
            "unknown_workflow_events": found.unknown_workflow,
            "unknown_pct": round(found.unknown_pct, 3),
            "threshold_pct": settings.quality_max_unknown_reference_pct,
            "sample": dg.MetadataValue.json({"accounts": found.sample_accounts,
                                             "workflows": found.sample_workflows}),
        })


def build_defs() -> dg.Definitions:
    from quality.rules import MARTS
    from warehouse.analytics_contract import analytics_tables

    checks = [*(mart_suite_check(mart) for mart in MARTS),
              *(analytics_contract_check(table) for table in analytics_tables())]
    return dg.Definitions(asset_checks=[*checks, rejected_row_rate, known_references])
