"""Jitsi Meet logs: one Jicofo/JVB record (with its continuation lines) or one Prosody line -> one event.

header (the Java components' or Prosody's line header, a syslog receiver's prefix) -> the message read
into a `Body` (Jicofo/JVB or Prosody messages) -> its Kind -> the event.
"""

from __future__ import annotations

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord

from .body import read_jicofo, read_prosody
from .classify import classify
from .event import assemble
from .header import JICOFO, read_header


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    try:
        header = read_header(record.text, ctx)
    except OverflowError:  # date arithmetic next to year 1 or 9999
        raise ParseError("bad_timestamp", "time stamp out of the representable range") from None
    if header.format == JICOFO:
        body = read_jicofo(header.text, header.level)
    else:
        body = read_prosody(header.text, header.level, header.host)
    return [assemble(header, body, classify(body))]
