"""IIS W3C extended logs (`u_exYYMMDD.log`): entry points `parse` and `header_key`.

    #Software: Microsoft Internet Information Services 10.0
    #Version: 1.0
    #Date: 2024-03-05 10:00:00
    #Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) ...
    2024-03-05 10:00:01 192.0.2.10 POST /WebTicket/WebTicketService.svc - 443 - 203.0.113.5 Mozilla/5.0+... 401 1 1326 1

Directive lines return no event; the pipeline keeps the last `#Fields:` line of the file and hands it to
later rows (`ParseContext.headers["Fields"]`), so a header change in the middle of a file is followed.
"""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord, prune

from .classify import classify
from .fields import FIELDS_DIRECTIVE, header_columns, map_row, read_row, timestamp

HEADER_KEY = "Fields"
SHOWN = 96
_DIRECTIVES = ("#Software:", "#Version:", "#Date:", "#Start-Date:", "#End-Date:", "#Remark:")


def header_key(raw: bytes) -> str | None:
    """`Fields` for a `#Fields:` directive (it names the columns of later rows), None otherwise."""
    if raw.startswith(b"#Fields:") or raw.startswith(b"\xef\xbb\xbf#Fields:"):
        return HEADER_KEY
    return None


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """A directive line -> []; a data row -> one event read by the last `#Fields:` header."""
    line = record.text.lstrip("\ufeff").rstrip("\r\n")
    if line.startswith("#"):
        if line.startswith(FIELDS_DIRECTIVE):
            if not header_columns(line):
                raise ParseError("bad_field", f"#Fields: header without columns (or more than 64): {line[:SHOWN]!r}")
            return []
        if line.startswith(_DIRECTIVES):
            return []
        raise ParseError("no_match", f"unknown W3C directive: {line[:SHOWN]!r}")
    if not line.strip():
        raise ParseError("no_match", "empty record")
    header = ctx.headers.get(HEADER_KEY)
    columns = header_columns(header) if header else ()
    if not columns:
        raise ParseError("no_match", "no #Fields: header seen before this line in the file: W3C rows are read by "
                         f"the column names of that header: {line[:SHOWN]!r}")
    row = read_row(line, columns)
    event: ParsedEvent = {"event": {"kind": "event"}, "network": {"protocol": "http"}}
    vendor: dict[str, Any] = {}
    tags: list[str] = []
    event["@timestamp"] = timestamp(row)
    map_row(row, event, vendor, tags)
    classify(event, vendor, tags)
    http = event.get("http", {})
    method = http.get("request", {}).get("method") or "-"
    status = http.get("response", {}).get("status_code")
    event["message"] = f"{method} {event.get('url', {}).get('original', '-')} {'-' if status is None else status}"
    if vendor:
        event.setdefault("uc", {})["vendor"] = vendor
    if tags:
        event["tags"] = tags
    return [prune(event)]
