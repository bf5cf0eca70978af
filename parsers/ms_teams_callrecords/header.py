"""The envelope: a Graph page (`{"@odata.context": ..., "value": [...], "@odata.nextLink": ...}`) or a
bare document, and what the page's `@odata.context` says about its rows.

The context is read before the page is unwrapped: it names the rows
(`Collection(microsoft.graph.callRecords.directRoutingLogRow)`) and, for session pages, the call
(`callRecords('<id>')/sessions`), whose id the sessions do not carry themselves.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from ucsiem.parsing import ParseError, jsonvalues

SHOWN = 80


class Header(NamedTuple):
    context: str  # @odata.context ("" when there is none)
    documents: list[dict[str, Any]]  # the page's rows, or the document itself
    sessions_of: str | None  # the call id of a sessions page (or one session); None for other documents
    received: datetime  # when the record was read: the time of a session leg that has none


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


def read_header(doc: dict[str, Any], received: datetime) -> Header:
    context = jsonvalues.text(doc, "@odata.context") or ""
    page = doc.get("value")
    if isinstance(page, list):
        for index, item in enumerate(page):
            if not isinstance(item, dict):
                raise ParseError("bad_field", f"page item {index} is a {type(item).__name__}, not an object")
        documents: list[dict[str, Any]] = page
    elif "/sessions" in context:  # one session (`/callRecords/{id}/sessions/{id}`)
        documents = [doc]
    else:
        return Header(context, [doc], None, received)
    if "/sessions" not in context:
        return Header(context, documents, None, received)
    call_id = _call_id_of(context)
    if call_id is None:
        raise ParseError("unsupported_variant",
                         f"sessions page without a callRecords('<id>') context: {context[:SHOWN]!r}")
    return Header(context, documents, call_id, received)
