"""Cisco Expressway / VCS: event log, admin audit, alarms, network/developer log and SIP message logging.

One record is one line, or a `network.sip` DEBUG line followed by `SIPMSG:` and the SIP message
(framed as one multi-line record), or a line followed by more text (a stack trace). The steps: the syslog
header (`header.py`), the `Name="value"` body (`body.py`, scanned by `kv.py`), the SIP message
(`sipmsg.py`), the classification (`classify.py`) and the event (`event.py`; README.md has the table).
"""

from __future__ import annotations

from ucsiem.parsing import ParseContext, ParsedEvent, RawRecord

from .body import continuation_text, read_body
from .classify import classify
from .event import assemble
from .header import read_header
from .sipmsg import SipMessage, read_sipmsg


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    text = record.text
    nl = text.find("\n")
    sipmsg: SipMessage | None = None
    more = ""
    if nl < 0:
        header = read_header(text)
    else:
        header = read_header(text[:nl])
        lines = text[nl + 1:].split("\n")
        if lines[0].strip() == "SIPMSG:":
            sipmsg = read_sipmsg(lines[1:])
        else:
            more = continuation_text(lines)
    body = read_body(header, ctx, sipmsg, more)
    return [assemble(header, body, classify(body))]
