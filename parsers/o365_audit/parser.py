"""Office 365 unified audit log records (Management Activity API): header -> body -> classification -> event.

A record (framed by `JSON_FRAMING`) is what a collector saved: one audit record per line, the JSON
array a content blob of `/activity/feed/subscriptions/content` returns, or a pretty-printed record.
Every audit record shares the common schema (`header.py`: CreationTime, Id, Operation, OrganizationId,
RecordType, ResultStatus, UserKey, UserType, Version, Workload, ClientIP, ObjectId, UserId); Teams
(Workload `MicrosoftTeams`, RecordType 25), Azure AD sign-ins (RecordType 15) and Exchange add their own
fields (`body.py`).
"""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import ParseContext, ParsedEvent, RawRecord, json_documents

from .body import read_body
from .classify import classify
from .event import assemble
from .header import read_header


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One framed JSON record -> one event per audit record it holds."""
    return [_event(doc) for doc in json_documents(record.text)]


def _event(record: dict[str, Any]) -> ParsedEvent:
    header = read_header(record)
    body = read_body(header, record)
    return assemble(header, body, classify(body))
