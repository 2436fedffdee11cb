"""Response models (the seed SPEC-WFL-009 shapes), separate from the SQL that fills them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class PeriodOut(BaseModel):
    start_date: str
    end_date: str


class Summary(BaseModel):
    total_enrolled: int
    currently_active: int
    completed: int
    completion_rate: float | None
    goals_achieved: int
    conversion_rate: float | None
    average_duration_hours: float | None


class TrendPoint(BaseModel):
    date: str  # the day (YYYY-MM-DD), the week's Monday, or the hour (ISO timestamp) when hourly
    new_enrollments: int
    completions: int
    conversions: int


class Comparison(BaseModel):
    period: PeriodOut
    summary: Summary
    deltas: dict[str, float | None]


class Freshness(BaseModel):
    """How fresh the summary is (an addition to the seed's shape): the marts' figures plus the
    events received after their watermark (`pending_events`, read oldest first, at most
    MAX_PENDING_EVENTS: `pending_events_capped`). Every event received by `as_of` is counted;
    `as_of` is null when the marts were not built by the incremental refresh (nothing added)."""
    as_of: str | None
    events_watermark: str | None
    marts_refreshed_at: str | None
    pending_events: int
    pending_events_capped: bool


class WorkflowAnalytics(BaseModel):
    workflow_id: str
    period: PeriodOut
    summary: Summary
    trends: list[TrendPoint]
    comparison: Comparison | None = None
    freshness: Freshness | None = None


class FunnelStep(BaseModel):
    step_id: str
    step_name: str | None
    step_order: int
    entered: int
    completed: int
    dropped_off: int
    conversion_rate: float | None
    average_time_seconds: float | None


class Funnel(BaseModel):
    workflow_id: str
    funnel_steps: list[FunnelStep]
    overall_conversion: float | None
    bottleneck_step: str | None


class Action(BaseModel):
    action_id: str
    action_type: str | None
    action_name: str | None
    executions: int
    successes: int
    failures: int
    success_rate: float | None
    average_duration_ms: float | None


class Actions(BaseModel):
    workflow_id: str
    actions: list[Action]


class RefreshQueued(BaseModel):
    status: Literal["queued"]
    job_id: str
    estimated_completion_seconds: int


class Job(BaseModel):
    job_id: str
    kind: str
    workflow_id: str | None
    status: str
    run_id: str | None
    detail: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None


class EventOutcome(BaseModel):
    index: int
    event_id: str | None
    status: Literal["accepted", "duplicate", "rejected"]
    reason: str | None = None


class IngestResult(BaseModel):
    received: int
    accepted: int
    duplicates: int
    rejected: int
    results: list[EventOutcome]
