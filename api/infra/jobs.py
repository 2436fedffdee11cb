"""Refresh jobs: a Dagster run of the marts, launched in the background and followed in
platform.jobs (job_id answered at once; the Dagster run id recorded once it starts)."""

from __future__ import annotations

import threading
import uuid

from psycopg_pool import ConnectionPool

ESTIMATED_SECONDS = 30


def create(conn, account_id: str, workflow_id: str | None, kind: str = "refresh") -> str:
    job_id = str(uuid.uuid4())
    conn.execute("insert into platform.jobs (job_id, account_id, workflow_id, kind, status)"
                 " values (%s, %s, %s, %s, 'queued')", (job_id, account_id, workflow_id, kind))
    return job_id


def launch(pool: ConnectionPool, settings, job_id: str) -> None:
    threading.Thread(target=_run, args=(pool, settings, job_id), daemon=True,
                     name=f"refresh-{job_id[:8]}").start()


def _set(pool: ConnectionPool, job_id: str, **fields) -> None:
    assignments = ", ".join(f"{name} = %({name})s" for name in fields)  # names are ours, values bound
    stamps = {"running": ", started_at = now()", "success": ", finished_at = now()",
              "failure": ", finished_at = now()"}.get(fields.get("status"), "")
    with pool.connection() as conn:
        conn.execute(f"update platform.jobs set {assignments}{stamps} where job_id = %(job_id)s",
                     {**fields, "job_id": job_id})


_lock = threading.Lock()  # one refresh at a time in this process: runs rebuild the same marts


def _run(pool: ConnectionPool, settings, job_id: str) -> None:
    with _lock:
        _set(pool, job_id, status="running")
        try:
            import dagster as dg

            from orchestration.dagster_home import prepare_dagster
            from orchestration.definitions import build_definitions
            from orchestration.defs.jobs import REFRESH_ALL as REFRESH_JOB
            from orchestration.defs.jobs import refresh_tags
            from orchestration.stale_runs import fail_orphaned_runs, process_tags
            from warehouse.server import ensure_databases

            ensure_databases(settings)  # Dagster's own database, on the warehouse's server
            prepare_dagster(settings)
            job = build_definitions().resolve_job_def(REFRESH_JOB)
            run_id = str(uuid.uuid4())
            _set(pool, job_id, run_id=run_id)
            with dg.DagsterInstance.get() as instance:
                fail_orphaned_runs(instance, echo=lambda _: None)
                result = job.execute_in_process(instance=instance, raise_on_error=False,
                                                run_id=run_id,
                                                tags={**refresh_tags(), **process_tags()})
            _set(pool, job_id, status="success" if result.success else "failure",
                 detail=None if result.success else "the Dagster run failed; see its logs")
        except Exception as exc:  # noqa: BLE001 - the job records why it failed
            _set(pool, job_id, status="failure", detail=f"{type(exc).__name__}: {exc}"[:500])


def get(conn, job_id: str, account_id: str) -> dict | None:
    return conn.execute("select * from platform.jobs where job_id = %s and account_id = %s",
                        (job_id, account_id)).fetchone()
