"""Webex (Control Hub APIs and webhooks): header (the envelope) -> body (`data`) -> classification -> event.

A record (framed by `JSON_FRAMING`) is one JSON document as a poller or a webhook receiver saved it: one
item per line (NDJSON), a pretty-printed item, an array of items, or a whole API page
`{"items": [...]}` as `GET /v1/adminAudit/events` and `GET /v1/admin/securityAudit/events` return it.
Audit items and webhook deliveries are told apart by their keys (`header.py`); a webhook's `resource`
picks the reader (`body.py`) and assembler (`event.py`) of its `data`. Anything else is an error.
"""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord, json_documents

from .body import (
    read_audit,
    read_call,
    read_meeting,
    read_membership,
    read_message,
    read_other,
    read_participant,
    read_recording,
    read_service_app,
)
from .classify import classify, classify_audit
from .event import (
    assemble,
    assemble_audit,
    assemble_call,
    assemble_meeting,
    assemble_membership,
    assemble_message,
    assemble_participant,
    assemble_recording,
    assemble_service_app,
)
from .header import WebhookHeader, is_audit, is_webhook, read_audit_header, read_webhook_header

SHOWN = 80
RECORDING_RESOURCES = frozenset(("recordings", "convergedRecordings", "meetingTranscripts"))


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One framed JSON record -> the events of every audit item or webhook delivery it holds."""
    return [_document(doc, ctx) for doc in json_documents(record.text, envelopes=("items",))]


def _document(doc: dict[str, Any], ctx: ParseContext) -> ParsedEvent:
    if is_webhook(doc):
        return _webhook(read_webhook_header(doc, ctx.reference_time))
    if is_audit(doc):
        header = read_audit_header(doc, ctx.timezone)
        audit = read_audit(header)
        return assemble_audit(header, audit, classify_audit(audit))
    keys = ", ".join(str(k) for k in list(doc)[:6])
    raise ParseError("unsupported_variant", "neither a Webex audit event (data.eventCategory) nor a webhook "
                     f"delivery (resource, event) (keys: {keys[:SHOWN]})")


def _webhook(header: WebhookHeader) -> ParsedEvent:
    resource = header.resource
    if resource == "meetings":
        meeting = read_meeting(header)
        return assemble_meeting(header, meeting, classify(meeting))
    if resource == "meetingParticipants":
        participant = read_participant(header)
        return assemble_participant(header, participant, classify(participant))
    if resource in RECORDING_RESOURCES:
        recording = read_recording(header)
        return assemble_recording(header, recording, classify(recording))
    if resource == "telephony_calls":
        call = read_call(header)
        return assemble_call(header, call, classify(call))
    if resource == "messages":
        message = read_message(header)
        return assemble_message(header, message, classify(message))
    if resource == "memberships":
        membership = read_membership(header)
        return assemble_membership(header, membership, classify(membership))
    if resource == "serviceApp":
        app = read_service_app(header)
        return assemble_service_app(header, app, classify(app))
    other = read_other(header)  # rooms, attachmentActions... and every resource without a mapping
    return assemble(header, other, classify(other))
