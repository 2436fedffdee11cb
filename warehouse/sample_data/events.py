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
    n_wf = cat.n_workflows
    wf = np.repeat(np.arange(n_wf), counts)
    n = len(wf)
    vi = cat.version_on_day[day, wf]
    acc = cat.wf_account[wf]
    end_ms = cat.end_ms

    # enrolment: local business-hours profile in the account's time zone
    hour = np.searchsorted(DIURNAL_CDF, rng.random(n), side="right")
    local_ms = hour * HOUR_MS + (rng.random(n) * HOUR_MS).astype(np.int64)
    t0 = cat.start_ms + day * DAY_MS + (local_ms - cat.acc_tz_min[acc] * 60_000) % DAY_MS
    contact = cat.acc_contact_off[acc] + (rng.random(n) * cat.acc_contact_pool[acc]).astype(
        np.int64)
    source = np.searchsorted(SOURCE_CDF, rng.random(n) * SOURCE_CDF[-1], side="right")
    exec_hash = mix48(np.arange(exec_base, exec_base + n, dtype=np.uint64), exec_salt)

    # experiment assignment and the probability of converting
    p_goal = cat.v_p_goal[vi]
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
    converted = rng.random(n) < p_goal
    timing = np.searchsorted(GOAL_TIMING_CDF, rng.random(n), side="right")
    cond_true = rng.random(n) < cat.wf_p_branch[wf]
    exits = ~converted & (rng.random(n) < cat.v_p_exit[vi])

    # step rows
    ns = cat.v_n_steps[vi]
    R = int(ns.sum())
    ex = np.repeat(np.arange(n), ns)
    first_row = np.cumsum(ns) - ns
    j = np.arange(R) - np.repeat(first_row, ns)
    gs = np.repeat(cat.v_step_off[vi], ns) + j
    stype = cat.s_type[gs]
    skipped = cat.s_branch[gs] & ~cond_true[ex]
    dur = np.exp(cat.s_mu[gs] + cat.s_sigma[gs] * rng.standard_normal(R))
    dur = np.clip(dur, cat.s_min[gs], cat.s_max[gs])
    is_wait = stype == WAIT
    dur = np.where(is_wait, cat.s_wait_ms[gs] * (1.0 + 0.03 * rng.random(R)), dur)
    dur = np.where(skipped, 0, dur.astype(np.int64))
    gap = np.clip(np.exp(np.log(40.0) + rng.standard_normal(R)), 1, 5_000).astype(np.int64)
    t0_rows = t0[ex]
    span = gap + dur
    start = t0_rows + _grouped_cumsum(span, first_row, ns) - dur

    # failures (the planted error spike multiplies them on its day)
    action = cat.s_action[gs]
    is_action = (action >= 0) & ~skipped
    p_fail = cat.s_p_fail[gs]
    spike_wf, spike_day, spike_factor = cat.error_spike
    spike = (wf[ex] == spike_wf) & ((start - cat.start_ms) // DAY_MS == spike_day)
    p_fail = np.where(spike, np.minimum(p_fail * spike_factor, 0.9), p_fail)
    failed = is_action & (rng.random(R) < p_fail)
    fatal = failed & ~converted[ex] & (rng.random(R) < FATAL_SHARE)
    fi = np.nonzero(failed)[0]
    err = np.zeros(R, np.int64)
    err[fi] = (rng.random(len(fi))[:, None] >= ERROR_CDF[action[fi]]).sum(axis=1)
    err_msg_k = rng.integers(0, ERROR_MSG.shape[1], R)
    timeout = failed & (err == ERROR_TYPES.index("api_timeout"))
    if timeout.any():  # a timed-out call takes the full timeout
        dur = np.where(timeout, 30_000, dur)
        span = gap + dur
        start = t0_rows + _grouped_cumsum(span, first_row, ns) - dur
    end = start + dur

    # where each execution stops
    big = np.int64(1 << 30)
    f = np.minimum.reduceat(np.where(fatal, j, big), first_row)
    w = cat.v_wait_pos[vi]
    early_goal = converted & (timing == 0)
    s = np.where(exits | early_goal, np.minimum(f, w), f)
    s = np.minimum(s, ns)
    complete = s == ns
    failed_ex = ~complete & (s == f)
    at_wait = ~complete & ~failed_ex
    s_rows = np.repeat(s, ns)
    before = j < s_rows
    reached = before | (j == s_rows)

    # costs of step.completed / step.failed
    credit_code = cat.s_credit_opts[gs, rng.integers(0, 4, R)]
    cost = CREDIT_VALUES[credit_code] * cat.acc_price[acc[ex]] * rng.uniform(0.85, 1.15, R)
    cost_wf, cost_day, cost_factor = cat.cost_spike
    end_day = (end - cat.start_ms) // DAY_MS
    cost = np.where((wf[ex] == cost_wf) & (end_day == cost_day), cost * cost_factor, cost)
    cost = np.round(cost, 6)

    wf_ids, vnum = cat.wf_ids, cat.v_num
    batches: list[Batch] = []

    def exec_cols(e_idx: np.ndarray) -> list:
        return [wf_ids[wf[e_idx]], vnum[vi[e_idx]], exec_hash[e_idx]]

    def row_batch(name: str, mask: np.ndarray, t: np.ndarray, extra) -> None:
        idx = np.nonzero(mask & (t < end_ms))[0]
        e_idx = ex[idx]
        cols = exec_cols(e_idx) + [cat.s_id[gs[idx]]] + [c(idx) for c in extra]
        batches.append(Batch(name, t[idx], acc[e_idx], cols))

    def exec_batch(name: str, mask: np.ndarray, t: np.ndarray, extra) -> np.ndarray:
        idx = np.nonzero(mask & (t < end_ms))[0]
        batches.append(Batch(name, t[idx], acc[idx], exec_cols(idx) + [c(idx) for c in extra]))
        present = np.zeros(n, bool)
        present[idx] = True
        return present

    exec_batch("execution.enrolled", np.ones(n, bool), t0, [
        lambda i: contact[i], lambda i: SOURCES[source[i]], lambda i: cat.wf_trigger[wf[i]],
        lambda i: exp_frag[i]])
    row_batch("step.started", ~skipped & reached, start, [])
    completed_rows = ~skipped & before & ~failed
    row_batch("step.completed", completed_rows, end, [
        lambda i: dur[i], lambda i: CREDIT_TEXT[credit_code[i]], lambda i: cost[i]])
    failed_rows = failed & reached
    row_batch("step.failed", failed_rows, end, [
        lambda i: dur[i], lambda i: ERROR_TYPE_ARR[err[i]],
        lambda i: ERROR_MSG[err[i], err_msg_k[i]], lambda i: CREDIT_TEXT[credit_code[i]],
        lambda i: cost[i]])
    row_batch("step.skipped", skipped & before, start, [])

    # terminal events
    stop_row = first_row + np.minimum(s, ns - 1)
    last_end = end[first_row + ns - 1]
    gap2 = rng.integers(1, 500, n)
    goal_at_step = complete & converted & (timing == 1)
    goal_after = complete & converted & (timing == 2)
    t_completed = last_end + gap2 + np.where(goal_at_step, 2, 0)
    t_failed = end[stop_row] + rng.integers(1, 50, n)
    wait_dur = np.maximum(dur[stop_row], 3)
    t_in_wait = start[stop_row] + 1 + (rng.random(n) * (wait_dur - 2)).astype(np.int64)
    t_goal = np.where(at_wait, t_in_wait, np.where(
        goal_at_step, last_end + 1, t_completed + rng.integers(5 * 60_000, 72 * HOUR_MS, n)))
    exit_u = rng.random(n)
    goal_value = np.full(n, "", dtype=object)
    conv_idx = np.nonzero(converted)[0]
    goal_value[conv_idx] = _goal_values(rng, cat.wf_value_mu[wf[conv_idx]])
    has_goal_event = exec_batch("goal.achieved", converted & (at_wait | complete), t_goal, [
        lambda i: cat.wf_goal_id[wf[i]], lambda i: goal_value[i]])
    has_completed = exec_batch("execution.completed", complete, t_completed, [])
    has_exited = exec_batch("execution.exited", at_wait & exits, t_in_wait, [
        lambda i: EXIT_REASONS[np.searchsorted(EXIT_CDF, exit_u[i], side="right")]])
    has_failed = exec_batch("execution.failed", failed_ex, t_failed, [
        lambda i: ERROR_TYPE_ARR[err[stop_row[i]]],
        lambda i: ERROR_MSG[err[stop_row[i]], err_msg_k[stop_row[i]]]])

    status = np.select([has_goal_event, has_completed, has_failed, has_exited],
                       [0, 1, 2, 3], default=4)
    cost_rows = np.nonzero((completed_rows | failed_rows) & (end < end_ms) & (cost > 0))[0]
    return Result(batches, np.bincount(status, minlength=5), acc[ex[cost_rows]],
                  end_day[cost_rows], cost[cost_rows])


def _goal_values(rng: np.random.Generator, mu: np.ndarray) -> np.ndarray:
    """',"value_usd":12.34' for most goals, '' for the rest."""
    n = len(mu)
    values = np.round(np.exp(mu + 0.8 * rng.standard_normal(n)), 2)
    has = rng.random(n) < GOAL_VALUE_SHARE
    out = np.full(n, "", dtype=object)
    idx = np.nonzero(has)[0]
    out[idx] = [',"value_usd":%.2f' % v for v in values[idx].tolist()]
    return out
