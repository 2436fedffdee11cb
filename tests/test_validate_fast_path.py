"""The validator's fast paths against its rule-by-rule path (warehouse/ingestion/validate.py): the
one-pass check of a decoded event, and the check of a JSON line in C (json_fast_path.py).
Wherever a fast path answers, it answers exactly as the checked path does."""

from __future__ import annotations

from datetime import datetime, timezone

import orjson
import pytest

from tests.test_ingestion import BAD_LINES, enrolled
from warehouse.ingestion.json_fast_path import plain_json_copy_line
from warehouse.ingestion.parallel import parse_block
from warehouse.ingestion.readers import undecodable
from warehouse.ingestion.validate import (
    EventWindow,
    Rejected,
    _checked_copy_line,
    _plain_copy_line,
    event_to_copy_line,
    validate_chunk,
)
from warehouse.sample_data import generate


def checked(event):
    try:
        return _checked_copy_line(event)
    except Rejected as reason:
        return f"rejected: {reason}"


def step(event_id: str, **overrides) -> dict:
    return {**enrolled(event_id), "event_type": "step.completed", "step_id": "s1",
            "properties": {"duration_ms": 120, "credits": 1, "cost_usd": 0.002}, **overrides}


EDGE_CASES = [
    *[line for line, _ in BAD_LINES if isinstance(line, dict)],
    enrolled("e1"),
    step("e2"),
    step("e3", properties={}),
    step("e4", properties=None),
    step("e5", properties=[]),
    step("e6", step_id=0),  # a falsy id that is not a string
    step("e7", step_id=7),
    step("e8", contact_id=""),
    step("e9", workflow_version=0),
    step("e10", workflow_version=2**31),
    step("e11", workflow_version=3.0),
    step("e12", workflow_version="3"),
    step("e13", workflow_version=None),
    {**step("e14"), "event_type": "user.activity", "workflow_version": None, "user_id": "u1"},
    {**step("e15"), "event_type": "user.activity", "workflow_version": "", "user_id": "u1"},
    step("e16", occurred_at="2026-09-01 10:00:00.123456+02:00"),
    step("e17", occurred_at="2026-09-01T10:00:00"),
    step("e18", occurred_at="2026-09-01"),
    step("e19", occurred_at="2026-02-30T10:00:00Z"),
    step("e20", occurred_at="\u0662\u0660\u0662\u0666-09-01T10:00:00Z"),  # Arabic-Indic digits
    step("e21", execution_id="x\ty"),
    step("e22", execution_id="back\\slash"),
    step("e23", properties={"error_message": "line\nbreak", "error_type": "api_timeout"}),
    step("e24", properties={"error_message": "nul \u0000"}),
    step("e25", properties={"error_type": ["api_timeout"]}),
    step("e26", properties={"duration_ms": float("inf")}),
    step("e27", properties={"duration_ms": True}),
    step("e28", properties={"duration_ms": None, "credits": 0}),
    step("e29", properties={"enrollment_source": "bulk", "resource": {"nested": [1, 2]}}),
    step("e30", account_id=["acc"]),
    {**step("e31"), "event_type": ""},
    {**step("e32"), "event_type": ["step.completed"]},
    {**step("e33"), "event_id": 12345},
]


@pytest.mark.parametrize("event", EDGE_CASES, ids=lambda e: str(e.get("event_id")))
def test_the_fast_path_answers_as_the_checked_path_or_leaves_the_event_to_it(event):
    expected = checked(event)
    fast = _plain_copy_line(event)
    if fast is not None:
        assert fast == expected
    try:
        outcome = event_to_copy_line(event)
    except Rejected as reason:
        outcome = f"rejected: {reason}"
    assert outcome == expected


def test_the_fast_path_takes_the_plain_events_and_leaves_the_odd_ones():
    taken = {e["event_id"] for e in EDGE_CASES if _plain_copy_line(e) is not None}
    assert taken == {"e1", "e2", "e3", "e4", "e8", "e9", "e14", "e16", "e23", "e28", "e29"}


def test_an_enumerated_property_that_is_not_a_string_is_rejected_with_its_reason():
    with pytest.raises(Rejected, match=r"properties.error_type has an unknown value: \['api_timeout'\]"):
        event_to_copy_line(step("x", properties={"error_type": ["api_timeout"]}))


def test_digits_of_other_scripts_never_reach_postgresql_as_sent():
    outcome = checked(step("x", occurred_at="\u0662\u0660\u0662\u0666-09-01T10:00:00Z"))
    assert isinstance(outcome, str) or outcome[1].split("\t")[2] == "2026-09-01T10:00:00+00:00"


def test_the_fast_path_agrees_on_a_generated_data_set_and_takes_nearly_all_of_it(tmp_path):
    generate(tmp_path, events=20_000, days=3, seed=7, malformed_rate=0.02)
    decoded = []
    for path in sorted((tmp_path / "events").glob("*.jsonl")):
        for raw in path.read_bytes().splitlines():
            try:
                decoded.append(orjson.loads(raw))
            except orjson.JSONDecodeError:
                continue
    assert len(decoded) > 20_000
    fast_answers = 0
    for event in decoded:
        fast = _plain_copy_line(event) if isinstance(event, dict) else None
        if fast is not None:
            fast_answers += 1
            assert fast == checked(event)
    accepted = sum(1 for event in decoded if not isinstance(checked(event), str))
    # every valid generated event is plain, every malformed one is left to the checked path
    assert fast_answers == accepted
    assert accepted < len(decoded)


# JSON lines as producers may write them, beyond orjson's rendering of EDGE_CASES.
PLAIN_STEP = (b'{"event_id":"j1","event_type":"step.completed","occurred_at":"2026-09-01T10:00:00Z",'
              b'"account_id":"acc_1","workflow_id":"wf_1","workflow_version":1,"execution_id":"x_1",'
              b'"step_id":"s1","properties":{"duration_ms":120,"credits":1,"cost_usd":0.002}}')
RAW_EDGE_CASES = [
    PLAIN_STEP,
    PLAIN_STEP.replace(b'"event_type":"step.completed",', b"") [:-1] + b',"event_type":"step.completed"}',
    PLAIN_STEP.replace(b",", b" ,\t ").replace(b'":', b'" : '),  # JSON whitespace, tabs too
    PLAIN_STEP.replace(b'"credits":1', b'"credits":1e2'),
    PLAIN_STEP.replace(b'"credits":1', b'"credits":1e999'),
    PLAIN_STEP.replace(b'"credits":1', b'"credits":123456789012345678901234567890'),
    PLAIN_STEP.replace(b'"credits":1', b'"credits":-0.0'),
    PLAIN_STEP.replace(b'"credits":1', b'"credits":1,"credits":-1'),
    PLAIN_STEP.replace(b'"credits":1', b'"credits":-1,"credits":1'),
    PLAIN_STEP.replace(b'"credits":1', b'"note":123456789012345678901234567890'),
    PLAIN_STEP.replace(b'"credits":1', b'"note":"caf\u00e9"'),
    PLAIN_STEP.replace(b'"credits":1', "\"note\":\"café\"".encode()),
    PLAIN_STEP.replace(b'"credits":1', b'"note":"\xff"'),
    PLAIN_STEP.replace(b'"credits":1', b'"note":"lone \\ud800"'),
    PLAIN_STEP.replace(b'"s1"', b'"s\\u0009tab"'),
    PLAIN_STEP.replace(b'"s1"', b'"s1","step_id":"s2"'),
    PLAIN_STEP.replace(b'"account_id":"acc_1"', b'"account_id":"acc_1","event_type":"user.activity"'),
    PLAIN_STEP.replace(b'"execution_id":"x_1"', b'"execution_id":"x_1","contact_id":"","user_id":""'),
    PLAIN_STEP.replace(b'"workflow_version":1', b'"workflow_version":1.0'),
    PLAIN_STEP.replace(b'"workflow_version":1', b'"workflow_version":-1'),
    PLAIN_STEP.replace(b'{"duration_ms":120,"credits":1,"cost_usd":0.002}', b"null"),
    PLAIN_STEP.replace(b'{"duration_ms":120,"credits":1,"cost_usd":0.002}', b"{ }"),
    PLAIN_STEP.replace(b'{"duration_ms":120,"credits":1,"cost_usd":0.002}', b'"oops"'),
    PLAIN_STEP + b" trailing",
    PLAIN_STEP + b"\r",
    b'{"event_id":"j2","event_type":"user.activity","occurred_at":"2026-09-01T10:00:00Z",'
    b'"account_id":"acc_1","user_id":"u1","workflow_version":-1}',
    b'{"event_id":"j3","event_type":"user.activity","occurred_at":"2026-09-01T10:00:00Z",'
    b'"account_id":"acc_1","user_id":"u1","workflow_version":null,"received_at":"whenever"}',
]


def the_checked_way(raw: bytes):
    """What a JSON line came to before json_fast_path: orjson, then event_to_copy_line."""
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return "rejected: not JSON"
    try:
        return event_to_copy_line(event)
    except Rejected as reason:
        return f"rejected: {reason}"


JSON_LINES = [orjson.dumps(event) for event in EDGE_CASES] + RAW_EDGE_CASES


@pytest.mark.parametrize("raw", JSON_LINES, ids=lambda raw: raw[:60].decode(errors="replace"))
def test_the_json_fast_path_answers_as_the_checked_way_or_leaves_the_line_to_it(raw):
    fast = plain_json_copy_line(raw)
    if fast is not None:
        assert fast == the_checked_way(raw)


def test_the_json_fast_path_takes_the_plain_lines_and_leaves_the_odd_ones():
    taken = {index for index, raw in enumerate(RAW_EDGE_CASES) if plain_json_copy_line(raw)}
    # plain; event_type last; whitespace; 1e2; a big number; -0.0; a big number in an unchecked
    # property; a repeated id (the last one counts); empty optional ids; { }; a carriage return
    # at the end; a user.activity without a version
    assert taken == {0, 1, 2, 3, 5, 6, 9, 15, 17, 21, 24, 26}
    assert plain_json_copy_line(PLAIN_STEP)[1].split("\t")[-1] == (
        '{"duration_ms":120,"credits":1,"cost_usd":0.002}')
    from_edge_cases = {orjson.loads(raw)["event_id"] for raw in JSON_LINES[:len(EDGE_CASES)]
                       if plain_json_copy_line(raw)}
    # (orjson renders e26's infinite duration as null)
    assert from_edge_cases == {"e1", "e2", "e3", "e8", "e9", "e14", "e16", "e26", "e28", "e29"}


def test_a_block_parses_as_its_lines_decoded_one_by_one(tmp_path):
    generate(tmp_path, events=20_000, days=3, seed=11, malformed_rate=0.02)
    generated = [raw for path in sorted((tmp_path / "events").glob("*.jsonl"))
                 for raw in path.read_bytes().splitlines()]
    # every valid generated event takes the fast path
    taken = sum(1 for raw in generated if plain_json_copy_line(raw) is not None)
    assert taken == sum(1 for raw in generated if not isinstance(the_checked_way(raw), str))
    assert taken < len(generated)
    lines = generated + JSON_LINES

    parsed = parse_block(b"\n".join(lines), first_line=1)

    one_by_one = []
    for number, raw in enumerate(lines, start=1):
        try:
            one_by_one.append((number, raw, orjson.loads(raw)))
        except orjson.JSONDecodeError as exc:
            one_by_one.append((number, raw, undecodable(raw, exc)))
    assert parsed == validate_chunk(one_by_one)
    assert parsed.rows_read == len(lines) and len(parsed.rejections) > 300


def test_a_property_json_cannot_hold_is_rejected_with_its_reason():
    # only a Python caller can offer one: JSON input decodes such an integer as a float
    event = step("x", properties={"note": 2**64})
    assert _plain_copy_line(event) is None
    with pytest.raises(Rejected, match="properties cannot be stored as JSON"):
        event_to_copy_line(event)


# --- the bounds: timestamps, lengths, depth -------------------------------------------------

NOW = datetime(2026, 12, 7, 12, tzinfo=timezone.utc)
WINDOW = EventWindow.ending_after(NOW)  # 2000-01-01 to 24 h after NOW


def nested(levels: int) -> list:
    """Arrays `levels` deep."""
    value: list = []
    for _ in range(levels - 1):
        value = [value]
    return value


TOO_DEEP = "properties are nested too deep: more than 32 levels"
BOUNDS = [  # (event, the reason every path gives; None: stored)
    (step("o1", occurred_at="2026-09-01T10:00:00+14:00"), None),
    (step("o2", occurred_at="2026-09-01T10:00:00-14:00"), None),
    (step("o3", occurred_at="2026-09-01T10:00:00+14:01"),
     "occurred_at has an offset out of range: '2026-09-01T10:00:00+14:01' (offsets are within"
     " ±14:00)"),
    (step("o4", occurred_at="2026-09-01T10:00:00+18:00"),
     "occurred_at has an offset out of range: '2026-09-01T10:00:00+18:00' (offsets are within"
     " ±14:00)"),
    (step("o5", occurred_at="9999-12-31T23:00:00-0500"),
     "occurred_at is out of range: 9999-12-31T23:00:00-0500 is more than 24 h ahead of now"),
    (step("o6", occurred_at="0001-01-01T00:00:00+01:00"),
     "occurred_at is out of range: 0001-01-01T00:00:00+01:00 is before 2000-01-01"),
    (step("o7", occurred_at="2000-01-01T00:00:00Z"), None),
    (step("o8", occurred_at="2000-01-01T00:30:00+01:00"),  # 1999-12-31 23:30 UTC
     "occurred_at is out of range: 2000-01-01T00:30:00+01:00 is before 2000-01-01"),
    (step("o9", occurred_at="2026-12-08T12:00:00Z"), None),  # 24 h ahead, exactly
    (step("o10", occurred_at="2026-12-08T12:00:00.000001Z"),
     "occurred_at is out of range: 2026-12-08T12:00:00.000001Z is more than 24 h ahead of now"),
    (step("o11", occurred_at="2028-01-01T00:00:00"),  # no offset: UTC
     "occurred_at is out of range: 2028-01-01T00:00:00 is more than 24 h ahead of now"),
    (step("o12", occurred_at="0001-01-01"),
     "occurred_at is out of range: 0001-01-01 is before 2000-01-01"),
    (step("l1", execution_id="x" * 256), None),
    (step("l2", execution_id="x" * 257), "execution_id is too long: 257 characters (at most 256)"),
    ({**step("l3"), "event_id": "e" * 10_000}, "event_id is too long: 10,000 characters (at most 256)"),
    (step("l4", step_id=10**300), "step_id is too long: 301 characters (at most 256)"),
    (step("l5", execution_id="x\t" * 200), "execution_id is too long: 400 characters (at most 256)"),
    (step("p1", properties={"note": nested(31)}), None),  # 32 levels with the properties
    (step("p2", properties={"note": nested(32)}), TOO_DEEP),
    (step("p3", properties={"note": nested(300)}), TOO_DEEP),  # deeper than orjson writes
    (step("p4", properties={"note": "b" * (64 * 1024 - 11)}), None),  # 65,536 bytes as JSON
    (step("p5", properties={"note": "b" * (64 * 1024 - 10)}),
     "properties are too large: 65,537 bytes as JSON (at most 65,536)"),
    (step("p6", properties={"many": [[1]] * 40}), None),  # many brackets, three levels
]


@pytest.mark.parametrize("event,reason", BOUNDS, ids=[e["event_id"][:3] for e, _ in BOUNDS])
def test_every_path_gives_the_same_answer_at_the_bounds(event, reason):
    try:
        outcome = _checked_copy_line(event, WINDOW)
    except Rejected as rejected:
        outcome = f"rejected: {rejected}"
    if reason is None:
        assert isinstance(outcome, tuple), outcome
    else:
        assert outcome == f"rejected: {reason}"
    try:
        answer = event_to_copy_line(event, WINDOW)
    except Rejected as rejected:
        answer = f"rejected: {rejected}"
    assert answer == outcome
    fast = _plain_copy_line(event, WINDOW)
    assert fast is None or fast == outcome
    try:
        raw = orjson.dumps(event)
    except orjson.JSONEncodeError:  # deeper than orjson writes, or an integer beyond 64 bits
        return
    fast = plain_json_copy_line(raw, WINDOW)
    assert fast is None or fast == outcome
    [(_, _, chunk_reason)] = parse_block(raw, 1, WINDOW).rejections or [(0, 0, None)]
    assert chunk_reason == reason


def test_the_fast_paths_still_take_events_at_the_bounds():
    accepted = [event for event, reason in BOUNDS if reason is None]
    # both leave properties with more brackets than levels allowed (p6) to the checked path
    assert [e["event_id"] for e in accepted if _plain_copy_line(e, WINDOW)] == [
        "o1", "o2", "o7", "o9", "l1", "p1", "p4"]
    assert [e["event_id"] for e in accepted if plain_json_copy_line(orjson.dumps(e), WINDOW)] == [
        "o1", "o2", "o7", "o9", "l1", "p1", "p4"]


def test_an_unforeseen_error_rejects_its_row_and_the_chunk_goes_on():
    # an id no rule foresaw: an integer Python will not write out (only a Python caller can
    # offer one: JSON input decodes it as a float)
    rows = [(1, b"a", enrolled("u1")), (2, b"b", step("u9", step_id=10**5000)),
            (3, b"c", enrolled("u2"))]
    parsed = validate_chunk(rows, WINDOW)
    assert (parsed.rows_read, parsed.event_ids) == (3, ["u1", "u2"])
    assert parsed.rejections == [
        (2, b"b", "unexpected error: ValueError: Exceeds the limit (4300 digits) for integer"
                  " string conversion; use sys.set_int_max_str_digits() to increase the limit")]


def test_the_window_follows_the_platforms_clock_and_settings():
    from warehouse.settings import Settings

    settings = Settings(now=datetime(2026, 12, 7, 12), events_max_ahead_hours=2,
                        events_earliest="2026-01-01")
    assert settings.event_window() == EventWindow(
        datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 12, 7, 14, tzinfo=timezone.utc),
        2)
    with pytest.raises(Rejected, match="^occurred_at is out of range: 2026-12-07T15:00:00Z is more"
                                       " than 2 h ahead of now$"):
        event_to_copy_line(step("w1", occurred_at="2026-12-07T15:00:00Z"), settings.event_window())
    # the defaults: the contract's
    assert Settings(now=NOW).event_window() == WINDOW


def test_a_line_msgspec_cannot_decode_is_decided_the_checked_way():
    # an unknown field 1,000 levels deep: msgspec gives up (RecursionError), orjson reads it
    # (its limit is 1,024) and the checked way stores the event without the field
    raw = PLAIN_STEP[:-1] + b',"extra":' + b"[" * 1000 + b"]" * 1000 + b"}"
    assert plain_json_copy_line(raw, WINDOW) is None
    parsed = parse_block(raw, 1, WINDOW)
    assert (parsed.event_ids, parsed.rejections) == (["j1"], [])
    assert parsed.copy_text == plain_json_copy_line(PLAIN_STEP, WINDOW)[1]
