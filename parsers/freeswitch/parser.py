"""FreeSWITCH logs: one record (a line, plus the lines that continue it) -> one event.

header (receiver prefix, line header, time) -> the message read into a `Body` -> its Kind -> the event.
Only the first line is classified, except for the multi-line `Register:` block; the rest stays in
`message`.
"""

from __future__ import annotations

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord

from .body import read_body
from .classify import classify
from .event import assemble
from .header import read_header


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    try:
        header = read_header(record.text, ctx)
        body = read_body(header.text, header.more, header.logger)
        return [assemble(header, body, classify(body))]
    except OverflowError:  # date arithmetic next to year 1 or 9999
        raise ParseError("bad_timestamp", "time stamp out of the representable range") from None
