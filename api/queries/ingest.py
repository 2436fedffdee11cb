"""POST /api/v1/events: the loader's validation per event, then one idempotent insert.

Every event offered ends up accepted (stored now), duplicate (its event_id is stored already,
or repeats an earlier event of the same body) or rejected (kept in raw.events_rejected with the
reason), so nothing is lost and nothing is counted twice.
"""

from __future__ import annotations

import orjson

from api.errors import bad_request
from warehouse.ingestion.ownership import Owners
from warehouse.ingestion.readers import undecodable
from warehouse.ingestion.validate import (
    COPY_COLUMNS,
    EventWindow,
    Rejected,
    claim_of,
    copy_escape,
    event_to_copy_line,
    unexpected,
    utc_now,
)

MAX_EVENTS = 10_000
_COLUMNS = ", ".join(COPY_COLUMNS)


def parse_body(body: bytes, content_type: str) -> list:
    """A JSON array, or NDJSON (one event a line); a line that is not JSON is kept to be rejected."""
    text = body.strip()
    if not text:
        raise bad_request("the body is empty: send a JSON array or NDJSON of events")
    if text[:1] == b"[" and "ndjson" not in content_type:
        try:
            events = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise bad_request(f"the body is not valid JSON: {exc}") from None
    else:
        events = []
        for line in text.split(b"\n"):
            if not line.strip():
                continue
            try:
                events.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                text_line = line.decode("utf-8", "replace")
                rejected = undecodable(line, exc)  # not UTF-8, or not JSON
                rejected.raw = text_line  # kept whole in raw.events_rejected
                events.append(rejected)
    if len(events) > MAX_EVENTS:
        raise bad_request(f"{len(events):,} events in one request; at most {MAX_EVENTS:,}")
    return events


def _shown_id(event) -> str | None:
    """The event_id as the answer shows it (a scalar; anything else is not an id)."""
    event_id = event.get("event_id") if isinstance(event, dict) else None
    if isinstance(event_id, (str, int, float)):
        return event_id if isinstance(event_id, str) else str(event_id)
    return None


def _raw_json(event) -> str:
    if isinstance(event, Rejected):
        return event.raw
    try:
        return orjson.dumps(event).decode()
    except orjson.JSONEncodeError as error:  # e.g. nested deeper than orjson writes
        return f"(not rendered: {error})"


def ingest(conn, events: list, account_id: str, source: str,
           window: EventWindow | None = None) -> dict:
    """`window`: the span of occurred_at (default: from 2000 to a day after now)."""
    window = window or EventWindow.ending_after(utc_now())  # once for the request
    outcomes: list[dict] = []
    lines: dict[str, str] = {}
    rejected: list[tuple[int, str, str]] = []
    for index, event in enumerate(events):
        try:
            if isinstance(event, Rejected):
                raise event
            key, line = event_to_copy_line(event, window)
            if event.get("account_id") != account_id:
                raise Rejected("account_id does not belong to this API key's account")
        except Exception as error:  # noqa: BLE001 - a Rejected, or one no rule foresaw
            reason = str(error if isinstance(error, Rejected) else unexpected(error))
            outcomes.append({"index": index, "event_id": _shown_id(event), "status": "rejected",
                             "reason": reason})
            rejected.append((index + 1, _raw_json(event), reason))
            continue
        if key in lines:
            outcomes.append({"index": index, "event_id": key, "status": "duplicate",
                             "reason": "repeats an earlier event of this request"})
            continue
        lines[key] = line
        outcomes.append({"index": index, "event_id": key, "status": None})
    _refuse_foreign(conn, events, outcomes, lines, rejected)
    stored = _store(conn, lines, rejected, source)
    for outcome in outcomes:
        if outcome["status"] is None:
            new = outcome["event_id"] in stored
            outcome["status"] = "accepted" if new else "duplicate"
            outcome["reason"] = None if new else "event_id already stored"
    counts = {s: sum(1 for o in outcomes if o["status"] == s)
              for s in ("accepted", "duplicate", "rejected")}
    return {"received": len(events), "accepted": counts["accepted"],
            "duplicates": counts["duplicate"], "rejected": counts["rejected"], "results": outcomes}


def _refuse_foreign(conn, events: list, outcomes: list[dict], lines: dict[str, str],
                    rejected: list) -> None:
    """Reject the events that name another account's workflow or execution (ownership.py)."""
    foreign = Owners().foreign(conn, [claim_of(line) for line in lines.values()])
    if not foreign:
        return
    for outcome in outcomes:
        key = outcome["event_id"]
        if outcome["status"] is not None:
            continue
        reason = foreign.get(claim_of(lines[key]))
        if reason is not None:
            del lines[key]
            outcome.update(status="rejected", reason=reason)
            rejected.append((outcome["index"] + 1, _raw_json(events[outcome["index"]]), reason))


def _store(conn, lines: dict[str, str], rejected: list, source: str) -> set[str]:
    """Insert the new events; return the ids stored by this call. The commit waits for the disk
    (whatever the server's default): an event answered "accepted" survives a crash."""
    with conn.transaction():
        conn.execute("set local synchronous_commit = on")
        load_id = conn.execute(
            "insert into raw.load_batches (source_file, target_table) values (%s, 'events')"
            " returning load_id", (source,)).fetchone()["load_id"]
        stored: set[str] = set()
        if lines:
            conn.execute(f"create temp table if not exists api_incoming as"
                         f" select {_COLUMNS} from raw.events limit 0")
            conn.execute("truncate api_incoming")
            with conn.cursor().copy(f"copy api_incoming ({_COLUMNS}) from stdin") as copy:
                copy.write("\n".join(lines.values()) + "\n")
            stored = {row["event_id"] for row in conn.execute(
                f"insert into raw.events ({_COLUMNS}) select {_COLUMNS} from api_incoming"
                " on conflict (event_id) do nothing returning event_id")}
        if rejected:
            source_text = copy_escape(source)
            with conn.cursor().copy(
                    "copy raw.events_rejected (load_id, source_file, line_number, raw_line, reason)"
                    " from stdin") as copy:
                copy.write("".join(f"{load_id}\t{source_text}\t{n}\t{copy_escape(raw)}\t"
                                   f"{copy_escape(reason)}\n" for n, raw, reason in rejected))
        conn.execute("update raw.load_batches set rows_read = %s, loaded = %s, duplicates = %s,"
                     " rejected = %s, status = 'done', finished_at = now() where load_id = %s",
                     (len(lines) + len(rejected), len(stored), len(lines) - len(stored),
                      len(rejected), load_id))
    return stored
