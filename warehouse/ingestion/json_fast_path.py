"""The common event, from its JSON line straight to its COPY line, checked in C.

msgspec decodes the line into a typed struct per event type (a union tagged by event_type) and
checks every rule of the contract that is a type or a bound: the ids each type requires, present
and non-empty; ids that are strings, within their length; a whole workflow_version in range;
numeric properties that are non-negative numbers; enum properties from their set. What is left
in Python is the timestamp (its offset and window: validate.timestamp_problem), the size and
depth of the properties (the bounds of contract.py) and the characters COPY would need escaped.
Anything else (a rule broken, a value that needs converting or escaping, a line that is not
plain ASCII, properties near a bound) returns None: the line then
takes the way every line took before, orjson and validate.event_to_copy_line, which decides it
and names the reason. Both give the same line for every event this one accepts
(tests/test_validate_fast_path.py).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal, Union

import msgspec
import orjson

from warehouse.ingestion.contract import (
    ALWAYS_REQUIRED,
    ENUM_PROPERTIES,
    MAX_ID_LENGTH,
    MAX_PROPERTIES_BYTES,
    MAX_PROPERTIES_DEPTH,
    NUMERIC_PROPERTIES,
    REQUIRED_BY_TYPE,
)
from warehouse.ingestion.validate import (
    _PLAIN_TIMESTAMP,
    INT4_MAX,
    EventWindow,
    _window,
    timestamp_problem,
)

_Required = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID_LENGTH)]
_Optional = Annotated[str, msgspec.Meta(max_length=MAX_ID_LENGTH)]
_Version = Annotated[int, msgspec.Meta(ge=0, le=INT4_MAX)]
_Amount = Annotated[float, msgspec.Meta(ge=0)]  # an int is taken too; a bool is not

# The struct fields, in the order the COPY line needs them (occurred_at after event_id).
_FIELDS = ("event_id", "occurred_at", "account_id", "workflow_id", "workflow_version",
           "execution_id", "contact_id", "step_id", "user_id")


def _event_struct(event_type: str, required: tuple[str, ...]) -> type:
    fields: list[tuple] = []
    for name in _FIELDS:
        kind = _Version if name == "workflow_version" else _Required
        if name == "occurred_at":
            fields.append((name, str))
        elif name in ALWAYS_REQUIRED or name in required:
            fields.append((name, kind))
        else:
            fields.append((name, (kind if kind is _Version else _Optional) | None, None))
    fields.append(("properties", msgspec.Raw, msgspec.Raw(b"{}")))
    return msgspec.defstruct(f"_{event_type.replace('.', '_')}", fields, kw_only=True,
                             tag_field="event_type", tag=event_type)


_STRUCTS = {event_type: _event_struct(event_type, required)
            for event_type, required in REQUIRED_BY_TYPE.items()}
_EVENT_TYPE_OF = {struct: event_type for event_type, struct in _STRUCTS.items()}
_decode_event = msgspec.json.Decoder(Union[tuple(_STRUCTS.values())]).decode  # noqa: UP007


# The properties the contract checks (any other is kept as it is, unchecked), with its rules.
_PropertyRules = msgspec.defstruct("_PropertyRules", [
    *((name, _Amount | None, None) for name in NUMERIC_PROPERTIES),
    *((name, Literal[tuple(sorted(values))] | None, None)  # type: ignore[misc]
      for name, values in ENUM_PROPERTIES.items()),
])

_check_properties = msgspec.json.Decoder(_PropertyRules).decode
_astuple = msgspec.structs.astuple
_timestamp_shape = _PLAIN_TIMESTAMP.fullmatch
_parse_timestamp = datetime.fromisoformat
_NULL = "\\N"
_UTC = timezone.utc


def plain_json_copy_line(raw: bytes, window: EventWindow | None = None) -> tuple[str, str] | None:
    """(event_id, COPY text line) of a plain event's JSON line, or None to decide it the
    checked way. `window`: the span of occurred_at (pass one for many lines)."""
    # Plain ASCII without a backslash: no escape sequence to decode (no NUL, no lone surrogate,
    # no character COPY must escape hidden in one) and no bytes that are not UTF-8.
    if not raw.isascii() or b"\\" in raw:
        return None
    try:
        event = _decode_event(raw)
        properties = bytes(event.properties)
        if properties == b"{}":
            properties_text = "{}"
        else:
            # no more objects and arrays than levels allowed: no depth to walk (a container
            # takes two bytes, so short properties need no count)
            if len(properties) > 2 * MAX_PROPERTIES_DEPTH and \
                    properties.count(b"{") + properties.count(b"[") > MAX_PROPERTIES_DEPTH:
                return None
            _check_properties(properties)  # also fails on null or on anything but an object
            # rendered as the checked way renders them (orjson decides what is JSON)
            properties_text = orjson.dumps(orjson.loads(properties)).decode()
            if len(properties_text) > MAX_PROPERTIES_BYTES:  # ASCII: characters are bytes
                return None
        (event_id, occurred_at, account_id, workflow_id, version, execution_id, contact_id,
         step_id, user_id, _) = _astuple(event)
        if not _timestamp_shape(occurred_at):
            return None
        moment = _parse_timestamp(occurred_at)
    except Exception:  # noqa: BLE001 - a rule broken (msgspec, orjson, fromisoformat), or
        # anything else they raise (RecursionError on a deep unknown field): decided the
        # checked way, which names it
        return None
    if window is None:
        window = _window(window)
    # a UTC time inside the window is decided here, anything else by timestamp_problem
    if not (moment.tzinfo is _UTC and window.earliest <= moment <= window.latest) and \
            timestamp_problem("occurred_at", occurred_at, moment, window) is not None:
        return None
    # No value needs a COPY escape: JSON strings hold no raw control character, and without a
    # backslash none holds an escaped one; orjson renders the properties without whitespace.
    return event_id, "\t".join((
        event_id, _EVENT_TYPE_OF[type(event)], occurred_at, account_id, workflow_id or _NULL,
        _NULL if version is None else str(version), execution_id or _NULL,
        contact_id or _NULL, step_id or _NULL, user_id or _NULL, properties_text,
    ))
