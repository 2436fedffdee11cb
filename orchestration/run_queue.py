"""Refreshes handed to Dagster's run queue, for the API: submit a run of `refresh_all` (or join
the one already queued or running) and read where it stands. The dagster-daemon (`wfa ui`,
`wfa daemon`) takes queued runs and executes them; nothing runs in the caller's process.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import dagster as dg
import psycopg

from orchestration.dagster_home import prepare, prepare_dagster
from orchestration.defs.jobs import REFRESH_ALL, refresh_tags
from orchestration.stale_runs import fail_orphaned_runs
from warehouse.server import ensure_databases
from warehouse.settings import PROJECT_DIR, Settings

WORKSPACE_YAML = PROJECT_DIR / "workspace.yaml"
# one submitter at a time looks for a run to join and submits: API workers are processes
SUBMIT_LOCK = 7_310_482_001
PENDING = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
           dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
JOB_STATUS = {"QUEUED": "queued", "NOT_STARTED": "queued", "STARTING": "running",
              "STARTED": "running", "CANCELING": "running", "SUCCESS": "success",
              "FAILURE": "failure", "CANCELED": "failure"}
# the daemon writes a heartbeat every 30 s; silent for longer than this, it is taken as absent
DAEMON_SILENT_SECONDS = 90


@dataclass(frozen=True)
class Submitted:
    run_id: str
    joined: bool  # the run was already queued or running; no other was submitted


@dataclass(frozen=True)
class RunState:
    run_status: str  # Dagster's, e.g. QUEUED, STARTED, SUCCESS
    status: str  # the job's: queued, running, success, failure
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    detail: str | None


def submit_refresh(settings: Settings) -> Submitted:
    """Join the refresh_all run queued or running, or queue a new one."""
    ensure_databases(settings)  # Dagster's own database, on the warehouse's server
    prepare(settings)
    with psycopg.connect(settings.dagster_url, autocommit=True) as lock, \
            dg.DagsterInstance.get() as instance:
        lock.execute("select pg_advisory_lock(%s)", (SUBMIT_LOCK,))  # released with the session
        # a run left STARTED by a killed `wfa run` would otherwise be joined forever
        fail_orphaned_runs(instance, echo=lambda _: None)
        pending = instance.get_runs(dg.RunsFilter(job_name=REFRESH_ALL, statuses=PENDING), limit=1)
        if pending:
            return Submitted(pending[0].run_id, joined=True)
        _prepare_code(settings)
        return Submitted(_submit(instance, REFRESH_ALL, refresh_tags()), joined=False)


_prepared: set[str] = set()  # Dagster homes whose dbt manifest this process has parsed


def _prepare_code(settings: Settings) -> None:
    """dbt parse (tens of seconds on a busy machine) once per process, under the submit lock:
    the manifest is the project's, which a running process does not see change."""
    home = str(settings.dagster_home)
    if home not in _prepared:
        prepare_dagster(settings)
        _prepared.add(home)


def _submit(instance: dg.DagsterInstance, job_name: str, tags: dict[str, str]) -> str:
    """Create the run from the workspace's code location, loaded here, and queue it. The daemon
    launches it from its own copy of that location, found by the same name."""
    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load import location_origins_from_yaml_paths
    from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget

    (origin,) = location_origins_from_yaml_paths([str(WORKSPACE_YAML)])
    here = InProcessCodeLocationOrigin(origin.loadable_target_origin,
                                       location_name=origin.location_name)
    with WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget([here])) as process:
        workspace = process.create_request_context()
        location = workspace.get_code_location(origin.location_name)
        (repository,) = location.get_repositories().values()
        job = repository.get_full_job(job_name)
        plan = location.get_execution_plan(job, {}, step_keys_to_execute=None, known_state=None,
                                           instance=instance).execution_plan_snapshot
        run = instance.create_run(
            job_name=job_name, run_id=None, run_config={}, resolved_op_selection=None,
            step_keys_to_execute=plan.step_keys_to_execute, op_selection=None, status=None,
            root_run_id=None, parent_run_id=None, tags={**job.run_tags, **tags},
            job_snapshot=job.job_snapshot, execution_plan_snapshot=plan,
            parent_job_snapshot=job.parent_job_snapshot, remote_job_origin=job.get_remote_origin(),
            job_code_origin=job.get_python_origin(), asset_selection=None,
            asset_check_selection=None, asset_graph=repository.asset_graph)
        instance.submit_run(run.run_id, workspace)
    return run.run_id


_instances: dict[str, dg.DagsterInstance] = {}  # one per Dagster home, kept: reads are frequent


def _instance(settings: Settings) -> dg.DagsterInstance:
    home = str(prepare(settings))
    if home not in _instances:
        _instances[home] = dg.DagsterInstance.get()
    return _instances[home]


def run_state(settings: Settings, run_id: str) -> RunState | None:
    """Where the run stands in Dagster's instance; None if the instance has no such run."""
    instance = _instance(settings)
    record = instance.get_run_record_by_id(run_id)
    if record is None:
        return None
    run_status = record.dagster_run.status.value
    status = JOB_STATUS.get(run_status, "running")
    detail = {"failure": f"the Dagster run ended {run_status}; see its logs in the Dagster UI",
              "queued": _queued_detail(instance)}.get(status)
    return RunState(run_status, status, _utc(record.start_time), _utc(record.end_time), detail)


def _queued_detail(instance: dg.DagsterInstance) -> str:
    beat = instance.get_daemon_heartbeats().get("QUEUED_RUN_COORDINATOR")
    if beat is not None and time.time() - beat.timestamp <= DAEMON_SILENT_SECONDS:
        return "in Dagster's run queue: the dagster-daemon starts it after any refresh before it"
    return (f"in Dagster's run queue, and no dagster-daemon has reported in the last "
            f"{DAEMON_SILENT_SECONDS} s: the run stays queued until one runs (`wfa ui` or "
            "`wfa daemon`)")


def _utc(stamp: float | None) -> dt.datetime | None:
    return None if stamp is None else dt.datetime.fromtimestamp(stamp, dt.timezone.utc)
