"""Runs executed in process (`wfa run`, `wfa backfill`) whose process died without ending them.

A run executed in process is ended by that process. Killed (kill -9, a crash, the machine
stopping), it would stay STARTED in Dagster forever, and the freshness sensor and the hourly
schedule, which wait while a refresh is in progress (orchestration/defs/jobs.py `_busy`), would
never start another. So every such run is tagged with the process that executes it (host, pid
and the process's start time, which tells a reused pid apart), and whatever launches runs first
marks FAILURE those whose process no longer exists on this host.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

import dagster as dg
import psutil

HOST_TAG = "wfa/host"
PID_TAG = "wfa/pid"
PROCESS_STARTED_TAG = "wfa/process_started"
UNFINISHED = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
              dg.DagsterRunStatus.STARTED]


def process_tags() -> dict[str, str]:
    """Tags naming the current process, for a run it executes in process."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid()),
            PROCESS_STARTED_TAG: f"{psutil.Process().create_time():.2f}"}


def _alive(pid: int, started: str) -> bool:
    try:
        return f"{psutil.Process(pid).create_time():.2f}" == started
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False


def fail_orphaned_runs(instance: dg.DagsterInstance,
                       echo: Callable[[str], None] = print) -> list[str]:
    """Mark FAILURE the unfinished runs executed in process by a process of this host that no
    longer exists; return their ids. Runs of other hosts, and runs launched by Dagster's own
    run launcher (untagged: its run monitoring follows them), are left alone."""
    host = socket.gethostname()
    failed = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=UNFINISHED)):
        tags = run.tags
        if tags.get(HOST_TAG) != host or not tags.get(PID_TAG, "").isdigit():
            continue
        if _alive(int(tags[PID_TAG]), tags.get(PROCESS_STARTED_TAG, "")):
            continue
        instance.report_run_failed(
            run, f"the process that executed this run (pid {tags[PID_TAG]} on {host}) ended "
                 "without finishing it (killed?); marked failed at the next start")
        failed.append(run.run_id)
        echo(f"run {run.run_id} ({run.job_name}) was left {run.status.value} by a process that "
             "no longer exists: marked FAILURE")
    return failed
