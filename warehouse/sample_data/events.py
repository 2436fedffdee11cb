"""Vectorised synthesis of workflow executions and their events, for one batch of enrolments.

Executions are arrays; their steps are rows expanded with np.repeat (one row per step of the
execution's workflow version). Per row: duration, gap before it, skip (branch not taken),
failure; per execution: conversion, exit, the step where it stops. Timestamps are grouped
cumulative sums, so every execution's events are strictly increasing from its enrolment.
Events at or after the end of the window are not emitted (executions still active).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warehouse.sample_data.catalog import (
    ACTION_TYPES,
    CREDIT_TEXT,
    CREDIT_VALUES,
    DAY_MS,
    DIURNAL,
    ERROR_MESSAGES,
    ERROR_MIX,
    ERROR_TYPES,
    HOUR_MS,
    WAIT,
    Catalog,
)
from warehouse.sample_data.lines import Batch, mix48

SOURCES = np.array(["trigger", "bulk", "api", "manual"], dtype=object)
SOURCE_CDF = np.cumsum([0.70, 0.10, 0.15, 0.05])
EXIT_REASONS = np.array(["unsubscribed", "manual_exit", "goal_unreachable", "contact_deleted"],
                        dtype=object)
EXIT_CDF = np.cumsum([0.45, 0.20, 0.25, 0.10])
GOAL_TIMING_CDF = np.array([0.25, 0.85])  # during the wait | at the goal step | after completion
FATAL_SHARE = 0.9  # a failed step ends the execution this often; otherwise it carries on
GOAL_VALUE_SHARE = 0.85
DIURNAL_CDF = np.cumsum(DIURNAL) / DIURNAL.sum()
ERROR_TYPE_ARR = np.array(ERROR_TYPES, dtype=object)
ERROR_CDF = np.cumsum(np.array([ERROR_MIX[a] for a in ACTION_TYPES]), axis=1)
ERROR_CDF[:, -1] = 1.0
ERROR_MSG = np.array([[ERROR_MESSAGES[e][k % len(ERROR_MESSAGES[e])] for k in range(3)]
                      for e in ERROR_TYPES], dtype=object)
STATUSES = ("goal_achieved", "completed", "error", "exited", "active")


@dataclass
class Result:
    batches: list[Batch]
    status_counts: np.ndarray  # per STATUSES
    cost_acc: np.ndarray  # account of each costed step event
    cost_day: np.ndarray  # its day offset
    cost_usd: np.ndarray  # its cost as written (6 decimals)


def _grouped_cumsum(values: np.ndarray, group_start: np.ndarray, counts: np.ndarray
                    ) -> np.ndarray:
    """Inclusive cumulative sum of values within consecutive groups."""
    cs = np.cumsum(values)
    before = cs[group_start] - values[group_start]
    return cs - np.repeat(before, counts)


def synthesize(cat: Catalog, day: int, counts: np.ndarray, rng: np.random.Generator,
               exec_base: int, exec_salt: int) -> Result:
    """Executions enrolled on `day` (counts per workflow) and all their events."""
    ex = _enrol(cat, day, counts, rng, exec_base, exec_salt)
    out = _outcomes(cat, day, ex, rng)
    rows = _step_rows(cat, ex, out, rng)
    _fail_steps(cat, ex, out, rows, rng)
    stop = _stops(cat, ex, out, rows)
    cost = _costs(cat, ex, rows, rng)
    events = _Events(cat, ex, rows)
    completed_rows, failed_rows = _step_events(events, out, rows, stop, cost)
    status = _terminal_events(events, cat, ex, out, rows, stop, rng)
    cost_rows = np.nonzero((completed_rows | failed_rows) & (rows.end < cat.end_ms)
                           & (cost.usd > 0))[0]
    return Result(events.batches, np.bincount(status, minlength=5), ex.acc[rows.ex[cost_rows]],
                  cost.end_day[cost_rows], cost.usd[cost_rows])


@dataclass
class _Executions:
    n: int
    wf: np.ndarray
    vi: np.ndarray  # global version index
    acc: np.ndarray
    t0: np.ndarray  # enrolment time
    contact: np.ndarray
    source: np.ndarray
    exec_hash: np.ndarray


@dataclass
class _Outcomes:
    """Per execution: experiment fragment of its enrolment, whether it converts, when the goal
    is reached, which way the condition goes, whether it exits at the wait."""
    exp_frag: np.ndarray
    converted: np.ndarray
    timing: np.ndarray  # index into GOAL_TIMING_CDF's intervals
    cond_true: np.ndarray
    exits: np.ndarray


@dataclass
class _Rows:
    """One row per step of each execution's version, executions in order."""
    ns: np.ndarray  # per execution: its number of steps
    ex: np.ndarray  # execution of each row
    first_row: np.ndarray  # per execution
    j: np.ndarray  # position within the version
    gs: np.ndarray  # global step index
    skipped: np.ndarray
    dur: np.ndarray
    gap: np.ndarray
    start: np.ndarray
    end: np.ndarray | None = None
    failed: np.ndarray | None = None
    fatal: np.ndarray | None = None
    err: np.ndarray | None = None
    err_msg_k: np.ndarray | None = None

    def retime(self, t0: np.ndarray) -> None:
        span = self.gap + self.dur
        self.start = t0[self.ex] + _grouped_cumsum(span, self.first_row, self.ns) - self.dur


@dataclass
class _Stops:
    """Where each execution stops: step position s (ns when it completes)."""
    s: np.ndarray
    complete: np.ndarray
    failed_ex: np.ndarray
    at_wait: np.ndarray
    before: np.ndarray  # per row: a step before the stop
    reached: np.ndarray  # per row: before it or the stop itself


@dataclass
class _Costs:
    credit_code: np.ndarray
    usd: np.ndarray  # as written (6 decimals)
    end_day: np.ndarray  # day offset of each row's end


def _enrol(cat: Catalog, day: int, counts: np.ndarray, rng: np.random.Generator,
           exec_base: int, exec_salt: int) -> _Executions:
    """Enrolment times on a local business-hours profile in the account's time zone, with
    the contact and the source."""
    wf = np.repeat(np.arange(cat.n_workflows), counts)
    n = len(wf)
    acc = cat.wf_account[wf]
    hour = np.searchsorted(DIURNAL_CDF, rng.random(n), side="right")
    local_ms = hour * HOUR_MS + (rng.random(n) * HOUR_MS).astype(np.int64)
    t0 = cat.start_ms + day * DAY_MS + (local_ms - cat.acc_tz_min[acc] * 60_000) % DAY_MS
    contact = cat.acc_contact_off[acc] + (rng.random(n) * cat.acc_contact_pool[acc]).astype(
        np.int64)
    source = np.searchsorted(SOURCE_CDF, rng.random(n) * SOURCE_CDF[-1], side="right")
    exec_hash = mix48(np.arange(exec_base, exec_base + n, dtype=np.uint64), exec_salt)
    return _Executions(n, wf, cat.version_on_day[day, wf], acc, t0, contact, source, exec_hash)


def _outcomes(cat: Catalog, day: int, ex: _Executions, rng: np.random.Generator) -> _Outcomes:
    p_goal, exp_frag = _experiment_arms(cat, day, ex, rng)
    n = ex.n
    converted = rng.random(n) < p_goal
    timing = np.searchsorted(GOAL_TIMING_CDF, rng.random(n), side="right")
    cond_true = rng.random(n) < cat.wf_p_branch[ex.wf]
    exits = ~converted & (rng.random(n) < cat.v_p_exit[ex.vi])
    return _Outcomes(exp_frag, converted, timing, cond_true, exits)


def _experiment_arms(cat: Catalog, day: int, ex: _Executions, rng: np.random.Generator
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Each execution's probability of converting (its variant's, while its workflow's
    experiment runs) and the experiment fields of its enrolment event."""
    n, wf = ex.n, ex.wf
    p_goal = cat.v_p_goal[ex.vi]
    exp_frag = np.full(n, "", dtype=object)
    if len(cat.exp_ids):
        e = np.where(cat.wf_exp[wf] >= 0, cat.wf_exp[wf], 0)
        in_exp = (cat.wf_exp[wf] >= 0) & (day >= cat.exp_first_day[e]) & (
            day < cat.exp_end_day[e])
        variant = (rng.random(n)[:, None] >= cat.exp_cum_share[e]).sum(axis=1)
        variant = np.minimum(variant, cat.exp_cum_share.shape[1] - 1)
        p_goal = np.where(in_exp, cat.exp_p[e, variant], p_goal)
        idx = np.nonzero(in_exp)[0]
        exp_frag[idx] = [f',"experiment_id":"{x}","variant":"{v}"' for x, v in zip(
            cat.exp_ids[e[idx]].tolist(), cat.exp_variant[e[idx], variant[idx]].tolist())]
    return p_goal, exp_frag


def _step_rows(cat: Catalog, ex: _Executions, out: _Outcomes, rng: np.random.Generator
               ) -> _Rows:
    """Every step of every execution with its duration, the gap before it and its start;
    the branch's steps are skipped (no duration) when the condition is false."""
    ns = cat.v_n_steps[ex.vi]
    R = int(ns.sum())
    row_ex = np.repeat(np.arange(ex.n), ns)
    first_row = np.cumsum(ns) - ns
    j = np.arange(R) - np.repeat(first_row, ns)
    gs = np.repeat(cat.v_step_off[ex.vi], ns) + j
    skipped = cat.s_branch[gs] & ~out.cond_true[row_ex]
    dur = np.exp(cat.s_mu[gs] + cat.s_sigma[gs] * rng.standard_normal(R))
    dur = np.clip(dur, cat.s_min[gs], cat.s_max[gs])
    is_wait = cat.s_type[gs] == WAIT
    dur = np.where(is_wait, cat.s_wait_ms[gs] * (1.0 + 0.03 * rng.random(R)), dur)
    dur = np.where(skipped, 0, dur.astype(np.int64))
    gap = np.clip(np.exp(np.log(40.0) + rng.standard_normal(R)), 1, 5_000).astype(np.int64)
    rows = _Rows(ns, row_ex, first_row, j, gs, skipped, dur, gap, start=np.zeros(0, np.int64))
    rows.retime(ex.t0)
    return rows


def _fail_steps(cat: Catalog, ex: _Executions, out: _Outcomes, rows: _Rows,
                rng: np.random.Generator) -> None:
    """Which action steps fail (more on the planted error spike's day), with what error, and
    whether the failure ends the execution; a timed-out call takes the full timeout."""
    R = len(rows.ex)
    action = cat.s_action[rows.gs]
    is_action = (action >= 0) & ~rows.skipped
    p_fail = cat.s_p_fail[rows.gs]
    spike_wf, spike_day, spike_factor = cat.error_spike
    spike = (ex.wf[rows.ex] == spike_wf) & ((rows.start - cat.start_ms) // DAY_MS == spike_day)
    p_fail = np.where(spike, np.minimum(p_fail * spike_factor, 0.9), p_fail)
    failed = is_action & (rng.random(R) < p_fail)
    rows.failed = failed
    rows.fatal = failed & ~out.converted[rows.ex] & (rng.random(R) < FATAL_SHARE)
    fi = np.nonzero(failed)[0]
    err = np.zeros(R, np.int64)
    err[fi] = (rng.random(len(fi))[:, None] >= ERROR_CDF[action[fi]]).sum(axis=1)
    rows.err = err
    rows.err_msg_k = rng.integers(0, ERROR_MSG.shape[1], R)
    timeout = failed & (err == ERROR_TYPES.index("api_timeout"))
    if timeout.any():
        rows.dur = np.where(timeout, 30_000, rows.dur)
        rows.retime(ex.t0)
    rows.end = rows.start + rows.dur


def _stops(cat: Catalog, ex: _Executions, out: _Outcomes, rows: _Rows) -> _Stops:
    """An execution stops at its first fatal failure, or at the wait when it exits or
    converts during it; otherwise it completes."""
    ns, j = rows.ns, rows.j
    big = np.int64(1 << 30)
    f = np.minimum.reduceat(np.where(rows.fatal, j, big), rows.first_row)
    w = cat.v_wait_pos[ex.vi]
    early_goal = out.converted & (out.timing == 0)
    s = np.where(out.exits | early_goal, np.minimum(f, w), f)
    s = np.minimum(s, ns)
    complete = s == ns
    failed_ex = ~complete & (s == f)
    s_rows = np.repeat(s, ns)
    before = j < s_rows
    return _Stops(s, complete, failed_ex, ~complete & ~failed_ex, before,
                  before | (j == s_rows))


def _costs(cat: Catalog, ex: _Executions, rows: _Rows, rng: np.random.Generator) -> _Costs:
    """Cost of each step row: credits x the plan's price x noise, multiplied on the planted
    cost spike's day."""
    R = len(rows.ex)
    credit_code = cat.s_credit_opts[rows.gs, rng.integers(0, 4, R)]
    cost = (CREDIT_VALUES[credit_code] * cat.acc_price[ex.acc[rows.ex]]
            * rng.uniform(0.85, 1.15, R))
    cost_wf, cost_day, cost_factor = cat.cost_spike
    end_day = (rows.end - cat.start_ms) // DAY_MS
    cost = np.where((ex.wf[rows.ex] == cost_wf) & (end_day == cost_day), cost * cost_factor,
                    cost)
    return _Costs(credit_code, np.round(cost, 6), end_day)


class _Events:
    """The batches of events, those at or after the end of the window left out."""

    def __init__(self, cat: Catalog, ex: _Executions, rows: _Rows) -> None:
        self.cat, self.ex, self.rows = cat, ex, rows
        self.batches: list[Batch] = []

    def _exec_cols(self, e_idx: np.ndarray) -> list:
        ex = self.ex
        return [self.cat.wf_ids[ex.wf[e_idx]], self.cat.v_num[ex.vi[e_idx]], ex.exec_hash[e_idx]]

    def of_rows(self, name: str, mask: np.ndarray, t: np.ndarray, extra) -> None:
        """A step event per row in mask, with the columns of `extra` (functions of the rows)."""
        idx = np.nonzero(mask & (t < self.cat.end_ms))[0]
        e_idx = self.rows.ex[idx]
        cols = self._exec_cols(e_idx) + [self.cat.s_id[self.rows.gs[idx]]] + [
            c(idx) for c in extra]
        self.batches.append(Batch(name, t[idx], self.ex.acc[e_idx], cols))

    def of_executions(self, name: str, mask: np.ndarray, t: np.ndarray, extra) -> np.ndarray:
        """An execution event per execution in mask; returns which executions got one."""
        idx = np.nonzero(mask & (t < self.cat.end_ms))[0]
        self.batches.append(Batch(name, t[idx], self.ex.acc[idx],
                                  self._exec_cols(idx) + [c(idx) for c in extra]))
        present = np.zeros(self.ex.n, bool)
        present[idx] = True
        return present


def _step_events(events: _Events, out: _Outcomes, rows: _Rows, stop: _Stops, cost: _Costs
                 ) -> tuple[np.ndarray, np.ndarray]:
    """execution.enrolled and the step events; returns the completed and the failed rows."""
    ex, cat = events.ex, events.cat
    events.of_executions("execution.enrolled", np.ones(ex.n, bool), ex.t0, [
        lambda i: ex.contact[i], lambda i: SOURCES[ex.source[i]],
        lambda i: cat.wf_trigger[ex.wf[i]], lambda i: out.exp_frag[i]])
    reached_rows = ~rows.skipped & stop.reached
    events.of_rows("step.started", reached_rows, rows.start, [])
    completed_rows = ~rows.skipped & stop.before & ~rows.failed
    events.of_rows("step.completed", completed_rows, rows.end, [
        lambda i: rows.dur[i], lambda i: CREDIT_TEXT[cost.credit_code[i]],
        lambda i: cost.usd[i]])
    failed_rows = rows.failed & stop.reached
    events.of_rows("step.failed", failed_rows, rows.end, [
        lambda i: rows.dur[i], lambda i: ERROR_TYPE_ARR[rows.err[i]],
        lambda i: ERROR_MSG[rows.err[i], rows.err_msg_k[i]],
        lambda i: CREDIT_TEXT[cost.credit_code[i]], lambda i: cost.usd[i]])
    events.of_rows("step.skipped", rows.skipped & stop.before, rows.start, [])
    return completed_rows, failed_rows


@dataclass
class _Ends:
    """Per execution: the row it stops at and the times of its terminal events."""
    stop_row: np.ndarray
    t_completed: np.ndarray
    t_failed: np.ndarray
    t_in_wait: np.ndarray  # exit, or goal during the wait
    t_goal: np.ndarray


def _end_times(ex: _Executions, out: _Outcomes, rows: _Rows, stop: _Stops,
               rng: np.random.Generator) -> _Ends:
    """A goal is reached during the wait, at the goal step or minutes to days after the
    execution completes."""
    n, first_row, ns = ex.n, rows.first_row, rows.ns
    stop_row = first_row + np.minimum(stop.s, ns - 1)
    last_end = rows.end[first_row + ns - 1]
    gap2 = rng.integers(1, 500, n)
    goal_at_step = stop.complete & out.converted & (out.timing == 1)
    t_completed = last_end + gap2 + np.where(goal_at_step, 2, 0)
    t_failed = rows.end[stop_row] + rng.integers(1, 50, n)
    wait_dur = np.maximum(rows.dur[stop_row], 3)
    t_in_wait = rows.start[stop_row] + 1 + (rng.random(n) * (wait_dur - 2)).astype(np.int64)
    t_goal = np.where(stop.at_wait, t_in_wait, np.where(
        goal_at_step, last_end + 1, t_completed + rng.integers(5 * 60_000, 72 * HOUR_MS, n)))
    return _Ends(stop_row, t_completed, t_failed, t_in_wait, t_goal)


def _terminal_events(events: _Events, cat: Catalog, ex: _Executions, out: _Outcomes,
                     rows: _Rows, stop: _Stops, rng: np.random.Generator) -> np.ndarray:
    """goal.achieved and the execution's end event; returns each execution's status (index
    into STATUSES; active when its end falls after the window)."""
    ends = _end_times(ex, out, rows, stop, rng)
    stop_row = ends.stop_row
    exit_u = rng.random(ex.n)
    goal_value = np.full(ex.n, "", dtype=object)
    conv_idx = np.nonzero(out.converted)[0]
    goal_value[conv_idx] = _goal_values(rng, cat.wf_value_mu[ex.wf[conv_idx]])
    has_goal_event = events.of_executions(
        "goal.achieved", out.converted & (stop.at_wait | stop.complete), ends.t_goal, [
            lambda i: cat.wf_goal_id[ex.wf[i]], lambda i: goal_value[i]])
    has_completed = events.of_executions("execution.completed", stop.complete,
                                         ends.t_completed, [])
    has_exited = events.of_executions("execution.exited", stop.at_wait & out.exits,
                                      ends.t_in_wait, [
        lambda i: EXIT_REASONS[np.searchsorted(EXIT_CDF, exit_u[i], side="right")]])
    has_failed = events.of_executions("execution.failed", stop.failed_ex, ends.t_failed, [
        lambda i: ERROR_TYPE_ARR[rows.err[stop_row[i]]],
        lambda i: ERROR_MSG[rows.err[stop_row[i]], rows.err_msg_k[stop_row[i]]]])
    return np.select([has_goal_event, has_completed, has_failed, has_exited],
                     [0, 1, 2, 3], default=4)


def _goal_values(rng: np.random.Generator, mu: np.ndarray) -> np.ndarray:
    """',"value_usd":12.34' for most goals, '' for the rest."""
    n = len(mu)
    values = np.round(np.exp(mu + 0.8 * rng.standard_normal(n)), 2)
    has = rng.random(n) < GOAL_VALUE_SHARE
    out = np.full(n, "", dtype=object)
    idx = np.nonzero(has)[0]
    out[idx] = [',"value_usd":%.2f' % v for v in values[idx].tolist()]
    return out
