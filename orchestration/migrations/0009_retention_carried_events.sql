-- What a retention purge keeps of the executions it cuts in two (events before the detail
-- horizon and after it): the first occurrence of each of their event types, per step. An
-- execution's status, end and goal, and a step's entry, follow from first occurrences by
-- precedence, so the quality suites' raw side (quality/raw_totals.py) still derives them for
-- the days after the horizon from raw.events and these rows together. Rows go once the
-- execution's remaining events are purged too.
create table platform.retention_carried_events (
    execution_id   text        not null,
    event_type     text        not null,
    step_id        text,
    occurred_at    timestamptz not null,
    detail_before  date        not null
);
create unique index retention_carried_events_key
    on platform.retention_carried_events (execution_id, event_type, coalesce(step_id, ''));
