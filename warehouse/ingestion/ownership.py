"""Tenancy on write: an event may name only its own account's workflows and executions.

A workflow belongs to the account raw.workflows gives it (the product's reference data; a
trigger copies it into raw.workflow_owners), else to the account that first sent an event of
it. An execution belongs to the account and workflow of the first event that named it. Both
are claimed on first sight, in the order the events are offered, and checked for every event
by the loader and the API alike (docs/guarantees.md).
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from psycopg.rows import tuple_row

# What an event says it belongs to: (account_id, workflow_id, execution_id).
Claim = tuple[str, "str | None", "str | None"]

_CLAIM_WORKFLOWS = """
insert into raw.workflow_owners (workflow_id, account_id, decided_by)
select workflow_id, account_id, 'first_event'
from unnest(%s::text[], %s::text[]) as claimed (workflow_id, account_id)
order by workflow_id
on conflict (workflow_id) do nothing
"""
_CLAIM_EXECUTIONS = """
insert into raw.execution_owners (execution_id, account_id, workflow_id)
select execution_id, account_id, workflow_id
from unnest(%s::text[], %s::text[], %s::text[]) as claimed (execution_id, account_id, workflow_id)
order by execution_id
on conflict (execution_id) do nothing
returning execution_id
"""


class Owners:
    """Claims and checks ownership for one load or one request; remembers the workflows' owners
    it has seen (a handful per load), not the executions' (new in every chunk)."""

    def __init__(self) -> None:
        self.workflows: dict[str, str] = {}

    def foreign(self, conn: psycopg.Connection, claims: Iterable[Claim]) -> dict[Claim, str]:
        """The claims that name another account's workflow or execution (or an execution of
        another workflow), each with the reason its events are rejected. Claims the rest as
        they come (the first claim of a new workflow or execution wins), in a transaction of
        its own, committed at once: other writers wait on these rows only that long."""
        claims = list(dict.fromkeys(claims))
        if not any(workflow is not None for _, workflow, _ in claims):
            return {}
        with conn.transaction():
            cursor = conn.cursor(row_factory=tuple_row)  # the API's connections make dicts
            self._learn_workflows(cursor, claims)
            reasons: dict[Claim, str] = {}
            executions: dict[str, tuple[str, str]] = {}
            for claim in claims:
                account, workflow, execution = claim
                if workflow is None:
                    continue
                if self.workflows[workflow] != account:
                    reasons[claim] = f"workflow_id {workflow!r} belongs to another account"
                elif execution is not None:
                    executions.setdefault(execution, (account, workflow))
            owners = self._claim_executions(cursor, executions)
        for claim in claims:
            account, workflow, execution = claim
            if claim in reasons or execution not in owners:
                continue
            owner_account, owner_workflow = owners[execution]
            if owner_account != account:
                reasons[claim] = f"execution_id {execution!r} belongs to another account"
            elif owner_workflow != workflow:
                reasons[claim] = (f"execution_id {execution!r} belongs to workflow "
                                  f"{owner_workflow!r}, not {workflow!r}")
        return reasons

    def _learn_workflows(self, cursor: psycopg.Cursor, claims: list[Claim]) -> None:
        first: dict[str, str] = {}
        for account, workflow, _ in claims:
            if workflow is not None and workflow not in self.workflows:
                first.setdefault(workflow, account)
        if not first:
            return
        cursor.execute(_CLAIM_WORKFLOWS, (list(first), list(first.values())))
        rows = cursor.execute("select workflow_id, account_id from raw.workflow_owners"
                            " where workflow_id = any(%s)", (list(first),))
        self.workflows.update(rows)

    @staticmethod
    def _claim_executions(cursor: psycopg.Cursor,
                          executions: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
        """The owner (account, workflow) of each execution, claiming those not known yet."""
        if not executions:
            return {}
        ids = sorted(executions)
        claimed = {row[0] for row in cursor.execute(_CLAIM_EXECUTIONS, (
            ids, [executions[i][0] for i in ids], [executions[i][1] for i in ids]))}
        owners = {execution: executions[execution] for execution in claimed}
        known = [execution for execution in ids if execution not in claimed]
        if known:
            for execution, account, workflow in cursor.execute(
                    "select execution_id, account_id, workflow_id from raw.execution_owners"
                    " where execution_id = any(%s)", (known,)):
                owners[execution] = (account, workflow)
        return owners
