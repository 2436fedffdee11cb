-- Incremental refreshes (dbt_project/macros/window.sql): a run recomputes the marts' rows of a
-- window of days, and the executions that have events in it, from the raw events.
-- Events by the day they occurred (the window), and all the events of one execution.
create index events_occurred_at_idx on raw.events (occurred_at);
create index events_execution_idx on raw.events (execution_id) where execution_id is not null;

-- Where the incremental refresh of the marts stands: every event received at or before
-- events_watermark has reached the marts (a refresh recomputes the days that later ones touch).
create table platform.refresh_state (
    pipeline          text        primary key,
    events_watermark  timestamptz not null,
    window_start      date,
    window_end        date,
    refreshed_at      timestamptz not null default now()
);

-- Every purge of the retention job (warehouse/retention.py): what it cut and how much went.
-- The latest detail_before is the retention horizon: no refresh recomputes a day before it
-- (its raw events are gone), and a full refresh of the retained marts refuses.
create table platform.retention_runs (
    run_id         bigint      generated always as identity primary key,
    ran_at         timestamptz not null default now(),
    detail_before  date        not null,
    daily_before   date        not null,
    rows_deleted   jsonb       not null
);
