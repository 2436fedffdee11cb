"""Property-based checks of the validator's fast paths (hypothesis): for events and JSON lines
drawn at random, near the contract and across it, a fast path either leaves the event to the
checked path or answers exactly as it does. The hand-picked cases are in
test_validate_fast_path.py."""

from __future__ import annotations

import json
from datetime import datetime

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_validate_fast_path import checked, the_checked_way
from warehouse.ingestion.contract import (
    ENROLLMENT_SOURCES,
    ERROR_TYPES,
    EVENT_COLUMNS,
    EVENT_TYPES,
    NUMERIC_PROPERTIES,
    REQUIRED_BY_TYPE,
)
from warehouse.ingestion.json_fast_path import plain_json_copy_line
from warehouse.ingestion.validate import _plain_copy_line

EXAMPLES = 400  # per property: a second or two each

# text as producers send it: mostly plain ids, sometimes empty, escaped or beyond ASCII
def nested(levels: int) -> list:
    value: list = []
    for _ in range(levels - 1):
        value = [value]
    return value


TEXT = st.one_of(st.sampled_from(["a", "acc_1", "wf-2", "x_1", "s1", "u1", ""]),
                 st.text(max_size=6),
                 st.sampled_from(["i" * 256, "i" * 257]),  # an id at its bound, and past it
                 st.text(alphabet="a\\\t\n\"\u00e9\u0000\ud7ff", max_size=4))
NUMBER = st.one_of(st.integers(min_value=-3, max_value=3), st.integers(),
                   st.floats(allow_nan=False, allow_infinity=False),
                   st.sampled_from([0.002, 1e2, 2**31, 2**63, -0.0]))
ANY_VALUE = st.one_of(st.none(), st.booleans(), NUMBER, TEXT, st.lists(NUMBER, max_size=2),
                      st.dictionaries(TEXT, NUMBER, max_size=2))
TIMESTAMP = st.one_of(
    st.sampled_from(["2026-09-01T10:00:00Z", "2026-09-01T10:00:00.5+02:00", "2026-09-01 10:00:00Z",
                     "2026-02-30T10:00:00Z", "2026-09-01T10:00:00", "2026-09-01", ""]),
    # offsets and the window at their bounds and past them
    st.sampled_from(["2026-09-01T10:00:00+14:00", "2026-09-01T10:00:00-14:00",
                     "2026-09-01T10:00:00+14:01", "2026-09-01T10:00:00+18:00",
                     "2000-01-01T00:00:00Z", "2000-01-01T00:00:00+01:00", "1999-12-31T23:59:59",
                     "2028-01-01T00:00:00Z", "9999-12-31T23:00:00-05:00",
                     "0001-01-01T00:00:00+01:00", "0001-01-01"]),
    st.datetimes().map(lambda moment: moment.isoformat() + "Z"),
    TEXT)
VALID_PROPERTY = {
    **{name: st.one_of(st.integers(0, 10**6), st.floats(0, 1e6)) for name in NUMERIC_PROPERTIES},
    "error_type": st.sampled_from(sorted(ERROR_TYPES)),
    "enrollment_source": st.sampled_from(sorted(ENROLLMENT_SOURCES)),
    "error_message": st.text(max_size=8),
}
PROPERTY_VALUE = {
    **{name: st.one_of(NUMBER, ANY_VALUE) for name in NUMERIC_PROPERTIES},
    "error_type": st.one_of(st.sampled_from(sorted(ERROR_TYPES)), ANY_VALUE),
    "enrollment_source": st.one_of(st.sampled_from(sorted(ENROLLMENT_SOURCES)), ANY_VALUE),
    "error_message": TEXT,
    "note": st.one_of(ANY_VALUE, st.sampled_from([
        # nested to the bound (the properties object is the first level) and past it; as big
        # as the bound allows and past it; deeper than orjson writes
        nested(31), nested(32), nested(300), "b" * (64 * 1024 - 11), "b" * (64 * 1024 - 10)])),
}


PLAIN_ID = st.text(alphabet="abcxyz_-019", min_size=1, max_size=6)


@st.composite
def valid_events(draw) -> dict:
    """An event the contract accepts: its type's ids, a UTC timestamp, typed properties."""
    event_type = draw(st.sampled_from(sorted(EVENT_TYPES)))
    event = {"event_id": draw(PLAIN_ID), "event_type": event_type,
             "occurred_at": draw(st.datetimes(datetime(2000, 1, 1, 2), datetime(2026, 11, 30))
                                 ).isoformat() + draw(st.sampled_from(["Z", "+02:00"])),
             "account_id": draw(PLAIN_ID)}
    for column in REQUIRED_BY_TYPE[event_type]:
        event[column] = draw(st.integers(1, 9)) if column == "workflow_version" else draw(PLAIN_ID)
    names = draw(st.lists(st.sampled_from(sorted(VALID_PROPERTY)), max_size=4, unique=True))
    event["properties"] = {name: draw(VALID_PROPERTY[name]) for name in names}
    return event


@st.composite
def events(draw) -> dict:
    """A valid event, often with a field or a property changed to anything, or dropped, in
    any key order."""
    event = draw(valid_events())
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2]))):
        field = draw(st.sampled_from([*EVENT_COLUMNS, "received_at"]))
        change = draw(st.integers(0, 3))
        if change == 0:
            event.pop(field, None)
        elif field == "properties" and isinstance(event.get(field), dict) and change < 3:
            name = draw(st.sampled_from(sorted(PROPERTY_VALUE)))
            event[field] = {**event[field], name: draw(PROPERTY_VALUE[name])}
        else:
            event[field] = draw(st.one_of(TEXT, TIMESTAMP, ANY_VALUE))
    order = draw(st.permutations(sorted(event)))
    return {key: event[key] for key in order}


def rendered(event: dict, how: int) -> bytes:
    """The line as orjson writes it, or as Python's json module does (spaces, \\u escapes)."""
    if how == 0:
        return orjson.dumps(event)
    return json.dumps(event, ensure_ascii=how == 1).encode("utf-8", "surrogatepass")


SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


def test_the_decoded_event_fast_path_answers_as_the_checked_path_or_not_at_all():
    answered = []

    @SETTINGS
    @given(event=events())
    def check(event):
        fast = _plain_copy_line(event)
        if fast is not None:
            answered.append(event)
            assert fast == checked(event)

    check()
    assert len(answered) > EXAMPLES // 4  # the draws reach the fast path, not only its refusals


def test_the_json_fast_path_answers_as_the_checked_way_or_not_at_all():
    answered = []

    @SETTINGS
    @given(event=events(), how=st.integers(0, 2))
    def check(event, how):
        try:
            raw = rendered(event, how)
        except TypeError:  # a value JSON cannot hold (orjson: an integer beyond 64 bits)
            return
        fast = plain_json_copy_line(raw)
        if fast is not None:
            answered.append(raw)
            assert fast == the_checked_way(raw)

    check()
    assert len(answered) > EXAMPLES // 4
