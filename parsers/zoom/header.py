"""The envelope of every Zoom webhook body: the event name, its time, the account, the payload.

    {"event": "meeting.participant_joined", "event_ts": 1626230691572,
     "payload": {"account_id": "...", "object": {...}, "old_object": {...}, "operator": "...", ...}}

`event` is `<family>.<verb>`: the family (`meeting`, `webinar`, `user`, `account`, `phone`, `recording`,
`chat_message`) picks the reader of the payload. A document without the envelope is an error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from ucsiem.parsing import ParseError, jsonvalues

SHOWN = 80
MAX_EVENT_NAME = 128


class Header(NamedTuple):
    name: str  # `meeting.participant_joined` (event.code)
    family: str  # `meeting` (event.provider)
    verb: str  # `participant_joined`
    stamp: datetime | None  # event_ts, else payload.time_stamp
    account: str | None  # the Zoom account (tenant): organization.id
    payload: dict[str, Any]
    received: datetime  # the time the record was read: @timestamp when the body has no time at all


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


def read_header(doc: dict[str, Any], received: datetime) -> Header:
    name = _name(doc)
    payload = doc.get("payload")
    if not isinstance(payload, dict):
        raise ParseError("bad_field", f"{name}: \"payload\" is not an object")
    # event_ts dates the event; payload.time_stamp (management events) is the next best.
    stamp = (jsonvalues.epoch_ms(doc.get("event_ts"), "event_ts")
             or jsonvalues.epoch_ms(payload.get("time_stamp"), "payload.time_stamp"))
    family, _, verb = name.partition(".")
    # account_id belongs in the payload; some (older) bodies carry it beside `event`
    account = jsonvalues.text(payload, "account_id") or jsonvalues.text(doc, "account_id")
    return Header(name, family, verb, stamp, account, payload, received)
