"""Refresh jobs: a job in platform.jobs answered at once, its work a run in Dagster's run queue.

The run is executed by the dagster-daemon, never by the API; a refresh asked while one is queued
or running joins that run (orchestration/run_queue.py), so API workers never run two side by
side. The job has its run id once submitted; its state is read from the run until the run has
ended, then kept in platform.jobs.
"""

from __future__ import annotations

import threading
import uuid

from psycopg_pool import ConnectionPool

ESTIMATED_SECONDS = 30
ENDED = ("success", "failure")


def create(conn, account_id: str, workflow_id: str | None, kind: str = "refresh") -> str:
    job_id = str(uuid.uuid4())
    conn.execute("insert into platform.jobs (job_id, account_id, workflow_id, kind, status)"
                 " values (%s, %s, %s, %s, 'queued')", (job_id, account_id, workflow_id, kind))
    return job_id


def launch(pool: ConnectionPool, settings, job_id: str) -> None:
    """Submit the job's refresh on a thread of its own: a first submission in a process loads the
    dbt project and the Dagster definitions (seconds to a minute), too long to answer after."""
    threading.Thread(target=_submit, args=(pool, settings, job_id), daemon=True,
                     name=f"refresh-{job_id[:8]}").start()


def _submit(pool: ConnectionPool, settings, job_id: str) -> None:
    from orchestration.run_queue import submit_refresh

    try:
        run_id, detail = submit_refresh(settings).run_id, None
    except Exception as exc:  # noqa: BLE001 - the job records why it was not submitted
        run_id, detail = None, f"not submitted to Dagster: {type(exc).__name__}: {exc}"[:500]
    with pool.connection() as conn:
        if run_id is None:
            conn.execute("update platform.jobs set status = 'failure', finished_at = now(),"
                         " detail = %s where job_id = %s", (detail, job_id))
        else:
            conn.execute("update platform.jobs set run_id = %s where job_id = %s",
                         (run_id, job_id))


def get(conn, job_id: str, account_id: str, settings) -> dict | None:
    row = conn.execute("select * from platform.jobs where job_id = %s and account_id = %s",
                       (job_id, account_id)).fetchone()
    if row is None or row["run_id"] is None or row["status"] in ENDED:
        return row
    from orchestration.run_queue import run_state

    state = run_state(settings, row["run_id"])
    if state is None:
        return {**row, "status": "failure", "detail": "the Dagster run is not in the instance"}
    row = {**row, "status": state.status, "started_at": state.started_at,
           "finished_at": state.finished_at, "detail": state.detail}
    if state.status in ENDED:
        conn.execute("update platform.jobs set status = %s, started_at = %s, finished_at = %s,"
                     " detail = %s where job_id = %s",
                     (state.status, state.started_at, state.finished_at, state.detail, job_id))
    return row
