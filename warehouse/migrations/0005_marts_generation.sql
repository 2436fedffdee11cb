-- A counter every change of the marts moves: dbt's on-run-end hook (macros/generation.sql) and
-- the retention purge bump it. The API keeps answers of its hottest reads in memory while it
-- stands still (api/infra/response_cache.py).
create table platform.marts_generation (
    singleton   boolean     primary key default true check (singleton),
    generation  bigint      not null default 0,
    changed_at  timestamptz not null default now()
);
insert into platform.marts_generation default values;
