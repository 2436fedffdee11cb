"""A read-only login role for BI tools: schema marts, now and in future dbt runs, nothing else."""

from __future__ import annotations

import psycopg
from psycopg import sql


def grant_bi(url: str, role: str, password: str | None) -> None:
    name = sql.Identifier(role)
    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
        verb = sql.SQL("alter") if exists else sql.SQL("create")
        conn.execute(sql.SQL("{} role {} login nosuperuser nocreatedb nocreaterole password {}")
                     .format(verb, name, sql.Literal(password)))
        database = sql.Identifier(conn.info.dbname)
        conn.execute(sql.SQL("revoke all on database {} from public").format(database))
        conn.execute(sql.SQL("grant connect on database {} to {}").format(database, name))
        # Nothing through PUBLIC either: raw, staging, platform (API keys) stay closed.
        for schema in conn.execute("select nspname from pg_namespace where nspname not like 'pg_%%'"
                                   " and nspname not in ('information_schema', 'marts')").fetchall():
            conn.execute(sql.SQL("revoke all on schema {} from public").format(
                sql.Identifier(schema[0])))
        conn.execute("create schema if not exists marts")
        conn.execute(sql.SQL("grant usage on schema marts to {}").format(name))
        conn.execute(sql.SQL("grant select on all tables in schema marts to {}").format(name))
        # dbt recreates the mart tables on every run: future tables are granted too.
        conn.execute(sql.SQL("alter default privileges in schema marts grant select on tables to {}")
                     .format(name))
