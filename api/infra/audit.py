"""A request's key, rate limit and audit row, in one statement.

Every analytics read and export leaves a row in platform.audit_log; the rate limit lives in
platform.rate_limits (migration 0006), so that every worker process of `wfa serve` shares it.
The same statement reads the data token of the request's workflow (api/infra/response_cache.py), so
that an answer served from memory costs one round trip in all.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from psycopg.types.json import Jsonb

from api.infra.keys import Principal
from api.infra.response_cache import TOKEN
from api.queries import pending

# The key; its rate limit (generic cell rate algorithm: allowed when its theoretical arrival
# time, pushed one interval further, stays within a window of now); the audit row when the key
# may read and is within its limit; the data token. set_config(..., true) turns synchronous
# commit off for this statement's transaction only: a read must not wait for a WAL flush, and
# only a crash of the server within a fraction of a second could lose its audit row.
AUTHORISE = """
with caller as (
    select key_id, account_id, role, scopes from platform.api_keys
    where key_hash = %(hash)s and revoked_at is null
), throttle as (
    insert into platform.rate_limits as limits (key_id, tat)
    select key_id, now() + %(interval)s from caller
    on conflict (key_id) do update
        set tat = greatest(limits.tat, now()) + %(interval)s
        where greatest(limits.tat, now()) + %(interval)s <= now() + %(window)s
    returning tat
), audited as (
    insert into platform.audit_log (key_id, account_id, method, endpoint, parameters)
    select key_id, account_id, %(method)s, %(endpoint)s, %(parameters)s from caller
    where %(audit)s and %(scope)s = any(scopes) and exists (select from throttle)
    returning 1
)
select caller.*, token.*,
       case when not exists (select from throttle) then
           (select extract(epoch from greatest(limits.tat, now()) + %(interval)s - %(window)s
                                      - now())
            from platform.rate_limits limits where limits.key_id = caller.key_id)
       end as wait_seconds,
       set_config('synchronous_commit', 'off', true) as commit_mode
from caller
cross join lateral (""" + TOKEN.replace("%(acc)s", "caller.account_id") + """) as token
"""
WINDOW = dt.timedelta(minutes=1)
TOKEN_COLUMNS = ("generation", "events_watermark", "refreshed_at", "events", "newest",
                 "newest_version")


@dataclass(frozen=True)
class Verdict:
    principal: Principal | None  # None: no live key has this hash
    wait_seconds: int | None     # set when the key is over its rate limit: retry after it
    data_token: tuple | None     # of the workflow asked for (api/infra/response_cache.py)


async def authorise(conn, key_hash: str, scope: str, per_minute: int,
                    request: tuple[str, str, dict] | None,
                    workflow_id: str | None = None) -> Verdict:
    """Look the key up and count the request against its limit; `request` (method, endpoint,
    parameters) is audited when given, the key has `scope`, and it is within its limit."""
    method, endpoint, parameters = request or (None, None, {})
    cursor = await conn.execute(AUTHORISE, {
        "hash": key_hash, "scope": scope, "audit": request is not None, "method": method,
        "endpoint": endpoint, "parameters": Jsonb(parameters),
        "interval": WINDOW / max(per_minute, 1), "window": WINDOW,
        "pipeline": pending.PIPELINE, "wf": workflow_id,
        "probe": pending.MAX_PENDING_EVENTS + 1})
    row = await cursor.fetchone()
    if row is None:
        return Verdict(None, None, None)
    principal = Principal(row["key_id"], row["account_id"], row["role"], tuple(row["scopes"]))
    wait = row["wait_seconds"]
    token = None
    if workflow_id is not None:
        # the bound of the pending events read is part of what an answer depends on
        token = (*(row[c] for c in TOKEN_COLUMNS), pending.MAX_PENDING_EVENTS)
    return Verdict(principal, None if wait is None else max(1, math.ceil(wait)), token)
