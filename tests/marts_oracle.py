"""The fact marts (fct_executions, fct_workflow_daily, fct_action_daily, fct_cost_daily,
fct_workflow_step_daily, fct_errors_daily, fct_executions_hourly, fct_user_activity_daily and
fct_retention_cohorts), recomputed in plain Python from raw.events and raw.workflow_steps.

An independent reading of the event contract and of the marts' documented definitions: the only
SQL here reads raw rows, and nothing follows the dbt models' way of computing. Sums of money,
credits and durations are exact (Decimal, from the JSON text of the properties); percentiles are
floats, as percentile_cont is in PostgreSQL.

expected_marts() returns, per mart, its rows keyed by the mart's grain (MART_KEYS): a dict of
column -> value for every other column.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

import psycopg

MART_KEYS = {
    "fct_executions": ("execution_id",),
    "fct_workflow_daily": ("account_id", "workflow_id", "date"),
    "fct_action_daily": ("account_id", "workflow_id", "action_type", "date"),
    "fct_cost_daily": ("account_id", "workflow_id", "action_type", "date"),
    "fct_workflow_step_daily": ("account_id", "workflow_id", "workflow_version", "step_id", "date"),
    "fct_errors_daily": ("account_id", "workflow_id", "step_id", "error_type", "date"),
    "fct_executions_hourly": ("account_id", "workflow_id", "trigger_type", "hour"),
    "fct_user_activity_daily": ("account_id", "user_id", "date"),
    "fct_retention_cohorts": ("account_id", "cohort_type", "grain", "cohort_start",
                              "period_number"),
}

ZERO = Decimal(0)
TERMINAL_TYPES = ("goal.achieved", "execution.completed", "execution.failed", "execution.exited")
OUTCOME_TYPES = ("step.completed", "step.failed")
ENTRY_TYPES = ("step.started", "step.completed", "step.failed")
FINISHED = ("completed", "goal_achieved")


@dataclass(frozen=True)
class Event:
    event_id: str
    event_type: str
    occurred_at: dt.datetime
    account_id: str
    workflow_id: str | None
    workflow_version: int | None
    execution_id: str | None
    contact_id: str | None
    step_id: str | None
    user_id: str | None
    properties: dict

    @property
    def day(self) -> dt.date:
        return utc_day(self.occurred_at)

    def number(self, key: str) -> Decimal | None:
        """A numeric property, exact; a number sent as a JSON string counts as that number."""
        value = self.properties.get(key)
        return None if value is None else Decimal(str(value))

    def amount(self, key: str) -> Decimal:
        """credits / cost_usd: a missing one costs nothing."""
        return self.number(key) or ZERO


@dataclass(frozen=True)
class StepDefinition:
    step_order: int | None
    step_type: str | None
    step_name: str | None
    action_type: str | None

    @property
    def action(self) -> str | None:
        """The action type of an action step, else None."""
        return self.action_type if self.step_type == "action" else None


StepKey = tuple[str, int, str]  # workflow_id, workflow_version, step_id


def utc_day(moment: dt.datetime | None) -> dt.date | None:
    return None if moment is None else moment.astimezone(dt.timezone.utc).date()


def read_raw(conn: psycopg.Connection) -> tuple[list[Event], dict[StepKey, StepDefinition]]:
    rows = conn.execute(
        "select event_id, event_type, occurred_at, account_id, workflow_id, workflow_version,"
        " execution_id, contact_id, step_id, user_id, properties::text from raw.events"
    ).fetchall()
    # numbers parsed from the JSON text as Decimal: no float rounding before the sums
    events = [Event(*row[:10], json.loads(row[10], parse_float=Decimal, parse_int=Decimal)
                    if row[10] else {}) for row in rows]
    definitions = {
        (workflow_id, version, step_id): StepDefinition(order, step_type, name, action_type)
        for workflow_id, version, step_id, order, step_type, name, action_type in conn.execute(
            "select workflow_id, workflow_version, step_id, step_order, step_type, step_name,"
            " action_type from raw.workflow_steps")}
    return events, definitions


# --- small arithmetic, as the marts' conventions state it -----------------------------------

def seconds(delta: dt.timedelta) -> Decimal:
    """A duration in seconds, milliseconds (and microseconds) kept exactly."""
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 1_000_000


def earliest(events: Iterable[Event]) -> Event | None:
    """The earliest event; a tie on time goes to the smallest event_id (a stable choice)."""
    return min(events, key=lambda event: (event.occurred_at, event.event_id), default=None)


def percentage(part: int, whole: int) -> Decimal | None:
    """Rates are percentages, null when their denominator is zero."""
    return None if whole == 0 else Decimal(part) * 100 / whole


def average(values: list[Decimal]) -> Decimal | None:
    return sum(values, ZERO) / len(values) if values else None


def percentile_cont(values: Iterable[Decimal], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks, in floats (PostgreSQL's percentile_cont)."""
    ordered = sorted(float(value) for value in values)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def days_from(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    """Every day of a dense series, both ends included."""
    for offset in range((last - first).days + 1):
        yield first + dt.timedelta(days=offset)


# --- executions -----------------------------------------------------------------------------

@dataclass
class Execution:
    """One execution's events by type, and the workflow version it belongs to."""
    execution_id: str
    events: dict[str, list[Event]] = field(default_factory=lambda: defaultdict(list))

    def of(self, *event_types: str) -> list[Event]:
        return [event for kind in event_types for event in self.events[kind]]

    @property
    def enrolment(self) -> Event | None:
        return earliest(self.events["execution.enrolled"])

    @property
    def anchor(self) -> Event:
        """Its account, workflow and version: every event of an execution carries them; read
        from the enrolment when there is one, else from its earliest event."""
        return self.enrolment or earliest(self.of(*self.events))

    @property
    def version(self) -> tuple[str, str, int]:
        return self.anchor.account_id, self.anchor.workflow_id, self.anchor.workflow_version

    @property
    def status(self) -> str:
        """By precedence, whatever order the events came in."""
        for kind, status in (("goal.achieved", "goal_achieved"),
                             ("execution.completed", "completed"),
                             ("execution.failed", "error"), ("execution.exited", "exited")):
            if self.events[kind]:
                return status
        return "active"

    @property
    def enrolled_at(self) -> dt.datetime | None:
        return self.enrolment.occurred_at if self.enrolment else None

    @property
    def ended_at(self) -> dt.datetime | None:
        """Its earliest terminal event of any kind: when it stopped running."""
        terminal = earliest(self.of(*TERMINAL_TYPES))
        return terminal.occurred_at if terminal else None

    @property
    def goal(self) -> Event | None:
        return earliest(self.events["goal.achieved"])

    @property
    def is_known(self) -> bool:
        """An execution shows in fct_executions once it has an execution-level event or a step
        outcome (a step.completed / step.failed: its steps and costs count)."""
        return bool(self.of("execution.enrolled", *TERMINAL_TYPES, *OUTCOME_TYPES))


def executions_of(events: list[Event]) -> dict[str, Execution]:
    executions: dict[str, Execution] = {}
    for event in events:
        if event.execution_id is not None:
            execution = executions.setdefault(event.execution_id, Execution(event.execution_id))
            execution.events[event.event_type].append(event)
    return executions


def execution_row(execution: Execution) -> dict:
    enrolment, goal = execution.enrolment, execution.goal
    exit_event = earliest(execution.events["execution.exited"])
    enrolled_at, ended_at = execution.enrolled_at, execution.ended_at
    outcomes = execution.of(*OUTCOME_TYPES)
    account_id, workflow_id, workflow_version = execution.version
    enrolled = enrolment.properties if enrolment else {}
    return {
        "account_id": account_id,
        "workflow_id": workflow_id,
        "workflow_version": workflow_version,
        "contact_id": enrolment.contact_id if enrolment else None,
        "enrollment_source": enrolled.get("enrollment_source"),
        "trigger_type": enrolled.get("trigger_type"),
        "experiment_id": enrolled.get("experiment_id"),
        "variant": enrolled.get("variant"),
        "enrolled_at": enrolled_at,
        "ended_at": ended_at,
        "status": execution.status,
        "exit_reason": exit_event.properties.get("exit_reason") if exit_event else None,
        "duration_seconds": (seconds(ended_at - enrolled_at)
                             if ended_at and enrolled_at else None),
        # the goal's own time, which can come after the workflow completed
        "goal_achieved_at": goal.occurred_at if goal else None,
        "time_to_conversion_seconds": (seconds(goal.occurred_at - enrolled_at)
                                       if goal and enrolled_at else None),
        # the earliest goal's value, even when a later goal carries one and it does not
        "goal_value_usd": goal.number("value_usd") if goal else None,
        # every step.completed / step.failed event counts (a re-sent one under a new event_id
        # is a distinct event)
        "steps_completed": len(execution.events["step.completed"]),
        "steps_failed": len(execution.events["step.failed"]),
        "credits": sum((event.amount("credits") for event in outcomes), ZERO),
        "cost_usd": sum((event.amount("cost_usd") for event in outcomes), ZERO),
    }


def fct_executions(executions: dict[str, Execution]) -> dict[tuple, dict]:
    return {(xid,): execution_row(execution) for xid, execution in executions.items()
            if execution.is_known}


# --- fct_workflow_daily ---------------------------------------------------------------------

def fct_workflow_daily(executions: dict[str, Execution], last_day: dt.date) -> dict[tuple, dict]:
    by_workflow: dict[tuple[str, str], list[dict]] = defaultdict(list)
    costs: dict[tuple, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for execution in executions.values():
        row = execution_row(execution)
        row.update(enrolled_day=utc_day(row["enrolled_at"]), ended_day=utc_day(row["ended_at"]),
                   goal_day=utc_day(row["goal_achieved_at"]))
        workflow = execution.version[:2]
        by_workflow[workflow].append(row)
        # costs on the day of the step event that incurred them
        for event in execution.of(*OUTCOME_TYPES):
            costs[(*workflow, event.day)][0] += event.amount("credits")
            costs[(*workflow, event.day)][1] += event.amount("cost_usd")

    rows = {}
    for workflow, members in by_workflow.items():
        # the first day with data: the first day one of its figures counts something (an
        # enrolment, an end, a goal, a step outcome's cost)
        data_days = [day for member in members
                     for day in (member["enrolled_day"], member["ended_day"], member["goal_day"])
                     if day is not None]
        data_days += [day for (*key, day) in costs if tuple(key) == workflow]
        if not data_days:
            continue
        for day in days_from(min(data_days), last_day):
            rows[(*workflow, day)] = workflow_day(members, day, costs.get((*workflow, day)))
    return rows


def workflow_day(members: list[dict], day: dt.date, costs: list[Decimal] | None) -> dict:
    """One workflow's figures for one day: daily figures event-dated, totals cumulative as of
    the end of the day, cohort_* the day's enrolments by their final status."""
    new = [m for m in members if m["enrolled_day"] == day]
    ended = [m for m in members if m["ended_day"] == day]
    finished = [m for m in ended if m["status"] in FINISHED]
    enrolled_by_then = [m for m in members if m["enrolled_day"] and m["enrolled_day"] <= day]
    finished_by_then = [m for m in enrolled_by_then if m["status"] in FINISHED
                        and m["ended_day"] and m["ended_day"] <= day]
    converted_by_then = [m for m in enrolled_by_then if m["goal_day"] and m["goal_day"] <= day]
    durations = [m["duration_seconds"] for m in finished if m["duration_seconds"] is not None]
    credits, cost = costs or (ZERO, ZERO)
    return {
        "new_enrollments": len(new),
        "total_enrolled": len(enrolled_by_then),
        "currently_active": sum(1 for m in enrolled_by_then
                                if not (m["ended_day"] and m["ended_day"] <= day)),
        "completed": len(finished),
        "goals_achieved": sum(1 for m in members if m["goal_day"] == day),
        "exited": sum(1 for m in ended if m["status"] == "exited"),
        "failed": sum(1 for m in ended if m["status"] == "error"),
        "completion_rate": percentage(len(finished_by_then), len(enrolled_by_then)),
        "conversion_rate": percentage(len(converted_by_then), len(enrolled_by_then)),
        "average_duration_seconds": average(durations),
        "p50_duration_seconds": percentile_cont(durations, 0.5),
        "p95_duration_seconds": percentile_cont(durations, 0.95),
        "credits": credits,
        "cost_usd": cost,
        "cohort_completed": sum(1 for m in new if m["status"] in FINISHED),
        "cohort_goals_achieved": sum(1 for m in new if m["status"] == "goal_achieved"),
        "cohort_exited": sum(1 for m in new if m["status"] == "exited"),
        "cohort_failed": sum(1 for m in new if m["status"] == "error"),
        "cohort_active": sum(1 for m in new if m["status"] == "active"),
        "total_completed": len(finished_by_then),
        "total_converted": len(converted_by_then),
    }


# --- fct_action_daily and fct_cost_daily ----------------------------------------------------

def step_outcomes(executions: dict[str, Execution], definitions: dict[StepKey, StepDefinition]
                  ) -> Iterator[tuple[tuple[str, str], StepDefinition | None, Event]]:
    """Every step.completed / step.failed with its workflow and its step's definition in the
    execution's version (None for a step missing from it)."""
    for execution in executions.values():
        account_id, workflow_id, version = execution.version
        for event in execution.of(*OUTCOME_TYPES):
            definition = definitions.get((workflow_id, version, event.step_id))
            yield (account_id, workflow_id), definition, event


def fct_action_daily(executions: dict[str, Execution],
                     definitions: dict[StepKey, StepDefinition],
                     last_day: dt.date) -> dict[tuple, dict]:
    by_day: dict[tuple, list[Event]] = defaultdict(list)
    starts: dict[tuple, dt.date] = {}

    def begin(series: tuple, day: dt.date) -> None:
        starts[series] = min(starts.get(series, day), day)

    # an action execution: a step.completed / step.failed of an action step, on its own day
    for workflow, definition, event in step_outcomes(executions, definitions):
        if definition and definition.action:
            series = (*workflow, definition.action)
            by_day[(*series, event.day)].append(event)
            begin(series, event.day)
    # a series also starts on the first enrolment into a version that defines its action type
    actions_of_version = defaultdict(set)
    for (workflow_id, version, _), definition in definitions.items():
        if definition.action:
            actions_of_version[(workflow_id, version)].add(definition.action)
    for execution in executions.values():
        if execution.enrolled_at:
            account_id, workflow_id, version = execution.version
            for action in actions_of_version[(workflow_id, version)]:
                begin((account_id, workflow_id, action), utc_day(execution.enrolled_at))

    rows = {}
    for series, first in starts.items():
        for day in days_from(first, last_day):
            outcomes = by_day.get((*series, day), [])
            successes = sum(1 for e in outcomes if e.event_type == "step.completed")
            failures = len(outcomes) - successes
            durations = [e.number("duration_ms") for e in outcomes
                         if e.number("duration_ms") is not None]
            rows[(*series, day)] = {
                "executions": len(outcomes),
                "successes": successes,
                "failures": failures,
                "success_rate": percentage(successes, len(outcomes)),
                "error_rate": percentage(failures, len(outcomes)),
                "average_duration_ms": average(durations),
                "p95_duration_ms": percentile_cont(durations, 0.95),
                "credits": sum((e.amount("credits") for e in outcomes), ZERO),
                "cost_usd": sum((e.amount("cost_usd") for e in outcomes), ZERO),
            }
    return rows


def fct_cost_daily(executions: dict[str, Execution],
                   definitions: dict[StepKey, StepDefinition],
                   last_day: dt.date) -> dict[tuple, dict]:
    # per step and day first: a step that is not an action counts (under a null action type)
    # only on days it carried credits or a cost, so that every cost is somewhere
    by_step_day: dict[tuple, list[Event]] = defaultdict(list)
    action_of: dict[tuple, str | None] = {}
    for workflow, definition, event in step_outcomes(executions, definitions):
        key = (*workflow, event.step_id, event.day)
        by_step_day[key].append(event)
        action_of[key] = definition.action if definition else None
    by_day: dict[tuple, list[Event]] = defaultdict(list)
    for key, outcomes in by_step_day.items():
        account_id, workflow_id, _, day = key
        action = action_of[key]
        costly = any(e.amount("credits") or e.amount("cost_usd") for e in outcomes)
        if action is not None or costly:
            by_day[(account_id, workflow_id, action, day)].extend(outcomes)

    # a series starts on its own first day with data, not on its workflow's
    starts: dict[tuple, dt.date] = {}
    for (*series, day) in by_day:
        starts[tuple(series)] = min(starts.get(tuple(series), day), day)
    rows = {}
    for series, first in starts.items():
        for day in days_from(first, last_day):
            outcomes = by_day.get((*series, day), [])
            cost = sum((e.amount("cost_usd") for e in outcomes), ZERO)
            rows[(*series, day)] = {
                "credits": sum((e.amount("credits") for e in outcomes), ZERO),
                "cost_usd": cost,
                "executions": len(outcomes),
                "cost_per_execution": cost / len(outcomes) if outcomes else None,
            }
    return rows


# --- fct_workflow_step_daily (the funnel) ---------------------------------------------------

@dataclass
class FunnelCell:
    entered: int = 0
    completed: int = 0
    failed: int = 0
    in_progress: int = 0
    converted: int = 0
    skipped: int = 0
    times_in_step: list[Decimal] = field(default_factory=list)
    credits: Decimal = ZERO
    cost_usd: Decimal = ZERO


def count_step(cells: dict[tuple, FunnelCell], step: tuple, execution: Execution,
               events: dict[str, list[Event]]) -> None:
    """One execution's passage through one step, into the cells of the days it is dated by."""
    entries = [event for kind in ENTRY_TYPES for event in events.get(kind, [])]
    outcomes = [event for kind in OUTCOME_TYPES for event in events.get(kind, [])]
    if entries:
        # dated by the day it entered the step: its earliest started / completed / failed
        cell = cells[(*step, earliest(entries).day)]
        cell.entered += 1
        has_completed = bool(events.get("step.completed"))
        cell.completed += has_completed
        cell.failed += bool(events.get("step.failed"))
        if not has_completed:
            cell.in_progress += execution.status == "active"
            cell.converted += execution.status == "goal_achieved"
        # time in step per execution: its outcomes' durations summed (a failure then a retry
        # that completed took both), then averaged over the executions
        durations = [e.number("duration_ms") for e in outcomes
                     if e.number("duration_ms") is not None]
        if durations:
            cell.times_in_step.append(sum(durations, ZERO) / 1000)
    elif events.get("step.skipped"):
        # a branch not taken: dated by its first step.skipped
        cells[(*step, earliest(events["step.skipped"]).day)].skipped += 1
    for event in outcomes:
        # credits and cost on the day of the event that incurred them
        cells[(*step, event.day)].credits += event.amount("credits")
        cells[(*step, event.day)].cost_usd += event.amount("cost_usd")


def fct_workflow_step_daily(executions: dict[str, Execution],
                            definitions: dict[StepKey, StepDefinition],
                            last_day: dt.date) -> dict[tuple, dict]:
    cells: dict[tuple, FunnelCell] = defaultdict(FunnelCell)
    starts: dict[tuple, dt.date] = {}
    steps_of: dict[tuple, set[str]] = defaultdict(set)
    for execution in executions.values():
        version = execution.version
        if execution.enrolled_at:
            starts[version] = min(starts.get(version, utc_day(execution.enrolled_at)),
                                  utc_day(execution.enrolled_at))
        per_step: dict[str, dict[str, list[Event]]] = defaultdict(lambda: defaultdict(list))
        for kind in ("step.started", "step.completed", "step.failed", "step.skipped"):
            for event in execution.events[kind]:
                per_step[event.step_id][kind].append(event)
        for step_id, events in per_step.items():
            count_step(cells, (*version, step_id), execution, events)
    for (account_id, workflow_id, version, step_id, day) in list(cells):
        # a version's first day with data: its first enrolment, or a day its steps count
        # something if earlier; a step seen only in events belongs to the funnel too
        key = (account_id, workflow_id, version)
        starts[key] = min(starts.get(key, day), day)
        steps_of[key].add(step_id)
    for key in starts:
        steps_of[key] |= {step_id for (workflow_id, version, step_id) in definitions
                          if (workflow_id, version) == key[1:]}

    rows = {}
    for key, first in starts.items():
        for step_id in steps_of[key]:
            definition = definitions.get((*key[1:], step_id), StepDefinition(None, None, None,
                                                                             None))
            for day in days_from(first, last_day):
                cell = cells.get((*key, step_id, day), FunnelCell())
                rows[(*key, step_id, day)] = {
                    "step_order": definition.step_order,
                    "step_name": definition.step_name,
                    "step_type": definition.step_type,
                    "entered": cell.entered,
                    "completed": cell.completed,
                    "failed": cell.failed,
                    "in_progress": cell.in_progress,
                    "converted": cell.converted,
                    "dropped_off": (cell.entered - cell.completed - cell.in_progress
                                    - cell.converted),
                    "skipped": cell.skipped,
                    "step_conversion_rate": percentage(cell.completed, cell.entered),
                    "average_time_in_step_seconds": average(cell.times_in_step),
                    "credits": cell.credits,
                    "cost_usd": cell.cost_usd,
                }
    return rows


# --- fct_errors_daily -----------------------------------------------------------------------

def errors_of(execution: Execution) -> list[tuple[str | None, Event]]:
    """Its errors with their step: every step.failed; else its execution.failed, when it has
    one. An execution fails once: like any terminal event re-sent under another id, its
    earliest execution.failed is the one counted."""
    if execution.events["step.failed"]:
        return [(event.step_id, event) for event in execution.events["step.failed"]]
    failure = earliest(execution.events["execution.failed"])
    return [(None, failure)] if failure else []


def fct_errors_daily(executions: dict[str, Execution],
                     definitions: dict[StepKey, StepDefinition]) -> dict[tuple, dict]:
    by_key: dict[tuple, list[tuple[str, Event]]] = defaultdict(list)
    actions: dict[tuple, set[str | None]] = defaultdict(set)
    for execution in executions.values():
        account_id, workflow_id, version = execution.version
        for step_id, event in errors_of(execution):
            key = (account_id, workflow_id, step_id, event.properties.get("error_type"),
                   event.day)
            by_key[key].append((execution.execution_id, event))
            definition = definitions.get((workflow_id, version, step_id))
            actions[key].add(definition.action if definition else None)
    rows = {}
    for key, errors in by_key.items():
        # the step's action type; a step whose versions disagree on it would be ambiguous
        assert len(actions[key]) == 1, f"{key}: action types {actions[key]}"
        messages = [event.properties.get("error_message") for _, event in errors]
        rows[key] = {
            "action_type": next(iter(actions[key])),
            "errors": len(errors),
            "affected_executions": len({execution_id for execution_id, _ in errors}),
            # the smallest, as text compares in the warehouse's C collation
            "sample_error_message": min((m for m in messages if m is not None), default=None),
        }
    return rows


# --- fct_executions_hourly ------------------------------------------------------------------

def utc_hour(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment.astimezone(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)


def fct_executions_hourly(executions: dict[str, Execution]) -> dict[tuple, dict]:
    cells: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(
        ("started", "completed", "failed", "exited", "goals_achieved"), 0) | {"durations": []})
    for execution in executions.values():
        row = execution_row(execution)
        series = (row["account_id"], row["workflow_id"], row["trigger_type"])
        if row["enrolled_at"]:
            cells[(*series, utc_hour(row["enrolled_at"]))]["started"] += 1
        if row["goal_achieved_at"]:
            cells[(*series, utc_hour(row["goal_achieved_at"]))]["goals_achieved"] += 1
        if row["ended_at"]:
            cell = cells[(*series, utc_hour(row["ended_at"]))]
            if row["status"] in FINISHED:
                cell["completed"] += 1
                if row["duration_seconds"] is not None:
                    cell["durations"].append(row["duration_seconds"])
            elif row["status"] == "error":
                cell["failed"] += 1
            elif row["status"] == "exited":
                cell["exited"] += 1
    rows = {}
    for key, cell in cells.items():
        durations = cell.pop("durations")
        rows[key] = cell | {"average_duration_seconds": average(durations),
                            "total_duration_seconds": sum(durations, ZERO),
                            "timed_completions": len(durations)}
    return rows


# --- fct_user_activity_daily ----------------------------------------------------------------

def activities(events: list[Event]) -> Iterator[Event]:
    return (event for event in events if event.event_type == "user.activity")


def fct_user_activity_daily(events: list[Event]) -> dict[tuple, dict]:
    by_day: dict[tuple, list[Event]] = defaultdict(list)
    for event in activities(events):
        by_day[(event.account_id, event.user_id, event.day)].append(event)
    return {key: {
        # a session running across midnight is a session of both days
        "sessions": len({e.properties["session_id"] for e in day_events
                         if e.properties.get("session_id") is not None}),
        "actions": len(day_events),
        "logins": sum(1 for e in day_events if e.properties.get("action") == "login"),
        "active_seconds": sum((e.number("duration_ms") or ZERO for e in day_events), ZERO) / 1000,
    } for key, day_events in by_day.items()}


# --- fct_retention_cohorts ------------------------------------------------------------------

PERIOD_START = {
    "day": lambda day: day,
    "week": lambda day: day - dt.timedelta(days=day.weekday()),  # ISO weeks, from Monday
    "month": lambda day: day.replace(day=1),
}


def periods_between(grain: str, first: dt.date, later: dt.date) -> int:
    if grain == "month":
        return (later.year - first.year) * 12 + later.month - first.month
    return (later - first).days // (7 if grain == "week" else 1)


def active_days(events: list[Event], executions: dict[str, Execution]
                ) -> dict[str, dict[tuple[str, str], set[dt.date]]]:
    """Per cohort type, each member's (account, id) days of activity: any user.activity for a
    user; for a contact and a workflow, the days of their executions' enrolments."""
    days: dict[str, dict[tuple, set[dt.date]]] = {
        kind: defaultdict(set) for kind in ("user", "contact", "workflow")}
    for event in activities(events):
        days["user"][(event.account_id, event.user_id)].add(event.day)
    for execution in executions.values():
        enrolment = execution.enrolment
        if enrolment:
            account_id, workflow_id, _ = execution.version
            days["workflow"][(account_id, workflow_id)].add(enrolment.day)
            if enrolment.contact_id is not None:
                days["contact"][(account_id, enrolment.contact_id)].add(enrolment.day)
    return days


def fct_retention_cohorts(events: list[Event], executions: dict[str, Execution],
                          last_day: dt.date) -> dict[tuple, dict]:
    # per cohort, each member's active periods numbered from the cohort's own (0)
    cohorts: dict[tuple, list[set[int]]] = defaultdict(list)
    for cohort_type, members in active_days(events, executions).items():
        for grain, period_start in PERIOD_START.items():
            for (account_id, _), member_days in members.items():
                starts = {period_start(day) for day in member_days}
                first = min(starts)
                cohorts[(account_id, cohort_type, grain, first)].append(
                    {periods_between(grain, first, start) for start in starts})
    rows = {}
    for (account_id, cohort_type, grain, first), members in cohorts.items():
        # every period up to the one holding the last day with data
        for number in range(periods_between(grain, first, PERIOD_START[grain](last_day)) + 1):
            retained = sum(1 for periods in members if number in periods)
            rows[(account_id, cohort_type, grain, first, number)] = {
                "cohort_size": len(members),
                "retained": retained,
                "retained_unbounded": sum(1 for periods in members if max(periods) >= number),
                "retention_rate": percentage(retained, len(members)),
            }
    return rows


# --- all of them ----------------------------------------------------------------------------

def expected_marts(conn: psycopg.Connection) -> dict[str, dict[tuple, dict]]:
    events, definitions = read_raw(conn)
    executions = executions_of(events)
    # the dense marts run to the last day with data: the last UTC day any event occurred
    last_day = max(event.day for event in events)
    # enough digits that quotients agree with PostgreSQL's numeric to far below the tolerance
    with localcontext(prec=40):
        return {
            "fct_executions": fct_executions(executions),
            "fct_workflow_daily": fct_workflow_daily(executions, last_day),
            "fct_action_daily": fct_action_daily(executions, definitions, last_day),
            "fct_cost_daily": fct_cost_daily(executions, definitions, last_day),
            "fct_workflow_step_daily": fct_workflow_step_daily(executions, definitions,
                                                               last_day),
            "fct_errors_daily": fct_errors_daily(executions, definitions),
            "fct_executions_hourly": fct_executions_hourly(executions),
            "fct_user_activity_daily": fct_user_activity_daily(events),
            "fct_retention_cohorts": fct_retention_cohorts(events, executions, last_day),
        }
