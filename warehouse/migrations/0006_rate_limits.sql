-- The API's rate limit per key, shared by all its worker processes (api/infra/audit.py): the
-- theoretical arrival time of the generic cell rate algorithm, one row per key. A request is
-- allowed when, pushed one interval (a minute / the limit) further, it stays within a minute of
-- now; so a key may send its whole minute's allowance at once, and then one per interval.
create table platform.rate_limits (
    key_id  text        primary key,
    tat     timestamptz not null
);
