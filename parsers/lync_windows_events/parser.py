"""Lync / Skype for Business Server Windows events (the "Lync Server" event log) from a Windows collector.

A record is one JSON document (NDJSON line, or a pretty-printed document / array framed by
`JSON_FRAMING`); each object in it is one Windows event: the collector's envelope (`header.py`), the
Lync component and its message's values (`body.py`), classified by component and id (`classify.py`).
Events of other providers are kept as `diagnostic` events tagged `not_lync_provider` (a collector
subscribed to more than the Lync log should not lose them).
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord, json_documents

from .body import read_body
from .classify import classify
from .event import assemble
from .header import read_header

__all__ = ["parse"]


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    try:
        return [_one(doc, ctx.timezone) for doc in json_documents(record.text)]
    except OverflowError:  # a time next to year 1 or 9999 once moved to UTC
        raise ParseError("bad_timestamp", "time out of the representable range") from None


def _one(doc: dict[str, Any], zone: tzinfo) -> ParsedEvent:
    header = read_header(doc, zone)
    body = read_body(header)
    return assemble(header, body, classify(body))
