"""AudioCodes Mediant SBC syslog: `parse` and `header_key`, the steps and the choice of record format.

A record is one syslog line as a receiver stored it: a receiver prefix and the device's `[S=n]` sequence
marker (`header.py`), then a CDR row (`body.read_cdr`, `cdr.py`), the older event-abbreviation form
(`body.read_legacy`) or a free-text message (`body.read_text`).
"""

from __future__ import annotations

import re

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord

from . import cdr
from .body import LEGACY_START, read_cdr, read_legacy, read_text
from .classify import classify, classify_cdr, classify_legacy
from .event import assemble, assemble_cdr, assemble_legacy
from .header import read_header, read_prefix

# A CDR row after the marker: `|CALL_END |...`, or `MEDIA_END |...` without the leading bar.
_REPORT_TOKEN = re.compile(r"\|?\s*([A-Za-z_]{1,32})\s*\|")


def header_key(raw: bytes) -> str | None:
    """Key of a CDR header row (its report family), None for any other record. Sees every record: `find`, as
    `bytes in bytes` first tries the needle as an int and raises (and clears) a TypeError on every call."""
    if raw.find(b"ReportType") < 0:
        return None
    return cdr.header_family(raw[: cdr.HEADER_SCAN * 2].decode("utf-8", "replace"))


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One syslog line -> [] (CDR header row) or one event; raises ParseError on anything else."""
    try:
        return _parse(record.text, ctx)
    except OverflowError:  # date arithmetic next to year 1 or 9999
        raise ParseError("bad_timestamp", "time stamp out of the representable range") from None


def _parse(text: str, ctx: ParseContext) -> list[ParsedEvent]:
    if not text.strip():
        raise ParseError("no_match", "empty record")
    prefix = read_prefix(text)
    token = _REPORT_TOKEN.match(text, prefix.body_at, prefix.body_at + 40)
    if token is not None and (token.group(1) in cdr.REPORT_TYPES or token.group(1).endswith("ReportType")):
        if token.group(1).endswith("ReportType"):
            if header_key(text[: cdr.HEADER_SCAN * 2].encode()) is None:
                raise ParseError("unsupported_variant", f"CDR header row without id columns: {token.group(1)!r}")
            return []  # the pipeline hands it to later rows through ctx.headers
        header = read_header(text, prefix, ctx, device_clock=False)
        row = read_cdr(text[prefix.body_at:], ctx)
        return [assemble_cdr(header, row, classify_cdr(row))]
    if prefix.seq is None:
        if LEGACY_START.match(text, prefix.body_at) is None:
            raise ParseError("no_match", "neither an AudioCodes [S=n] syslog message nor a CDR row")
        header = read_header(text, prefix, ctx, device_clock=False)
        legacy = read_legacy(text, prefix.body_at)
        return [assemble_legacy(header, legacy, classify_legacy(legacy))]
    header = read_header(text, prefix, ctx, device_clock=True)
    body = read_text(text, prefix.seq_end, header.text_end)
    return [assemble(header, body, classify(body))]
