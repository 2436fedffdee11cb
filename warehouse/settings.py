"""The one settings object: the warehouse, dbt, Dagster's storage and the API read it."""

from __future__ import annotations

from datetime import date, datetime, timezone
from functools import cached_property
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent
# who answers for the platform's tables, shown on every asset in the Dagster UI
DATA_OWNER = "team:data-platform"


class Settings(BaseSettings):
    """Configuration from `WFA_*` environment variables (and `.env`); nothing is read at import."""

    model_config = SettingsConfigDict(env_prefix="WFA_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="An external PostgreSQL server; when unset the embedded server is used.",
    )
    home: Path = Field(default=PROJECT_DIR / ".wfa", description="Embedded data, logs, Dagster home.")
    port: int = Field(default=54329, description="Port of the embedded server on 127.0.0.1.")
    database: str = Field(default="wfa", description="Warehouse database on the embedded server.")
    dagster_database: str | None = Field(
        default=None, description="Dagster's own database; defaults to '<warehouse db>_dagster'."
    )
    dbt_threads: int = 4
    dbt_target_schema: str = Field(default="analytics", description="Base schema dbt builds into.")
    quality_max_rejected_pct: float = Field(
        default=5.0, description="A load rejecting more of its rows than this (%) warns.")
    quality_max_unknown_reference_pct: float = Field(
        default=1.0, description="Recent events with an unknown account or workflow above this (%) warn.")
    quarantine_max_accounts: int = Field(
        default=1, ge=0,
        description="The marts' per-account checks warn (and quarantine) when at most this many "
                    "accounts fail them, and stop the refresh beyond.")
    quality_ingestion_lookback_hours: int = Field(
        default=24, description="Loads and events received this recently are checked for ingestion quality.")
    quality_row_count_max_drop_pct: float = Field(
        default=5.0, description="A mart may shrink this much (%) against its previous passing check.")
    quality_row_count_max_growth_pct: float = Field(
        default=200.0, description="A mart may grow this much (%) against its previous passing check.")
    hourly_rate_usd: float = Field(
        default=40.0, description="Cost of an hour of manual work, for the ROI of workflows.")
    forecast_max_series: int | None = Field(
        default=None, description="Fit at most this many forecast series (the rest are skipped).")
    analytics_workers: int | None = Field(
        default=None, description="Processes fitting forecasts in parallel; default: every core.")
    partitions_start: str = Field(
        default="2025-01-01", description="First day of the marts' daily partitions (UTC).")
    incremental_overlap_seconds: int = Field(
        default=300, description="An incremental refresh also re-reads the events received this "
        "long before its watermark (loads still committing when the last one looked).")
    freshness_sensor_seconds: int = Field(
        default=30, description="How often the freshness sensor looks for newly received events.")
    retention_detail_days: int = Field(
        default=90, description="Raw events, rejected rows and the event-grain and hourly marts "
        "are kept this many days.")
    retention_daily_days: int = Field(
        default=730, description="The daily marts are kept this many days (monthly: forever).")
    now: datetime | None = Field(
        default=None, description="The platform's clock, fixed (tests, replays); unset: the "
        "real time.")
    events_earliest: date | None = Field(
        default=None, description="Events dated before this UTC day are rejected (unset: the "
        "contract's floor, EARLIEST_EVENT_DATE in warehouse/ingestion/contract.py).")
    events_max_ahead_hours: float | None = Field(
        default=None, ge=0, description="Events dated more than this many hours after now (the "
        "platform's clock) are rejected (unset: the contract's MAX_AHEAD_HOURS).")
    api_rate_limit_per_minute: int = Field(default=60, description="Requests per minute per API key.")
    api_pool_max: int = Field(default=10, description="Most warehouse connections the API holds.")
    api_max_body_bytes: int = Field(
        default=16 * 1024 * 1024, gt=0, description="Largest request body the API reads; a "
        "larger one is answered 413 (16 MiB: a full batch of 10,000 events, 1.6 kB each).")
    api_cache_entries: int = Field(
        default=1024, description="Workflow summaries and funnels the API keeps serialised while "
        "the data under them is unchanged (0: none).")
    api_cache_seconds: float = Field(
        default=60.0, description="Longest time a kept answer is served, unchanged data or not.")
    api_stream_poll_seconds: float = Field(
        default=1.0, description="How often the live stream looks for new events.")
    api_stream_min_gap_seconds: float = Field(
        default=5.0, description="Least time between two updates sent on one stream.")
    api_stream_heartbeat_seconds: float = Field(
        default=15.0, description="A heartbeat comment after this long without an update.")

    @model_validator(mode="after")
    def _whole_months_in_the_daily_marts(self) -> Settings:
        # a refresh rebuilds the months its days fall in from the daily marts: those months
        # must still be whole there
        if self.retention_daily_days < self.retention_detail_days + 31:
            raise ValueError("WFA_RETENTION_DAILY_DAYS must exceed WFA_RETENTION_DETAIL_DAYS by "
                             "at least 31 days")
        return self

    def clock(self) -> datetime:
        """Now, as the platform sees it: WFA_NOW when set (a clock tests can set)."""
        if self.now is None:
            return datetime.now(timezone.utc)
        return self.now if self.now.tzinfo else self.now.replace(tzinfo=timezone.utc)

    def event_window(self):
        """The span of occurred_at a load or a request accepts, from the clock as of now: taken
        once per load or request, never per event."""
        from warehouse.ingestion.contract import EARLIEST_EVENT_DATE, MAX_AHEAD_HOURS
        from warehouse.ingestion.validate import EventWindow

        return EventWindow.ending_after(
            self.clock(),
            MAX_AHEAD_HOURS if self.events_max_ahead_hours is None else self.events_max_ahead_hours,
            self.events_earliest or EARLIEST_EVENT_DATE)

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster_home"

    @property
    def data_docs_dir(self) -> Path:
        return self.home / "data_docs"

    @cached_property
    def warehouse_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    @property
    def warehouse_name(self) -> str:
        return urlsplit(self.warehouse_url).path.lstrip("/") or "postgres"

    @property
    def dagster_url(self) -> str:
        name = self.dagster_database or f"{self.warehouse_name}_dagster"
        return with_database(self.warehouse_url, name)

    @property
    def maintenance_url(self) -> str:
        """A URL on the same server that always exists, for CREATE DATABASE."""
        return with_database(self.warehouse_url, "postgres")

    def dbt_env(self) -> dict[str, str]:
        """Environment variables read by dbt_project/profiles.yml."""
        parts = urlsplit(self.warehouse_url)
        return {
            "WFA_DBT_HOST": parts.hostname or "127.0.0.1",
            "WFA_DBT_PORT": str(parts.port or 5432),
            "WFA_DBT_USER": parts.username or "postgres",
            "WFA_DBT_PASSWORD": parts.password or "",
            "WFA_DBT_DBNAME": self.warehouse_name,
            "WFA_DBT_SCHEMA": self.dbt_target_schema,
            "WFA_DBT_THREADS": str(self.dbt_threads),
            "WFA_QUARANTINE_MAX_ACCOUNTS": str(self.quarantine_max_accounts),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(database)))


def get_settings() -> Settings:
    return Settings()
