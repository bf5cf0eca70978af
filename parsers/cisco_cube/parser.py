"""Cisco CUBE / IOS and IOS-XE voice gateways (CME, SRST): one line -> one event.

header -> body -> classification -> event: `header.py` cuts the IOS framing (PRI, receiver prefix,
counters, origin-id, time stamp); `body.py` reads the system message `%FACILITY-SEVERITY-MNEMONIC: text`
(the families in `admin.py`, `voice.py` and `cdr.py` field by field, any other is `diagnostic`) or the
debug / VoIP trace / event trace output after an IOS time stamp (`diagnostic`).
"""

from __future__ import annotations

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord

from .body import read_body
from .classify import classify
from .event import assemble
from .header import read_header

__all__ = ["parse"]


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    try:
        header = read_header(record.text, ctx.timezone, ctx.reference_time)
        body = read_body(header, ctx.timezone)
        return [assemble(header, body, classify(body))]
    except OverflowError:  # date arithmetic next to year 1 or 9999
        raise ParseError("bad_timestamp", "time stamp out of the representable range") from None
