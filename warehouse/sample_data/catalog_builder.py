"""build_catalog: the reference data and the planted facts, drawn from one random stream in a
fixed order (accounts, workflows, experiments' baselines, versions) so that a seed always
gives the same catalog."""

from __future__ import annotations

import datetime as dt

import numpy as np

from warehouse.sample_data.accounts import build_accounts
from warehouse.sample_data.catalog import (
    COST_SPIKE_FACTOR,
    DAY_MS,
    ERROR_SPIKE_FACTOR,
    TRAFFIC_DROP_FACTOR,
    Catalog,
    anomaly_days,
    day_ms,
    n_accounts_for,
)
from warehouse.sample_data.experiments import build_experiments, experiment_workflows
from warehouse.sample_data.versions import build_versions
from warehouse.sample_data.workflows import Workflows, build_workflows

# (kind, metric, description) of each planted anomaly, in the order of anomaly_days.
ANOMALY_KINDS = (
    ("error_rate_spike", "step_failure_rate",
     "action steps fail this many times as often as usual, on that UTC day"),
    ("cost_spike", "cost_usd",
     "cost_usd of the workflow's step events multiplied by this, on that UTC day"),
    ("traffic_drop", "enrollments",
     "enrolments are this share of the workflow's typical weekday (down 80%)"),
)
# Workflow rank and effect of the upgrades planted whatever the draws.
FORCED_UPGRADES = ((0, "speed"), (4, "conversion"), (5, "speed"))


def build_catalog(rng: np.random.Generator, *, events: int, days: int, start: dt.date
                  ) -> Catalog:
    start_ms = day_ms(start, 0)
    accounts = build_accounts(rng, n_accounts_for(events), start_ms)
    wfs = build_workflows(rng, accounts, days, start_ms)
    # anomalies and experiments go to the busiest workflows, so they are visible at any scale
    busiest = wfs.busiest()
    spikes = _planted_anomalies(busiest, start, days)
    wfs.fail_mult[busiest[0]] = 1.6  # a visible baseline for the error spike to stand out from
    exp_wfs = experiment_workflows(busiest)
    for w in exp_wfs:
        wfs.base_p_goal[w] = rng.uniform(0.20, 0.30)
    forced = {busiest[k]: effect for k, effect in FORCED_UPGRADES if k < wfs.n}
    versions, steps, upgrades = build_versions(rng, wfs, forced, set(exp_wfs), start, days)
    experiments = build_experiments(wfs, busiest, start_ms, days)
    error_spike, cost_spike, traffic_drop = spikes
    return Catalog(
        start=start, days=days, start_ms=start_ms, end_ms=start_ms + days * DAY_MS,
        **accounts.fields(), **wfs.fields(), **versions.fields(days, wfs.n), **steps.fields(),
        **experiments.fields(), upgrades=upgrades, anomalies=_anomaly_rows(spikes, wfs, start),
        error_spike=error_spike, cost_spike=cost_spike, traffic_drop=traffic_drop)


def _planted_anomalies(busiest: list[int], start: dt.date, days: int
                       ) -> list[tuple[int, int, float]]:
    """(workflow, day, factor) of the error spike, the cost spike and the traffic drop."""
    error_day, cost_day, drop_day = anomaly_days(start, days)
    return [(busiest[0], error_day, ERROR_SPIKE_FACTOR), (busiest[1], cost_day, COST_SPIKE_FACTOR),
            (busiest[0], drop_day, TRAFFIC_DROP_FACTOR)]


def _anomaly_rows(spikes: list[tuple[int, int, float]], wfs: Workflows, start: dt.date
                  ) -> list[dict]:
    return [{"kind": kind, "account_id": wfs.account_ids[w], "workflow_id": wfs.ids[w],
             "metric": metric, "date": (start + dt.timedelta(days=day)).isoformat(),
             "magnitude": factor, "day_offset": int(day), "description": description}
            for (kind, metric, description), (w, day, factor) in zip(ANOMALY_KINDS, spikes)]
