"""Refreshes asked of the API go to Dagster's run queue and are executed by a real
dagster-daemon (`wfa daemon`), never by an API process: two API processes asked at once share
one run, and the run builds the marts from the raw events."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from api.infra.keys import create_key
from tests.api_server import client
from tests.helpers import query, run_dbt
from tests.processes import api_process, daemon_process, refresh_runs
from tests.test_marts_scenario import EVENTS, LATE_EVENT, insert_raw, insert_reference

pytestmark = pytest.mark.db

REFRESH = "/api/v1/workflows/wf_main/analytics/refresh"
# an execution enrolled after the marts were built: only a refresh brings it in
X9 = {**LATE_EVENT, "event_id": "queue_x9", "execution_id": "X9", "contact_id": "k9",
      "received_at": "2026-03-06T00:00:00Z"}


@pytest.fixture(scope="module")
def settings(warehouse, tmp_path_factory):
    """The scenario's marts built by dbt, then one execution more in raw; a Dagster home of the
    module's own."""
    insert_reference(warehouse)
    insert_raw(warehouse, [*EVENTS, LATE_EVENT])
    run_dbt(warehouse, "run")
    insert_raw(warehouse, [X9])
    return warehouse.model_copy(update={"home": tmp_path_factory.mktemp("queue_home")})


def submitted(http, job_id: str, seconds: float = 300) -> str:
    """The job's run id, once its refresh is in Dagster's queue (a process's first submission
    parses the dbt project and loads the definitions)."""
    deadline = time.monotonic() + seconds
    while (job := http.get(f"/api/v1/jobs/{job_id}").json()).get("run_id") is None:
        assert job["status"] == "queued", job
        assert time.monotonic() < deadline, f"job {job_id} not submitted after {seconds} s"
        time.sleep(2)  # within the key's rate limit
    return job["run_id"]


def follow(settings, run_id: str, seconds: float = 1200) -> list[dict[str, str]]:
    """Every refresh run's status, sampled until `run_id` has ended."""
    samples, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        samples.append(refresh_runs(settings))
        if samples[-1][run_id] in ("SUCCESS", "FAILURE", "CANCELED"):
            return samples
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} still {samples[-1][run_id]} after {seconds} s")


def test_two_api_processes_asked_at_once_share_one_run(settings):
    executions = "select count(*) as n from marts.fct_executions"
    assert query(settings, executions)[0]["n"] == 8  # X1 to X8 of the scenario
    keys = [create_key(settings.warehouse_url, "acc_a", "admin", ["read"])[1] for _ in "12"]
    with api_process(settings, "api_one") as one, api_process(settings, "api_two") as two, \
            client(one, keys[0]) as first, client(two, keys[1]) as second:
        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(lambda http: http.post(REFRESH), (first, second)))
        assert [a.status_code for a in answers] == [202, 202]
        job_ids = [a.json()["job_id"] for a in answers]
        assert job_ids[0] != job_ids[1]
        runs = [submitted(http, job_id) for http, job_id in zip((first, second), job_ids)]
        # one run, two jobs: whichever request was submitted second joined the first's run
        assert runs[0] == runs[1]
        run_id = runs[0]
        assert refresh_runs(settings) == {run_id: "QUEUED"}

        # no daemon yet: the run waits in the queue, and the job says so
        waiting = second.get(f"/api/v1/jobs/{job_ids[0]}").json()
        assert (waiting["status"], waiting["run_id"], waiting["started_at"]) == (
            "queued", run_id, None)
        assert "no dagster-daemon has reported in the last 90 s" in waiting["detail"]

        with daemon_process(settings):
            samples = follow(settings, run_id)
        assert samples[-1] == {run_id: "SUCCESS"}
        assert max(list(s.values()).count("STARTED") for s in samples) == 1

        for http, job_id in ((first, job_ids[1]), (second, job_ids[0])):  # either server answers
            job = http.get(f"/api/v1/jobs/{job_id}").json()
            assert (job["status"], job["run_id"], job["detail"]) == ("success", run_id, None)
            assert job["finished_at"] > job["started_at"]
    raw = query(settings, "select count(distinct execution_id) as n from raw.events")[0]["n"]
    assert (query(settings, executions)[0]["n"], raw) == (9, 9)  # X9 too
