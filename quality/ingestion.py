"""Ingestion quality: how much of each recent load was rejected, and how many recent events
name an account or workflow the reference tables do not know. Both warn, never block: the
loader already kept every row, and a late reference snapshot fixes the second on its own."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

SAMPLE = 5


@dataclass(frozen=True)
class LoadRejections:
    load_id: int
    source_file: str
    rows_read: int
    rejected: int

    @property
    def rejected_pct(self) -> float:
        return 100.0 * self.rejected / self.rows_read if self.rows_read else 0.0


@dataclass(frozen=True)
class UnknownReferences:
    events: int
    unknown_account: int
    unknown_workflow: int
    sample_accounts: list[str]
    sample_workflows: list[str]

    @property
    def unknown_pct(self) -> float:
        unknown = max(self.unknown_account, self.unknown_workflow)
        return 100.0 * unknown / self.events if self.events else 0.0


def recent_loads(url: str, lookback_hours: int) -> list[LoadRejections]:
    """The event loads started within the lookback, worst rejection rate first."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "select load_id, source_file, rows_read, rejected from raw.load_batches"
            " where target_table = 'events' and started_at >= now() - make_interval(hours => %s)"
            " order by rejected::float8 / greatest(rows_read, 1) desc, load_id",
            (lookback_hours,)).fetchall()
    return [LoadRejections(*row) for row in rows]


def unknown_references(url: str, lookback_hours: int) -> UnknownReferences:
    """Recent events whose account is not in raw.accounts or workflow not in raw.workflows."""
    # grouped first: a few thousand distinct ids to look up, not one lookup per event
    sql = """
        with recent as (
            select account_id, workflow_id, count(*) as events from raw.events
            where received_at >= now() - make_interval(hours => %(hours)s)
            group by account_id, workflow_id
        ),
        flagged as (
            select account_id, workflow_id, events,
                   not exists (select from raw.accounts a where a.account_id = r.account_id)
                       as unknown_account,
                   r.workflow_id is not null and not exists (
                       select from raw.workflows w where w.workflow_id = r.workflow_id)
                       as unknown_workflow
            from recent r
        )
        select coalesce(sum(events), 0)::bigint,
               coalesce(sum(events) filter (where unknown_account), 0)::bigint,
               coalesce(sum(events) filter (where unknown_workflow), 0)::bigint,
               (array_agg(distinct account_id) filter (where unknown_account))[1:%(n)s],
               (array_agg(distinct workflow_id) filter (where unknown_workflow))[1:%(n)s]
        from flagged"""
    with psycopg.connect(url, autocommit=True) as conn:
        events, accounts, workflows, sample_a, sample_w = conn.execute(
            sql, {"hours": lookback_hours, "n": SAMPLE}).fetchone()
    return UnknownReferences(events, accounts, workflows, sample_a or [], sample_w or [])
