"""The marts' daily partitions, and how a window of days maps onto them and back."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from warehouse.incremental import Window, received_vars
from warehouse.settings import Settings

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
WATERMARK_TAG = "wfa/events_watermark"  # a run planned from the watermark advances it
SINCE_TAG = "wfa/events_since"  # ... and re-summarises the executions of events received since


def daily_partitions(settings: Settings) -> dg.DailyPartitionsDefinition:
    # end_offset=1: today's partition exists (its events arrive all day)
    return dg.DailyPartitionsDefinition(start_date=settings.partitions_start, end_offset=1,
                                        timezone="UTC")


def _key(day: dt.date) -> str:
    return day.isoformat()


def run_tags(partitions: dg.DailyPartitionsDefinition, window: Window,
             *, advance_watermark: bool = True) -> dict[str, str]:
    """The tags of a single run over the window's partitions. Days outside the partitions (data
    older than the first, or dated after today) fall into the first or last one, whose window
    is open-ended (see dbt_window_vars)."""
    keys = partitions.get_partition_keys()
    start = min(max(_key(window.start), keys[0]), keys[-1])
    end = max(min(_key(window.end), keys[-1]), start)
    tags = {RANGE_START: start, RANGE_END: end}
    if advance_watermark and window.watermark is not None:
        tags[WATERMARK_TAG] = window.watermark.isoformat()
        if window.received_after is not None:
            tags[SINCE_TAG] = window.received_after.isoformat()
    return tags


def dbt_window_vars(partitions: dg.DailyPartitionsDefinition, start_key: str,
                    end_key: str, tags: dict[str, str] | None = None) -> dict[str, str]:
    """dbt vars for a run over [start_key, end_key]. The first partition also covers any older
    day and the last any later one: the var is left out, and dbt takes the first (last) day
    with data instead. A run planned from the watermark (its tags) names the new events too."""
    keys = partitions.get_partition_keys()
    found = {}
    if start_key != keys[0]:
        found["wfa_window_start"] = start_key
    if end_key != keys[-1]:
        found["wfa_window_end"] = end_key
    tags = tags or {}
    if tags.get(SINCE_TAG) and tags.get(WATERMARK_TAG):
        found.update(received_vars(dt.datetime.fromisoformat(tags[SINCE_TAG]),
                                   dt.datetime.fromisoformat(tags[WATERMARK_TAG])))
    return found
