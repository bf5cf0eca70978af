"""Microsoft Graph call records: header (page envelope) -> body -> classification -> event.

A record (framed by `JSON_FRAMING`) is one JSON document as an export script or a webhook receiver
saved it: a callRecord (one line, or pretty-printed), an array of them, or a Graph page
`{"@odata.context": ..., "value": [...], "@odata.nextLink": ...}` of callRecords, of sessions
(`/callRecords/{id}/sessions`), of directRoutingLogRows or of pstnCallLogRows. The page's
`@odata.context` (`header.py`) names what its rows are; the kind of each document is chosen here.
"""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord, json_documents, jsonvalues

from .body import read_direct_routing, read_pstn, read_record, read_sessions
from .classify import classify, classify_direct_routing, classify_leg, classify_pstn
from .event import assemble, assemble_direct_routing, assemble_leg, assemble_pstn
from .header import Header, read_header

SHOWN = 80
# Fields only one kind of document has (Graph resource properties), for rows saved without a page.
_DR_FIELDS = ("trunkFullyQualifiedDomainName", "successfulCall", "finalSipCode", "mediaBypassEnabled")
_PSTN_FIELDS = ("callDurationSource", "licenseCapability", "inventoryType", "connectionCharge")
_RECORD_FIELDS = ("sessions", "organizer_v2", "organizer", "participants_v2", "participants", "modalities")


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One framed JSON record -> the events of every document it holds."""
    events: list[ParsedEvent] = []
    for doc in json_documents(record.text):
        header = read_header(doc, ctx.reference_time)
        if header.sessions_of is not None:
            legs = read_sessions(header, header.sessions_of)
            events.extend(assemble_leg(header, leg, classify_leg(leg)) for leg in legs)
        else:
            for item in header.documents:
                events.extend(_document(header, item))
    return events


def _document(header: Header, doc: dict[str, Any]) -> list[ParsedEvent]:
    kind = (jsonvalues.text(doc, "@odata.type") or "") + " " + header.context
    if "directRoutingLogRow" in kind or any(k in doc for k in _DR_FIELDS):
        row = read_direct_routing(doc)
        return [assemble_direct_routing(header, row, classify_direct_routing(row))]
    if "pstnCallLogRow" in kind or any(k in doc for k in _PSTN_FIELDS):
        row = read_pstn(doc)
        return [assemble_pstn(header, row, classify_pstn(row))]
    if "callRecord" in kind or any(k in doc for k in _RECORD_FIELDS):
        call = read_record(doc)
        legs = [assemble_leg(header, leg, classify_leg(leg)) for leg in call.legs]
        return [assemble(header, call, classify(call)), *legs]
    keys = ", ".join(list(doc)[:6])
    raise ParseError("unsupported_variant",
                     f"not a callRecord, directRoutingLogRow or pstnCallLogRow (keys: {keys[:SHOWN]})")
