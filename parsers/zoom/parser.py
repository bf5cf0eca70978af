"""Zoom webhook bodies: header (the envelope) -> body (the family's object) -> classification -> event.

A record (framed by `JSON_FRAMING`) is one body as a webhook receiver saved it: one JSON document per
line, a pretty-printed document, or an array of them. The envelope's `event` (`header.py`) picks the
family, whose reader (`body.py`) and assembler (`event.py`) are chosen here; a call-log event becomes
one event per `call_logs[]` row. A body with the envelope but an event this parser does not know
becomes a `diagnostic` event with the name in `event.code`; a document without the envelope is an error.
"""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import ParseContext, ParsedEvent, RawRecord, json_documents

from .body import (
    CALL_LOG_EVENTS,
    read_body,
    read_call_logs,
    read_chat,
    read_conference,
    read_phone,
    read_recording,
    read_user_account,
)
from .classify import classify, classify_call_log
from .event import (
    assemble,
    assemble_call_log,
    assemble_chat,
    assemble_conference,
    assemble_phone,
    assemble_recording,
    assemble_user_account,
)
from .header import read_header


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One framed JSON record -> the events of every webhook body it holds."""
    events: list[ParsedEvent] = []
    for doc in json_documents(record.text):
        events.extend(_body(doc, ctx))
    return events


def _body(doc: dict[str, Any], ctx: ParseContext) -> list[ParsedEvent]:
    header = read_header(doc, ctx.reference_time)
    family = header.family
    if family in ("meeting", "webinar"):
        conference = read_conference(header)
        return [assemble_conference(header, conference, classify(conference))]
    if family in ("user", "account"):
        account = read_user_account(header)
        return [assemble_user_account(header, account, classify(account))]
    if family == "phone":
        if header.verb in CALL_LOG_EVENTS:
            rows = read_call_logs(header)
            if rows:
                return [assemble_call_log(header, row, classify_call_log(row)) for row in rows]
        phone = read_phone(header)
        return [assemble_phone(header, phone, classify(phone))]
    if family == "recording":
        recording = read_recording(header)
        return [assemble_recording(header, recording, classify(recording))]
    if family == "chat_message":
        chat = read_chat(header)
        return [assemble_chat(header, chat, classify(chat))]
    other = read_body(header)  # endpoint.url_validation and every event without a mapping
    return [assemble(header, other, classify(other))]
