"""Ribbon (Sonus) SBC accounting records: `parse`, the steps and the choice of record type.

`header.py` splits the record (type, CSV fields); a START, STOP or ATTEMPT record is read by Ribbon's
field numbers for its type (`body.py`, `values.py`); a documented type whose positions are not mapped
becomes a diagnostic event.
"""

from __future__ import annotations

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord

from .body import read_body
from .classify import classify, classify_unmapped
from .event import assemble, assemble_unmapped
from .header import read_header


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One accounting record -> one event; raises ParseError on anything else."""
    header = read_header(record.text, ctx)
    if header.values is None:
        return [assemble_unmapped(header, classify_unmapped(header))]
    try:
        body = read_body(header, ctx)
        return [assemble(header, body, classify(body))]
    except OverflowError:  # date arithmetic next to year 1 or 9999
        raise ParseError("bad_timestamp", "time out of the representable range") from None
