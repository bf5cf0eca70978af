"""Skype for Business / Lync Server SIPStack trace records (CLS, OCSLogger/TraceFmt, Snooper text export).

One record = the header line (`header.py`), then `Name: value` lines up to `$$end_record`
(`tracelines.py`). A protocol record (it has `Start-Line`/`Message-Type`) is one SIP message the Edge
received or sent; other records (`TF_DIAG`, `TF_COMPONENT`, `TF_CONNECTION`...) are diagnostics whose
`Result-Code` names the failure. `body.py` reads each, `classify.py` maps both to actions, `event.py`
writes the event; README.md has the tables.
"""

from __future__ import annotations

from ucsiem.parsing import ParseContext, ParsedEvent, RawRecord

from .body import Body, is_protocol, read_diagnostic, read_protocol
from .classify import classify
from .event import assemble
from .header import read_header
from .tracelines import read_trace_lines


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One SIPStack record -> one event. Time is UTC as written (ctx.timezone is not used)."""
    del ctx
    lines = record.text.split("\n")
    header = read_header(lines[0].rstrip("\r"))
    trace = read_trace_lines(lines[1:])
    body: Body = read_protocol(lines, trace) if is_protocol(trace) else read_diagnostic(header, lines, trace)
    return [assemble(header, body, classify(body))]
