"""AudioCodes Mediant SBC syslog: entry points (`parse`, `header_key`) and the shared event frame.

A record is one syslog line as a receiver stored it: a receiver prefix (see `prefix.py`), the device's
`[S=n]` sequence marker, then either a CDR row (`cdr.py`) or a free-text message (`freetext.py`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord

from . import cdr, freetext, legacy
from .prefix import Prefix, StampParts, device_time, read_prefix, receiver_datetime, with_year

# A CDR row after the marker: `|CALL_END |...`, or `MEDIA_END |...` without the leading bar.
_REPORT_TOKEN = re.compile(r"\|?\s*([A-Za-z_]{1,32})\s*\|")
_BLANKS = re.compile(r"[ \t]*")


def header_key(raw: bytes) -> str | None:
    """Key of a CDR header row (its report family), None for any other record. Sees every record."""
    if b"ReportType" not in raw:
        return None
    return cdr.header_family(raw[: cdr.HEADER_SCAN * 2].decode("utf-8", "replace"))


def _syslog(prefix: Prefix) -> dict[str, Any]:
    syslog: dict[str, Any] = {}
    if prefix.facility is not None:
        syslog["facility"] = {"name": prefix.facility[0], "code": prefix.facility[1]}
    if prefix.severity is not None:
        syslog["severity"] = {"name": prefix.severity[0], "code": prefix.severity[1]}
    if prefix.pri is not None:
        syslog["priority"] = prefix.pri
    elif prefix.facility is not None and prefix.severity is not None:
        syslog["priority"] = prefix.facility[1] * 8 + prefix.severity[1]
    if prefix.hostname is not None:
        syslog["hostname"] = prefix.hostname
    return syslog


def _frame(prefix: Prefix) -> ParsedEvent:
    """The fields every event of this parser has, from the receiver prefix."""
    log: dict[str, Any] = {}
    syslog = _syslog(prefix)
    if syslog:
        log["syslog"] = syslog
    if prefix.severity is not None:
        log["level"] = prefix.severity[0]
    event: ParsedEvent = {"event": {"kind": "event"}, "log": log}
    observer: dict[str, Any] = {}
    if prefix.observer_ip is not None:
        observer["ip"] = [prefix.observer_ip]
    if prefix.hostname is not None:
        observer["hostname"] = prefix.hostname
    if observer:
        event["observer"] = observer
    return event


def _times(prefix: Prefix, device: StampParts | None, ctx: ParseContext) -> tuple[datetime | None, datetime | None]:
    """(receiver time, device time), completed with the year/date they lack.

    The device time has no year: it takes the one that does not put it after the receiver's dated
    stamp (or, when the receiver wrote no date, after `ctx.reference_time`), with one day of slack.
    A receiver time without a date takes the device time's date, else the reference time's.
    """
    tz = ctx.timezone
    received: datetime | None = None
    anchor = ctx.reference_time
    parts = prefix.time
    if parts is not None and parts.month is not None:
        received = receiver_datetime(parts, tz, ctx.reference_time, None)
        anchor = received
    seen = with_year(device, anchor, tz, "device time [Time:DD-MM@...]") if device is not None else None
    if parts is not None and received is None:
        received = receiver_datetime(parts, tz, ctx.reference_time, seen)
    return received, seen


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One syslog line -> [] (CDR header row) or one event; raises ParseError on anything else."""
    try:
        return _parse(record.text, ctx)
    except OverflowError:  # date arithmetic next to year 1 or 9999
        raise ParseError("bad_timestamp", "time stamp out of the representable range") from None


def _parse(text: str, ctx: ParseContext) -> list[ParsedEvent]:
    if not text.strip():
        raise ParseError("no_match", "empty record")
    prefix, seq = read_prefix(text)
    start = seq.end() if seq is not None else prefix.end
    blanks = _BLANKS.match(text, start)
    body_at = blanks.end() if blanks is not None else start
    token = _REPORT_TOKEN.match(text, body_at, body_at + 40)
    if token is not None and (token.group(1) in cdr.REPORT_TYPES or token.group(1).endswith("ReportType")):
        return _parse_cdr(text, body_at, token.group(1), prefix, seq, ctx)
    if seq is None:
        if legacy.START.match(text, body_at) is not None:
            return [_parse_legacy(text, body_at, prefix, ctx)]
        raise ParseError("no_match", "neither an AudioCodes [S=n] syslog message nor a CDR row")
    return [_parse_free_text(text, seq, prefix, ctx)]


def _parse_legacy(text: str, body_at: int, prefix: Prefix, ctx: ParseContext) -> ParsedEvent:
    """The older `PL:5 [Code:3a002] [CID:3294] [Time: 20:17:00]` form: the receiver's time stamp."""
    received, _ = _times(prefix, None, ctx)
    event = _frame(prefix)
    tags: list[str] = []
    if received is not None:
        event["event"]["created"] = received
        event["@timestamp"] = received
    else:
        event["@timestamp"] = ctx.reference_time
        tags.append("timestamp_from_reference")
    legacy.parse_body(text, body_at, event)
    if tags:
        event["tags"] = tags
    return event


def _parse_cdr(text: str, body_at: int, report: str, prefix: Prefix, seq: re.Match[str] | None,
               ctx: ParseContext) -> list[ParsedEvent]:
    if report.endswith("ReportType"):
        if header_key(text[: cdr.HEADER_SCAN * 2].encode()) is None:
            raise ParseError("unsupported_variant", f"CDR header row without id columns: {report!r}")
        return []  # the pipeline hands it to later rows through ctx.headers
    received, _ = _times(prefix, None, ctx)
    event = _frame(prefix)
    tags: list[str] = []
    if received is not None:
        event["event"]["created"] = received
    cdr.parse_row(text[body_at:], ctx, event, received, tags)
    if seq is not None:
        event.setdefault("uc", {}).setdefault("vendor", {})["seq"] = int(seq.group(1))
    if tags:
        event["tags"] = tags
    return [event]


def _parse_free_text(text: str, seq: re.Match[str], prefix: Prefix, ctx: ParseContext) -> ParsedEvent:
    device, end = device_time(text)
    received, seen = _times(prefix, device, ctx)
    event = _frame(prefix)
    tags: list[str] = []
    event["uc"] = {"vendor": {"seq": int(seq.group(1))}}
    if received is not None:
        event["event"]["created"] = received
    timestamp = seen or received
    if timestamp is None:
        timestamp = ctx.reference_time
        tags.append("timestamp_from_reference")
    event["@timestamp"] = timestamp
    freetext.parse_text(text, seq.end(), end, event, tags)
    if tags:
        event["tags"] = tags
    return event
