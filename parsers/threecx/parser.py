"""3CX Phone System: `parse`, header -> body -> classification -> event.

A record is a message body as 3CX shows it in its Server status log / Event Log, optionally preceded by
its `[CMnnnnnn]` message code (`header.py`); the documented message families are read in `body.py`.
"""

from __future__ import annotations

from ucsiem.parsing import ParseContext, ParsedEvent, RawRecord

from .body import read_body
from .classify import classify
from .event import assemble
from .header import read_header


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One 3CX message -> one event; anything that is not a documented 3CX message raises ParseError."""
    header = read_header(record.text, ctx)
    body = read_body(header)
    return [assemble(header, body, classify(body))]
