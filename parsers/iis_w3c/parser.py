"""IIS W3C extended logs (`u_exYYMMDD.log`): a directive line gives no event, a data row one event.

    #Software: Microsoft Internet Information Services 10.0
    #Version: 1.0
    #Date: 2024-03-05 10:00:00
    #Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) ...
    2024-03-05 10:00:01 192.0.2.10 POST /WebTicket/WebTicketService.svc - 443 - 203.0.113.5 Mozilla/5.0+... 401 1 1326 1

Steps: the columns (`header.py`), the row read by them (`body.py`), the security meaning of the request
(`classify.py`), the event (`event.py`).
"""

from __future__ import annotations

from ucsiem.parsing import ParseContext, ParsedEvent, RawRecord

from .body import read_body
from .classify import classify
from .event import assemble
from .header import check_directive, read_header


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """A directive line -> []; a data row -> one event read by the last `#Fields:` header."""
    line = record.text.lstrip("\ufeff").rstrip("\r\n")
    if line.startswith("#"):
        check_directive(line)
        return []
    header = read_header(line, ctx)
    body = read_body(line, header)
    return [assemble(header, body, classify(body))]
