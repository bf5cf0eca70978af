"""Oracle (Acme Packet) SBC: `parse` tells the record forms apart and runs the steps of each.

    <syslog header> <text>                   header.py, then the documented messages (body.read_syslog)
    2,"192.0.2.10",5060,"id@host",...         local CDR CSV row, first field Acct-Status-Type 1/2/3
    Acct-Status-Type="2",NAS-IP-Address=...   RADIUS attribute="value" record (self-describing)
"""

from __future__ import annotations

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord

from .body import read_cdr, read_syslog
from .cdr import is_csv_row, read_csv, read_named
from .classify import classify, classify_cdr
from .event import assemble, assemble_cdr
from .header import read_header


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One record -> one event; raises ParseError on anything that is not one of the three forms."""
    text = record.text.strip()
    if not text:
        raise ParseError("no_match", "empty record")
    try:
        if is_csv_row(text):
            cdr = read_cdr(read_csv(text), ctx, named=False)
            return [assemble_cdr(cdr, classify_cdr(cdr))]
        if text.startswith("Acct-Status-Type=") or 'Acct-Status-Type="' in text[:256]:
            cdr = read_cdr(read_named(text), ctx, named=True)
            return [assemble_cdr(cdr, classify_cdr(cdr))]
        header = read_header(text, ctx)
        if header is None:
            raise ParseError("no_match", "neither an Acme Packet syslog line nor a CDR record")
        body = read_syslog(header)
        return [assemble(header, body, classify(body))]
    except OverflowError:  # date arithmetic next to year 1 or 9999
        raise ParseError("bad_timestamp", "time out of the representable range") from None
