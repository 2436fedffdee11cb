"""Checks one event against the contract and renders it as a line of PostgreSQL COPY text.

Written by hand rather than with pydantic because it runs once per event on the ingestion hot
path (100,000+ events/s); the reference tables, small, use pydantic models (reference.py).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta, timezone
from typing import NamedTuple

import orjson

from warehouse.ingestion.contract import (
    ALWAYS_REQUIRED,
    EARLIEST_EVENT_DATE,
    ENUM_PROPERTIES,
    ID_COLUMNS,
    MAX_AHEAD_HOURS,
    MAX_ID_LENGTH,
    MAX_PROPERTIES_BYTES,
    MAX_PROPERTIES_DEPTH,
    MAX_UTC_OFFSET_HOURS,
    NUMERIC_PROPERTIES,
    REQUIRED_BY_TYPE,
)

INT4_MAX = 2**31 - 1
# Timestamps of this exact shape mean the same to PostgreSQL as to Python: passed through as sent.
_PLAIN_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})")  # [0-9], not \d: other scripts' digits are not PostgreSQL's
_COPY_SPECIAL = re.compile(r"[\\\t\n\r\x00]")
_UTC = timezone.utc
_MAX_OFFSET = timedelta(hours=MAX_UTC_OFFSET_HOURS)


class Rejected(ValueError):
    """The row breaks the contract; the message is the reason stored with it."""


def unexpected(error: BaseException) -> Rejected:
    """The reason for a row whose check failed in a way no rule foresaw: that row is rejected,
    the others go on."""
    return Rejected(f"unexpected error: {type(error).__name__}: {error}"[:200])


def utc_now() -> datetime:
    return datetime.now(_UTC)


class EventWindow(NamedTuple):
    """The span occurred_at must fall in. Computed once per chunk or request (from the
    platform's clock, see Settings.event_window), never per event."""

    earliest: datetime
    latest: datetime
    ahead_hours: float

    @classmethod
    def ending_after(cls, now: datetime, ahead_hours: float = MAX_AHEAD_HOURS,
                     earliest: "date | str" = EARLIEST_EVENT_DATE) -> "EventWindow":
        if isinstance(earliest, str):
            earliest = date.fromisoformat(earliest)
        if now.tzinfo is None:
            now = now.replace(tzinfo=_UTC)
        return cls(datetime(earliest.year, earliest.month, earliest.day, tzinfo=_UTC),
                   now + timedelta(hours=ahead_hours), ahead_hours)


def _window(window: "EventWindow | None") -> EventWindow:
    return EventWindow.ending_after(utc_now()) if window is None else window


def timestamp_problem(name: str, value: str, moment: datetime,
                      window: EventWindow) -> str | None:
    """Why a parsed timestamp cannot be stored, or None. The one check of the offset and the
    window, on every path."""
    # the common case at once: UTC ("Z"; the same tzinfo, so compared field by field)
    if moment.tzinfo is _UTC and window.earliest <= moment <= window.latest:
        return None
    offset = moment.utcoffset()
    if offset is None:  # no offset given: the contract says UTC
        moment = moment.replace(tzinfo=_UTC)
    elif not -_MAX_OFFSET <= offset <= _MAX_OFFSET:
        return (f"{name} has an offset out of range: {value[:60]!r}"
                f" (offsets are within ±{MAX_UTC_OFFSET_HOURS:02d}:00)")
    # aware datetimes compare without conversion to UTC, so year 1 or 9999 cannot overflow here
    if moment < window.earliest:
        return f"{name} is out of range: {value[:60]} is before {window.earliest.date()}"
    if moment > window.latest:
        return (f"{name} is out of range: {value[:60]} is more than {window.ahead_hours:g} h"
                f" ahead of now")
    return None


def _too_deep(value, limit: int = MAX_PROPERTIES_DEPTH) -> bool:
    """Whether objects and arrays nest more than `limit` levels (the value itself is one)."""
    stack = [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        children = value.values() if type(value) is dict else value
        stack.extend((child, depth + 1) for child in children
                     if type(child) is dict or type(child) is list)
    return False


def properties_problem(properties_json: bytes, properties) -> str | None:
    """Why properties (as stored: compact JSON) are too big or too deep, or None. The one check
    of both bounds, on every path; the depth walk runs only when there are more objects and
    arrays than levels allowed, counting brackets (which a depth cannot exceed)."""
    if len(properties_json) > MAX_PROPERTIES_BYTES:
        return (f"properties are too large: {len(properties_json):,} bytes as JSON"
                f" (at most {MAX_PROPERTIES_BYTES:,})")
    if (len(properties_json) > 2 * MAX_PROPERTIES_DEPTH  # a container takes two bytes
            and properties_json.count(b"{") + properties_json.count(b"[") > MAX_PROPERTIES_DEPTH
            and _too_deep(properties)):
        return _TOO_DEEP
    return None


_TOO_DEEP = f"properties are nested too deep: more than {MAX_PROPERTIES_DEPTH} levels"


def _id_too_long(name: str, value: str) -> Rejected:
    return Rejected(f"{name} is too long: {len(value):,} characters (at most {MAX_ID_LENGTH})")


def copy_escape(value: str) -> str:
    """Escape a value for COPY's text format."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = (value.replace("\\", "\\\\").replace("\t", "\\t")
                 .replace("\n", "\\n").replace("\r", "\\r"))
    return value


def _id(name: str, value) -> str:
    if type(value) is str:  # noqa: E721 - the exact type is the fast path
        if "\x00" in value:
            raise Rejected(f"{name} contains a NUL character")
        if len(value) > MAX_ID_LENGTH:
            raise _id_too_long(name, value)
        return copy_escape(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if len(text := str(value)) > MAX_ID_LENGTH:
            raise _id_too_long(name, text)
        return text
    raise Rejected(f"{name} has the wrong type: expected a string, got {type(value).__name__}")


def parse_timestamp(name: str, value, window: EventWindow | None = None) -> str:
    if not isinstance(value, str):
        raise Rejected(f"bad timestamp in {name}: expected an ISO 8601 string, got "
                       f"{type(value).__name__}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Rejected(f"bad timestamp in {name}: {value[:60]!r}") from None
    if window is None:
        window = _window(window)
    # a UTC time inside the window is decided here, anything else by timestamp_problem
    if not (moment.tzinfo is _UTC and window.earliest <= moment <= window.latest):
        problem = timestamp_problem(name, value, moment, window)
        if problem is not None:
            raise Rejected(problem)
    if _PLAIN_TIMESTAMP.fullmatch(value):
        return value
    offset = moment.utcoffset()
    if offset is None:  # no offset given: the contract says UTC in
        return moment.isoformat() + "+00:00"
    if offset:
        moment = moment.astimezone(_UTC)
    return moment.isoformat()


def parse_integer(name: str, value) -> int:
    if isinstance(value, bool):
        raise Rejected(f"{name} has the wrong type: expected an integer, got boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            raise Rejected(f"{name} is not a number: {value[:40]!r}") from None
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        raise Rejected(f"{name} is not an integer: {value!r}"[:200])
    if not 0 <= number <= INT4_MAX:
        raise Rejected(f"{name} is out of range: {number}")
    return number


def _check_properties(properties) -> dict:
    if properties is None:
        return {}
    if not isinstance(properties, dict):
        raise Rejected(f"properties has the wrong type: expected an object, got "
                       f"{type(properties).__name__}")
    get = properties.get
    for key in NUMERIC_PROPERTIES:
        value = get(key)
        if value is None:
            continue
        kind = type(value)
        if kind is not int and kind is not float:
            raise Rejected(f"properties.{key} is not a number: {value!r}"[:200])
        if value < 0 or (kind is float and not math.isfinite(value)):
            raise Rejected(f"properties.{key} must be a finite non-negative number: {value!r}")
    for key, allowed in ENUM_PROPERTIES.items():
        value = get(key)
        if value is not None and (type(value) is not str or value not in allowed):
            raise Rejected(f"properties.{key} has an unknown value: {value!r}"[:200])
    return properties


def event_to_copy_line(event, window: EventWindow | None = None) -> tuple[str, str]:
    """Validate a decoded event; return (event_id, COPY text line without newline) or raise
    Rejected. `window`: the span of occurred_at (default: around now, computed per call; pass
    one for many events)."""
    if window is None:
        window = _window(window)
    if type(event) is dict:
        plain = _plain_copy_line(event, window)
        if plain is not None:
            return plain
    return _checked_copy_line(event, window)


# The ID_COLUMNS positions each event type requires, and whether it requires workflow_version.
_REQUIRED_IDS: dict[str, tuple[tuple[int, ...], bool]] = {
    event_type: (
        tuple(i for i, name in enumerate(ID_COLUMNS) if name in (*ALWAYS_REQUIRED, *required)),
        "workflow_version" in required,
    )
    for event_type, required in REQUIRED_BY_TYPE.items()
}


# What _check_properties requires of each property it checks, looked up by the property's name.
_NUMBER = object()
_PROPERTY_RULES = {**{key: _NUMBER for key in NUMERIC_PROPERTIES}, **ENUM_PROPERTIES}


def _plain_properties(properties: dict) -> bool:
    """Whether _check_properties would pass them, checking only the properties present (it
    checks every rule, in the order of the reasons it gives)."""
    for key, value in properties.items():
        rule = _PROPERTY_RULES.get(key)
        if rule is None or value is None:
            continue
        if rule is _NUMBER:
            kind = type(value)
            if not ((kind is int or (kind is float and math.isfinite(value))) and value >= 0):
                return False
        elif type(value) is not str or value not in rule:
            return False
    return True


def _plain_copy_line(event: dict, window: EventWindow | None = None) -> tuple[str, str] | None:
    """The common case, checked in one pass: ids that are plain strings, a whole version in
    range, a timestamp passed through as sent, an object of properties. None for anything else:
    _checked_copy_line then takes the event one rule at a time and names what is wrong (the
    two agree on every event both accept; tests/test_validate_fast_path.py)."""
    get = event.get
    event_type = get("event_type")
    if type(event_type) is not str:
        return None
    required = _REQUIRED_IDS.get(event_type)
    if required is None:
        return None
    positions, version_required = required
    values = list(map(get, ID_COLUMNS))
    for position in positions:
        if not values[position]:
            return None
    try:  # every id a string (join raises otherwise) with nothing COPY must escape
        joined = "".join([value for value in values if value is not None])
    except TypeError:
        return None
    if _COPY_SPECIAL.search(joined):
        return None
    # all of them together within one id's bound: none is too long (nearly always so)
    if len(joined) > MAX_ID_LENGTH and any(
            value is not None and len(value) > MAX_ID_LENGTH for value in values):
        return None
    version = get("workflow_version")
    if type(version) is int and 0 <= version <= INT4_MAX:
        version_text = str(version)
    elif version is None and not version_required:
        version_text = "\\N"
    else:
        return None
    occurred_at = get("occurred_at")
    if type(occurred_at) is not str or not _PLAIN_TIMESTAMP.fullmatch(occurred_at):
        return None
    try:
        moment = datetime.fromisoformat(occurred_at)
    except ValueError:
        return None
    if window is None:
        window = _window(window)
    # a UTC time inside the window is decided here, anything else by timestamp_problem
    if not (moment.tzinfo is _UTC and window.earliest <= moment <= window.latest) and \
            timestamp_problem("occurred_at", occurred_at, moment, window) is not None:
        return None
    properties = get("properties")
    if properties is None or properties == {}:
        properties_text = "{}"
    elif type(properties) is dict and _plain_properties(properties):
        try:
            properties_json = orjson.dumps(properties)
        except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits: the checked path says so
            return None
        # anything near a bound of size or depth is left to the checked path, which names it
        # (a container takes two bytes: a short text cannot hold more than the depth allows)
        if (b"\\u0000" in properties_json or len(properties_json) > MAX_PROPERTIES_BYTES
                or (len(properties_json) > 2 * MAX_PROPERTIES_DEPTH
                    and properties_json.count(b"{") + properties_json.count(b"[")
                    > MAX_PROPERTIES_DEPTH)):
            return None
        properties_text = copy_escape(properties_json.decode())
    else:
        return None
    event_id, account_id, workflow_id, execution_id, contact_id, step_id, user_id = [
        value or "\\N" for value in values]
    return event_id, "\t".join((
        event_id, event_type, occurred_at, account_id, workflow_id, version_text, execution_id,
        contact_id, step_id, user_id, properties_text,
    ))


def _checked_copy_line(event, window: EventWindow | None = None) -> tuple[str, str]:
    """event_to_copy_line one rule at a time, in the order of the reasons it gives."""
    if type(event) is not dict:
        raise Rejected(f"not a JSON object: got {type(event).__name__}")
    get = event.get
    event_type = get("event_type")
    required = REQUIRED_BY_TYPE.get(event_type) if type(event_type) is str else None
    if required is None:
        if event_type is None or event_type == "":
            raise Rejected("missing required field event_type")
        raise Rejected(f"unknown event_type: {str(event_type)[:60]!r}")
    for name in ALWAYS_REQUIRED:
        value = get(name)
        if value is None or value == "":
            raise Rejected(f"missing required field {name}")
    for name in required:
        value = get(name)
        if value is None or value == "":
            raise Rejected(f"missing required field {name} (required on {event_type})")

    values = list(map(get, ID_COLUMNS))
    present = [value for value in values if value is not None and value != ""]
    try:  # the common case, plain strings: one check for all ids
        joined = "".join(present)
        plain = not _COPY_SPECIAL.search(joined) and len(joined) <= MAX_ID_LENGTH
    except TypeError:  # an id that is not a string
        plain = False
    if plain:
        fields = ["\\N" if value is None or value == "" else value for value in values]
    else:
        fields = ["\\N" if value is None or value == "" else _id(name, value)
                  for name, value in zip(ID_COLUMNS, values)]
    version = get("workflow_version")
    if version is None or version == "":
        version_text = "\\N"
    elif type(version) is int and 0 <= version <= INT4_MAX:
        version_text = str(version)
    else:
        version_text = str(parse_integer("workflow_version", version))
    properties = get("properties")
    if properties:
        properties = _check_properties(properties)
        try:
            properties_json = orjson.dumps(properties)
        except orjson.JSONEncodeError as error:
            # orjson stops at 255 levels: too deep is then the reason; otherwise only a Python
            # caller can offer what JSON cannot hold (an integer beyond 64 bits)
            if _too_deep(properties):
                raise Rejected(_TOO_DEEP) from None
            raise Rejected(f"properties cannot be stored as JSON: {error}") from None
        problem = properties_problem(properties_json, properties)
        if problem is not None:
            raise Rejected(problem)
        if b"\\u0000" in properties_json:  # jsonb cannot hold NUL
            raise Rejected("properties contain a NUL character")
        properties_text = copy_escape(properties_json.decode())
    else:
        _check_properties(properties)
        properties_text = "{}"
    event_id, account_id, workflow_id, execution_id, contact_id, step_id, user_id = fields
    return str(get("event_id")), "\t".join((
        event_id, event_type, parse_timestamp("occurred_at", event["occurred_at"], window),
        account_id,
        workflow_id, version_text, execution_id, contact_id, step_id, user_id, properties_text,
    ))


COPY_COLUMNS = ("event_id", "event_type", "occurred_at", "account_id", "workflow_id",
                "workflow_version", "execution_id", "contact_id", "step_id", "user_id",
                "properties")


class ParsedChunk(NamedTuple):
    """A chunk of rows, validated. `copy_text` holds one COPY line per id in `event_ids` (the
    first copy of each id in the chunk, in event_id order), so a chunk crosses processes as two
    big objects."""

    rows_read: int
    event_ids: list[str]
    copy_text: str
    rejections: list[tuple[int, "bytes | str", str]]
    repeats: int
    line_numbers: list[int]  # of each id's line, in the order of event_ids
    claims: list  # the distinct (account, workflow, execution) its events name (ownership.py)
    damage: str | None = None  # the file broke off after these rows (a truncated .gz)


class FileDamaged(Rejected):
    """Not a row: the file cannot be read past this point (the rows before it are loaded)."""


def validate_chunk(rows: list, window: EventWindow | None = None) -> ParsedChunk:
    """rows: (line number, raw line, row), where row is the decoded value, a Rejected, or a
    tuple (event_id, COPY line) of an event already validated (json_fast_path; a decoded JSON
    value is never a tuple). A `FileDamaged` row is not a row: it says the file broke off there.
    No row can raise out of here: what no rule foresaw rejects that row alone."""
    window = _window(window)  # once for the chunk
    lines: dict[str, str] = {}
    numbers: dict[str, int] = {}
    rejections = []
    repeats = 0
    damage = None
    for number, raw, row in rows:
        if isinstance(row, Rejected):
            # not raised: its traceback would hold this frame, and through `rows` every row of
            # the chunk, in a cycle only the collector frees
            if type(row) is FileDamaged:
                damage = str(row)
            else:
                rejections.append((number, raw, str(row)))
            continue
        if type(row) is tuple:
            event_id, line = row
        else:
            try:
                event_id, line = event_to_copy_line(row, window)
            except Rejected as reason:
                rejections.append((number, raw, str(reason)))
                continue
            except Exception as error:  # noqa: BLE001 - one row never stops the others
                rejections.append((number, raw, str(unexpected(error))))
                continue
        if event_id in lines:
            repeats += 1
        else:
            lines[event_id] = line
            numbers[event_id] = number
    # In event_id order: the primary key's B-tree is then filled page after page, and concurrent
    # writers take its row locks in one order (never a deadlock between them).
    event_ids = sorted(lines)
    copy_lines = [lines[i] for i in event_ids]
    return ParsedChunk(len(rows) - (damage is not None), event_ids, "\n".join(copy_lines),
                       rejections, repeats, [numbers[i] for i in event_ids],
                       claims_of(copy_lines), damage)


def copy_unescape(value: str) -> str | None:
    """A COPY text field back to its value (None for \\N)."""
    if value == "\\N":
        return None
    if "\\" not in value:
        return value
    return re.sub(r"\\(.)", lambda m: _UNESCAPE.get(m.group(1), m.group(1)), value)


_UNESCAPE = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}
# Positions in a COPY line (COPY_COLUMNS) of what ownership checks.
_ACCOUNT, _WORKFLOW, _EXECUTION = 3, 4, 6


def claim_of(copy_line: str) -> tuple:
    """(account_id, workflow_id, execution_id) of one COPY line."""
    fields = copy_line.split("\t", _EXECUTION + 1)
    return (copy_unescape(fields[_ACCOUNT]), copy_unescape(fields[_WORKFLOW]),
            copy_unescape(fields[_EXECUTION]))


def claims_of(copy_lines: list[str]) -> list:
    """The distinct claims of the lines that name a workflow, in their order."""
    return list(dict.fromkeys(claim for claim in map(claim_of, copy_lines)
                              if claim[1] is not None))
