"""Webex (Control Hub APIs and webhooks): entry point `parse` and the kind of each document.

A record (framed by `JSON_FRAMING`) is one JSON document as a poller or a webhook receiver saved it: one
item per line (NDJSON), a pretty-printed item, an array of items, or a whole API page
`{"items": [...]}` as `GET /v1/adminAudit/events` and `GET /v1/admin/securityAudit/events` return it.
Audit items (audit.py) and webhook deliveries (webhook.py) are told apart by their keys.
"""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord, json_documents, prune

from .audit import audit_event, is_audit
from .webhook import is_webhook, webhook_event

SHOWN = 80


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One framed JSON record -> the events of every audit item or webhook delivery it holds."""
    return [prune(_document(doc, ctx)) for doc in json_documents(record.text, envelopes=("items",))]


def _document(doc: dict[str, Any], ctx: ParseContext) -> ParsedEvent:
    if is_webhook(doc):
        return webhook_event(doc, ctx)
    if is_audit(doc):
        return audit_event(doc, ctx)
    keys = ", ".join(str(k) for k in list(doc)[:6])
    raise ParseError("unsupported_variant", "neither a Webex audit event (data.eventCategory) nor a webhook "
                     f"delivery (resource, event) (keys: {keys[:SHOWN]})")
