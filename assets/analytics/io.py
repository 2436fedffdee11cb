"""Reading marts into pandas and writing a whole analytics table back, atomically, as its
contract (warehouse/analytics_contract.py) declares it."""

from __future__ import annotations

import io
import math

import pandas as pd
import psycopg
from psycopg.sql import SQL, Composed, Identifier, Literal

from warehouse.analytics_contract import ANALYTICS_YML, Table, analytics_table


class ContractError(ValueError):
    """A frame whose columns are not its table's contract."""


def read_frame(url: str, sql: str, params=None) -> pd.DataFrame:
    with psycopg.connect(url) as conn:
        cur = conn.execute(sql, params)
        columns = [c.name for c in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=columns)


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return "\\N"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def check_frame(table: Table, frame: pd.DataFrame) -> None:
    """Refuse a frame with a column missing from, or foreign to, the contract: a silently
    dropped or null-filled column would be a wrong table that looks right."""
    declared, found = table.column_names, [str(c) for c in frame.columns]
    missing = [c for c in declared if c not in found]
    extra = [c for c in found if c not in declared]
    if missing or extra:
        raise ContractError(
            f"{table.qualified}: the frame's columns differ from its contract in "
            f"{ANALYTICS_YML.name}; missing: {', '.join(missing) or 'none'}; "
            f"not in the contract: {', '.join(extra) or 'none'}")


def _comments(table: Table) -> list[Composed]:
    name = Identifier(table.schema, table.name)
    found = [SQL("comment on table {} is {}").format(name, Literal(table.description))]
    found += [SQL("comment on column {} is {}").format(
        Identifier(table.schema, table.name, c.name), Literal(c.description))
        for c in table.columns]
    return found


def write_table(url: str, name: str, frame: pd.DataFrame) -> int:
    """Replace the analytics table `name` with the frame's rows, in one transaction, so readers
    see the old table or the new one, never a half-written one; the table is created from its
    contract, descriptions as comments. Returns the row count."""
    table = analytics_table(name)
    check_frame(table, frame)
    buffer = io.StringIO()
    for row in frame[list(table.column_names)].itertuples(index=False, name=None):
        buffer.write("\t".join(_cell(v) for v in row) + "\n")
    ddl = ", ".join(c.ddl() for c in table.columns)
    with psycopg.connect(url) as conn:
        conn.execute(f"drop table if exists {table.qualified}")
        conn.execute(f"create table {table.qualified} ({ddl})")
        for comment in _comments(table):
            conn.execute(comment)
        columns = ", ".join(table.column_names)
        with conn.cursor().copy(f"copy {table.qualified} ({columns}) from stdin") as copy:
            copy.write(buffer.getvalue())
        conn.execute(f"analyze {table.qualified}")
    return len(frame)
