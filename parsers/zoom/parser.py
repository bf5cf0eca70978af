"""Zoom webhook bodies: entry point `parse`, the envelope and the time of each event.

A record (framed by `JSON_FRAMING`) is one body as a webhook receiver saved it: one JSON document per
line, a pretty-printed document, or an array of them. Every Zoom event has the same envelope:

    {"event": "meeting.participant_joined", "event_ts": 1626230691572,
     "payload": {"account_id": "...", "object": {...}, "old_object": {...}, "operator": "...", ...}}

`event` picks the family (`meeting`, `webinar`, `user`, `account`, `phone`, `recording`,
`chat_message`) and the action (events.py); families.py maps each family's object. A body with the
envelope but an event this parser does not know becomes a `diagnostic` event with the name in
`event.code`; a document without the envelope is an error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord, json_documents, jsonvalues, prune

from .events import CALL_LOG, CALL_LOG_EVENTS, Kind, classify
from .families import call_log, call_log_rows, chat, conference, other, phone, recording, user_account

SHOWN = 80
MAX_EVENT_NAME = 128


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One framed JSON record -> the events of every webhook body it holds."""
    events: list[ParsedEvent] = []
    for doc in json_documents(record.text):
        events.extend(_body(doc, ctx))
    return events


def _name(doc: dict[str, Any]) -> str:
    if "event" not in doc:
        keys = ", ".join(list(doc)[:6])
        raise ParseError("no_match", f"not a Zoom webhook body: no \"event\" (keys: {keys[:SHOWN]})")
    name = doc["event"]
    if not isinstance(name, str) or not name.strip():
        raise ParseError("bad_field", f"\"event\" is not an event name: {str(name)[:SHOWN]!r}")
    name = name.strip()
    if len(name) > MAX_EVENT_NAME or "." not in name:
        raise ParseError("bad_field", f"\"event\" is not a Zoom event name (<object>.<action>): {name[:SHOWN]!r}")
    return name


def _body(doc: dict[str, Any], ctx: ParseContext) -> list[ParsedEvent]:
    name = _name(doc)
    payload = doc.get("payload")
    if not isinstance(payload, dict):
        raise ParseError("bad_field", f"{name}: \"payload\" is not an object")
    # event_ts dates the event; payload.time_stamp (management events) is the next best.
    stamp = (jsonvalues.epoch_ms(doc.get("event_ts"), "event_ts")
             or jsonvalues.epoch_ms(payload.get("time_stamp"), "payload.time_stamp"))
    family, _, verb = name.partition(".")
    if family == "phone" and verb in CALL_LOG_EVENTS:
        rows = call_log_rows(payload)
        if rows:
            out = []
            for row in rows:
                event, vendor = _skeleton(name, family, CALL_LOG, doc, payload)
                row_time = call_log(name, row, payload, event, vendor)  # fills the event: call it first
                out.append(_finish(event, vendor, stamp or row_time, ctx))
            return out
    kind = classify(family, verb)
    event, vendor = _skeleton(name, family, kind, doc, payload)
    when: datetime | None
    if family in ("meeting", "webinar"):
        when = conference(name, verb, kind, payload, event, vendor)
    elif family in ("user", "account"):
        when = user_account(name, family, verb, kind, payload, event, vendor)
    elif family == "phone":
        when = phone(name, verb, kind, payload, event, vendor)
    elif family == "recording":
        when = recording(name, verb, kind, payload, event, vendor)
    elif family == "chat_message":
        when = chat(name, payload, event, vendor)
    else:  # endpoint.url_validation and every event without a mapping
        when = other(name, payload, event, vendor)
    return [_finish(event, vendor, stamp or when, ctx)]


def _skeleton(name: str, family: str, kind: Kind, doc: dict[str, Any],
              payload: dict[str, Any]) -> tuple[ParsedEvent, dict[str, Any]]:
    event: ParsedEvent = {
        "event": {"kind": "event", "action": kind.action, "category": list(kind.category),
                  "type": list(kind.type), "outcome": kind.outcome, "code": name, "provider": family},
    }
    # The Zoom account (tenant) the event belongs to. account_id belongs in the payload; some (older)
    # bodies carry it beside `event`.
    account = jsonvalues.text(payload, "account_id") or jsonvalues.text(doc, "account_id")
    if account:
        event["organization"] = {"id": account}
    return event, {}


def _finish(event: ParsedEvent, vendor: dict[str, Any], when: datetime | None, ctx: ParseContext) -> ParsedEvent:
    # No time in the body at all (some test payloads lack event_ts): the time the record was read.
    event["@timestamp"] = when or ctx.reference_time
    if when is None:
        event["tags"] = ["time_from_reference"]
    if vendor:
        event.setdefault("uc", {})["vendor"] = vendor
    return prune(event)
