"""Cisco Meeting Server: one line -> one event, header -> body -> classification -> event.

`header.py` reads the three shapes a line comes in (see there); `body.py` routes the message by the
process that wrote it (Call Bridge, web app back end, Web Bridge 3, MMP CLI, LDAP authentication,
streamer). Lines of a known shape that no reader recognises are `diagnostic`.
"""

from __future__ import annotations

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord

from .body import read_body
from .classify import classify
from .event import assemble
from .header import read_header


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One CMS line -> one event; ParseError for anything that is not a CMS line."""
    try:
        header = read_header(record.text, ctx.timezone, ctx.reference_time)
    except OverflowError:  # date arithmetic next to year 1 or 9999
        raise ParseError("bad_timestamp", "time stamp out of the representable range") from None
    body = read_body(header)
    return [assemble(header, body, classify(body))]
