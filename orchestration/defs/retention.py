"""The daily retention job (warehouse/retention.py) and its schedule.

No `from __future__ import annotations`: Dagster reads the context annotation at runtime.
"""

import dagster as dg

from warehouse.settings import get_settings


@dg.op(description="Delete the detail and daily rows the retention policy says have expired.")
def purge_expired(context: dg.OpExecutionContext) -> dict:
    import psycopg

    from warehouse import retention

    settings = get_settings()
    horizons = retention.Horizons.as_of(settings.clock(), settings.retention_detail_days,
                                        settings.retention_daily_days)
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        counts = retention.purge(conn, horizons)
    context.add_output_metadata({
        "detail_before": horizons.detail_before.isoformat(),
        "daily_before": horizons.daily_before.isoformat(),
        "rows_deleted": dg.MetadataValue.json(counts),
        "total_rows_deleted": sum(counts.values()),
    })
    return counts


@dg.job(description="Retention: raw events, rejected rows, event-grain and hourly marts after "
                    "WFA_RETENTION_DETAIL_DAYS (90); daily marts after WFA_RETENTION_DAILY_DAYS "
                    "(730); monthly summaries never.")
def retention():
    purge_expired()


def build_defs() -> dg.Definitions:
    daily = dg.ScheduleDefinition(name="retention_daily", job=retention, cron_schedule="30 3 * * *",
                                  execution_timezone="UTC",
                                  default_status=dg.DefaultScheduleStatus.RUNNING)
    return dg.Definitions(jobs=[retention], schedules=[daily])
