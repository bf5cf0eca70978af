"""Microsoft Graph call records: entry point `parse`, pages and the kind of each document.

A record (framed by `JSON_FRAMING`) is one JSON document as an export script or a webhook receiver
saved it: a callRecord (one line, or pretty-printed), an array of them, or a Graph page
`{"@odata.context": ..., "value": [...], "@odata.nextLink": ...}` of callRecords, of sessions
(`/callRecords/{id}/sessions`), of directRoutingLogRows or of pstnCallLogRows. The page's
`@odata.context` names what its rows are, so it is read here rather than dropped.
"""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord, json_documents, jsonvalues

from .callrecord import record_events, sessions_page_events
from .rows import direct_routing_event, pstn_event

SHOWN = 80
# Fields only one kind of document has (Graph resource properties), for rows saved without a page.
_DR_FIELDS = ("trunkFullyQualifiedDomainName", "successfulCall", "finalSipCode", "mediaBypassEnabled")
_PSTN_FIELDS = ("callDurationSource", "licenseCapability", "inventoryType", "connectionCharge")
_RECORD_FIELDS = ("sessions", "organizer_v2", "organizer", "participants_v2", "participants", "modalities")


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One framed JSON record -> the events of every document it holds."""
    events: list[ParsedEvent] = []
    for doc in json_documents(record.text):
        context = jsonvalues.text(doc, "@odata.context") or ""
        page = doc.get("value")
        if isinstance(page, list):
            for index, item in enumerate(page):
                if not isinstance(item, dict):
                    raise ParseError("bad_field", f"page item {index} is a {type(item).__name__}, not an object")
            events.extend(_page(page, context, ctx))
        elif "/sessions" in context:  # one session (`/callRecords/{id}/sessions/{id}`)
            events.extend(_page([doc], context, ctx))
        else:
            events.extend(_document(doc, context))
    return events


def _page(items: list[dict[str, Any]], context: str, ctx: ParseContext) -> list[ParsedEvent]:
    if "/sessions" in context:
        call_id = _call_id_of(context)
        if call_id is None:
            raise ParseError("unsupported_variant",
                             f"sessions page without a callRecords('<id>') context: {context[:SHOWN]!r}")
        return sessions_page_events(items, call_id, ctx.reference_time)
    return [event for item in items for event in _document(item, context)]


def _call_id_of(context: str) -> str | None:
    """`...#communications/callRecords('e523...')/sessions` -> e523..."""
    head = context.find("callRecords('")
    if head < 0:
        return None
    start = head + len("callRecords('")
    stop = context.find("')", start)
    if stop <= start or stop - start > 128:
        return None
    return context[start:stop]


def _document(doc: dict[str, Any], context: str) -> list[ParsedEvent]:
    kind = (jsonvalues.text(doc, "@odata.type") or "") + " " + context
    if "directRoutingLogRow" in kind or any(k in doc for k in _DR_FIELDS):
        return [direct_routing_event(doc)]
    if "pstnCallLogRow" in kind or any(k in doc for k in _PSTN_FIELDS):
        return [pstn_event(doc)]
    if "callRecord" in kind or any(k in doc for k in _RECORD_FIELDS):
        return record_events(doc)
    keys = ", ".join(list(doc)[:6])
    raise ParseError("unsupported_variant",
                     f"not a callRecord, directRoutingLogRow or pstnCallLogRow (keys: {keys[:SHOWN]})")
