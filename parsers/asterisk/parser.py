"""Asterisk logs: one record (a line, plus the lines that continue it) -> one event.

header (syslog prefix, logger header, source file) -> the message: a `SecurityEvent=` line
(`security.py`) or one of the free-text messages (`body.py`) -> its Kind (`classify.py`) -> the event
(`event.py`). Only the first line is classified; continuation lines are kept in `message`.
"""

from __future__ import annotations

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord

from .body import read_body
from .classify import classify, classify_security
from .event import assemble, assemble_security
from .header import read_header
from .security import read_security


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    try:
        header = read_header(record.text, ctx)
        if header.text.startswith("SecurityEvent="):
            security = read_security(header.text)
            return [assemble_security(header, security, classify_security(security))]
        body = read_body(header.text, header.dialplan)
        return [assemble(header, body, classify(body))]
    except OverflowError:  # date arithmetic next to year 1 or 9999
        raise ParseError("bad_timestamp", "time stamp out of the representable range") from None
