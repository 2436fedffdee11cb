-- The raw layer: append-only events as producers sent them, rejected rows with their reason,
-- and snapshots of the product's reference tables.
create schema if not exists raw;

create table raw.events (
    event_id          text        not null primary key,
    event_type        text        not null,
    occurred_at       timestamptz not null,
    received_at       timestamptz not null default now(),
    account_id        text        not null,
    workflow_id       text,
    workflow_version  integer,
    execution_id      text,
    contact_id        text,
    step_id           text,
    user_id           text,
    properties        jsonb       not null default '{}'::jsonb
);
create index events_received_at_idx on raw.events (received_at);

create table raw.events_rejected (
    rejected_id  bigint generated always as identity primary key,
    load_id      bigint,
    source_file  text        not null,
    line_number  bigint      not null,
    raw_line     text        not null,
    reason       text        not null,
    rejected_at  timestamptz not null default now()
);

-- One row per file offered to the loader: rows_read = loaded + duplicates + rejected.
create table raw.load_batches (
    load_id      bigint generated always as identity primary key,
    source_file  text        not null,
    target_table text        not null,
    rows_read    bigint      not null default 0,
    loaded       bigint      not null default 0,
    duplicates   bigint      not null default 0,
    rejected     bigint      not null default 0,
    started_at   timestamptz not null default now(),
    finished_at  timestamptz
);

create table raw.accounts (
    account_id          text primary key,
    name                text,
    plan                text,
    timezone            text,
    monthly_budget_usd  numeric(18, 6),
    created_at          timestamptz
);

create table raw.users (
    user_id     text primary key,
    account_id  text not null,
    role        text,
    created_at  timestamptz
);

create table raw.workflows (
    workflow_id    text primary key,
    account_id     text not null,
    name           text,
    owner_user_id  text,
    created_at     timestamptz,
    status         text
);

create table raw.workflow_steps (
    workflow_id       text    not null,
    workflow_version  integer not null,
    step_id           text    not null,
    step_order        integer not null,
    step_type         text    not null,
    step_name         text,
    action_type       text,
    primary key (workflow_id, workflow_version, step_id)
);

create table raw.experiments (
    experiment_id    text primary key,
    workflow_id      text not null,
    name             text,
    started_at       timestamptz,
    ended_at         timestamptz,
    control_variant  text not null,
    variants         jsonb not null
);
