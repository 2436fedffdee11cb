"""Reading marts into pandas and writing a whole table back, atomically."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping

import pandas as pd
import psycopg


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


def write_table(url: str, table: str, columns: Mapping[str, str], frame: pd.DataFrame) -> int:
    """Replace `table` (schema.name) with the frame's rows, in one transaction, so readers see
    the old table or the new one, never a half-written one. Returns the row count."""
    ddl = ", ".join(f"{name} {kind}" for name, kind in columns.items())
    buffer = io.StringIO()
    for row in frame[list(columns)].itertuples(index=False, name=None):
        buffer.write("\t".join(_cell(v) for v in row) + "\n")
    with psycopg.connect(url) as conn:
        conn.execute(f"drop table if exists {table}")
        conn.execute(f"create table {table} ({ddl})")
        with conn.cursor().copy(f"copy {table} ({', '.join(columns)}) from stdin") as copy:
            copy.write(buffer.getvalue())
        conn.execute(f"analyze {table}")
    return len(frame)
