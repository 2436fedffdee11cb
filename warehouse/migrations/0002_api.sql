-- The HTTP API's own state: API keys (stored hashed), the audit log of analytics reads,
-- budgets set through the API, and refresh jobs it launched.
create schema if not exists platform;

create table platform.api_keys (
    key_id       text        primary key,          -- the public prefix of the key
    key_hash     text        not null unique,      -- sha256 of the whole key; the key itself is never stored
    account_id   text        not null,
    role         text        not null check (role in ('viewer', 'admin')),
    scopes       text[]      not null,
    created_at   timestamptz not null default now(),
    revoked_at   timestamptz
);

create table platform.audit_log (
    audit_id     bigint generated always as identity primary key,
    key_id       text        not null,
    account_id   text        not null,
    method       text        not null,
    endpoint     text        not null,
    parameters   jsonb       not null default '{}'::jsonb,
    status_code  integer,
    at           timestamptz not null default now()
);
create index audit_log_account_at_idx on platform.audit_log (account_id, at);

create table platform.budgets (
    account_id          text primary key,
    monthly_budget_usd  numeric(18, 6) not null check (monthly_budget_usd >= 0),
    alert_threshold_pct numeric(9, 4)  not null default 80,
    updated_at          timestamptz    not null default now()
);

create table platform.jobs (
    job_id       text        primary key,
    account_id   text        not null,
    workflow_id  text,
    kind         text        not null,
    status       text        not null,
    run_id       text,
    detail       text,
    created_at   timestamptz not null default now(),
    started_at   timestamptz,
    finished_at  timestamptz
);

-- The live stream and the summary read raw events of one workflow received after a time.
create index events_workflow_received_idx on raw.events (workflow_id, received_at);
