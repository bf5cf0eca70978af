"""Oracle (Acme Packet) SBC: entry point `parse`, which tells the record forms apart.

    <syslog header> <text>                   see syslog.py (three documented header shapes)
    2,"192.0.2.10",5060,"id@host",...         local CDR CSV row, first field Acct-Status-Type 1/2/3
    Acct-Status-Type="2",NAS-IP-Address=...   RADIUS attribute="value" record (self-describing)
"""

from __future__ import annotations

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord

from .cdr import is_csv_row, map_cdr, read_csv, read_named
from .syslog import parse_syslog, read_header


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One record -> one event; raises ParseError on anything that is not one of the three forms."""
    text = record.text.strip()
    if not text:
        raise ParseError("no_match", "empty record")
    try:
        if is_csv_row(text):
            return [map_cdr(read_csv(text), ctx, named=False)]
        if text.startswith("Acct-Status-Type=") or 'Acct-Status-Type="' in text[:256]:
            return [map_cdr(read_named(text), ctx, named=True)]
        header = read_header(text)
        if header is None:
            raise ParseError("no_match", "neither an Acme Packet syslog line nor a CDR record")
        return [parse_syslog(header, ctx)]
    except OverflowError:  # date arithmetic next to year 1 or 9999
        raise ParseError("bad_timestamp", "time out of the representable range") from None
