"""Hostile input through the real loader (files into the test database) and the real API (HTTP
to uvicorn): every row or event ends up loaded, a duplicate or rejected with its reason, the
counts add up, and nothing raises or answers 500. Exact cases first, then hypothesis drawing
arbitrary JSON values, strings and bytes."""

from __future__ import annotations

import csv
import io
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.infra.keys import create_key
from tests.api_server import client, serve
from tests.helpers import execute, query
from tests.test_ingestion import HOSTILE_LINES, enrolled
from tests.test_validate_fast_path_properties import events, nested, rendered
from warehouse.ingestion import load_path
from warehouse.ingestion.readers import BOM

pytestmark = pytest.mark.db

# per property: a few seconds each against the real servers (FUZZ_EXAMPLES=400 for a longer run)
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def api(warehouse, tmp_path_factory):
    settings = warehouse.model_copy(update={"home": tmp_path_factory.mktemp("api_home"),
                                            "api_rate_limit_per_minute": 100_000})
    key_id, key = create_key(settings.warehouse_url, "acc_1", "admin", ["read", "ingest"])
    with serve(settings) as base, client(base, key) as http:
        yield http, settings, f"api:{key_id}"


# --- exact cases ----------------------------------------------------------------------------

def test_a_batch_with_hostile_events_stores_the_others_and_names_each_problem(api):
    http, settings, source = api
    body = [enrolled("ha1"), *[event for event, _ in HOSTILE_LINES], enrolled("ha2")]

    response = http.post("/api/v1/events", json=body)

    assert response.status_code == 200  # was 500 (nothing stored) for each hostile event
    result = response.json()
    assert (result["received"], result["accepted"], result["duplicates"], result["rejected"]) == (
        9, 2, 0, 7)
    assert [(r["event_id"], r["status"], r["reason"]) for r in result["results"]] == [
        ("ha1", "accepted", None),
        *[(event["event_id"], "rejected", reason) for event, reason in HOSTILE_LINES],
        ("ha2", "accepted", None)]
    assert query(settings, "select event_id from raw.events where event_id like 'ha%%'"
                           " order by 1") == [{"event_id": "ha1"}, {"event_id": "ha2"}]
    kept = query(settings, "select line_number, reason, length(raw_line) > 0 as kept"
                           " from raw.events_rejected where load_id = (select max(load_id)"
                           " from raw.load_batches where source_file = %s) order by 1", (source,))
    assert kept == [{"line_number": number, "reason": reason, "kept": True}
                    for number, (_, reason) in enumerate(HOSTILE_LINES, start=2)]


def test_properties_deeper_than_json_can_be_written_are_rejected_not_a_500(api):
    http, settings, _ = api
    event = enrolled("hd1", properties={"deep": nested(300)})  # orjson writes 255 levels at most
    result = http.post("/api/v1/events", json=[event, enrolled("hd2")]).json()
    assert [(r["status"], r["reason"]) for r in result["results"]] == [
        ("rejected", "properties are nested too deep: more than 32 levels"), ("accepted", None)]


def test_an_ndjson_line_that_is_not_utf8_is_rejected_with_that_reason(api):
    http, _, _ = api
    line = json.dumps(enrolled("hu1", contact_id="Jos@")).encode()
    body = b"\n".join([line.replace(b"Jos@", b"Jos\xe9"), json.dumps(enrolled("hu2")).encode()])
    result = http.post("/api/v1/events", content=body,
                       headers={"Content-Type": "application/x-ndjson"}).json()
    assert [(r["status"], r["reason"]) for r in result["results"]] == [
        ("rejected", f"invalid UTF-8: byte 0xe9 at byte {line.index(b'@')}"), ("accepted", None)]


# --- drawn at random ------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
              st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=12)
ODD_TIMESTAMPS = st.sampled_from([
    "2026-09-01T10:00:00+18:00", "9999-12-31T23:00:00-0500", "0001-01-01T00:00:00Z",
    "2028-01-01T00:00:00Z", "2026-09-01T10:00:00-14:00", "2026-02-30T10:00:00Z", "\u0000",
    "2026-09-01T10:00:00.1234567Z", "+002026-09-01T10:00:00Z"])


@st.composite
def hostile_events(draw) -> dict:
    """A plausible event with one field made hostile: an odd timestamp, a huge id, a huge or
    deep property, a huge integer, a NUL."""
    event = enrolled(draw(st.sampled_from(["f1", "f2", "f3"])))  # repeats: duplicates too
    field, value = draw(st.sampled_from([
        ("occurred_at", draw(ODD_TIMESTAMPS)),
        ("execution_id", "x" * draw(st.sampled_from([256, 257, 10_000]))),
        ("contact_id", "nul\u0000"),
        ("workflow_version", draw(st.sampled_from([2**31, 2**63, -1, 10**30]))),
        ("properties", {"deep": nested(draw(st.integers(1, 200)))}),
        ("properties", {"note": "n" * draw(st.sampled_from([65_000, 66_000]))}),
        ("properties", {"credits": 10**30}),
    ]))
    return {**event, field: value}


def _line(value) -> bytes:
    """A JSON Lines line of any value, as Python's json writes it (big integers too)."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


LINES = st.one_of(
    st.builds(rendered, events(), st.integers(0, 2)).filter(lambda raw: b"\n" not in raw),
    hostile_events().map(_line),
    JSON_VALUES.map(_line),
    st.text(max_size=20).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=30),  # invalid UTF-8, NUL, anything
).map(lambda raw: raw.replace(b"\n", b" ").replace(b"\r", b" "))


CSV_COLUMNS = ("event_id", "event_type", "occurred_at", "account_id", "workflow_id",
               "workflow_version", "execution_id", "contact_id", "properties")


def _csv_line(event) -> bytes:
    """An event as a CSV record (properties as JSON in their column), as csv.writer quotes it."""
    out = io.StringIO()
    fields = []
    for column in CSV_COLUMNS:
        value = event.get(column) if isinstance(event, dict) else event
        if column == "properties" or isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False) if value is not None else ""
        fields.append("" if value is None else str(value))
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue().encode("utf-8", "surrogatepass")


CSV_LINES = st.one_of(
    events().map(_csv_line), hostile_events().map(_csv_line), JSON_VALUES.map(_csv_line),
    st.text(max_size=20).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=30))


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_any_file_loads_every_row_as_loaded_duplicate_or_rejected(warehouse, tmp_path_factory,
                                                                  suffix):
    folder = tmp_path_factory.mktemp("fuzz")
    runs = []

    @SETTINGS
    @given(lines=st.lists(CSV_LINES if suffix == ".csv" else LINES, min_size=1, max_size=8),
           bom=st.booleans(), crlf=st.booleans())
    def check(lines, bom, crlf):
        if suffix == ".csv":
            lines = [",".join(CSV_COLUMNS).encode(), *lines]
        data = (BOM if bom else b"") + (b"\r\n" if crlf else b"\n").join(lines) + b"\n"
        path = folder / f"f{len(runs)}{suffix}"
        path.write_bytes(data)
        before = query(warehouse, "select count(*) as n from raw.events")[0]["n"]

        result = load_path(warehouse.warehouse_url, path)

        runs.append(result)
        assert result.damaged is None
        assert result.rows_read == result.loaded + result.duplicates + result.rejected
        if suffix == ".jsonl":  # every line with something on it is a row (after a BOM)
            body = data.removeprefix(BOM)
            assert result.rows_read == sum(1 for line in body.split(b"\n") if line.strip())
        after = query(warehouse, "select count(*) as n from raw.events")[0]["n"]
        assert after - before == result.loaded
        stored = query(warehouse, "select rows_read, loaded, duplicates, rejected,"
                                  " (select count(*) from raw.events_rejected r"
                                  "  where r.load_id = b.load_id) as kept"
                                  " from raw.load_batches b where load_id = %s", (result.load_id,))
        assert stored == [{"rows_read": result.rows_read, "loaded": result.loaded,
                           "duplicates": result.duplicates, "rejected": result.rejected,
                           "kept": result.rejected}]

    check()
    assert len(runs) >= EXAMPLES // 2
    assert sum(r.loaded for r in runs) > 0 and sum(r.rejected for r in runs) > 0


BODIES = st.one_of(
    # events of the key's account (and of others), hostile ones, any JSON value
    st.lists(st.one_of(events().map(lambda event: {**event, "account_id": "acc_1"}), events(),
                       hostile_events(), JSON_VALUES), min_size=1, max_size=8)
    .map(lambda values: ("application/json", _line(values))),
    st.lists(LINES, min_size=1, max_size=8)
    .map(lambda lines: ("application/x-ndjson", b"\n".join(lines))),
)


def test_any_request_answers_each_event_and_never_500(api):
    http, settings, source = api
    answered = []
    # the drawn ids are short and repeat: the files loaded by the test above may have claimed
    # them for other accounts, and their events here would all be refused as another's
    execute(settings, "truncate raw.workflow_owners, raw.execution_owners")

    @SETTINGS
    @given(body=BODIES)
    def check(body):
        content_type, content = body
        before = query(settings, "select count(*) as n from raw.events")[0]["n"]

        response = http.post("/api/v1/events", content=content,
                             headers={"Content-Type": content_type})

        if response.status_code == 400:  # the body as a whole: empty, or not a JSON array
            assert response.json()["error"]["message"].startswith(
                ("the body is empty", "the body is not valid JSON")), response.text
            return
        assert response.status_code == 200, response.text
        result = response.json()
        answered.append(result)
        assert result["received"] == len(result["results"]) == (
            result["accepted"] + result["duplicates"] + result["rejected"])
        assert [r["index"] for r in result["results"]] == list(range(result["received"]))
        after = query(settings, "select count(*) as n from raw.events")[0]["n"]
        assert after - before == result["accepted"]
        kept = query(settings, "select count(*) as n from raw.events_rejected where load_id ="
                               " (select max(load_id) from raw.load_batches where source_file = %s)",
                     (source,))
        assert kept == [{"n": result["rejected"]}]

    check()
    assert len(answered) >= EXAMPLES // 2
    assert sum(r["accepted"] for r in answered) > 0 and sum(r["rejected"] for r in answered) > 0
