"""Time stamps of Asterisk logs: the logger's `[dateformat]`, a syslog receiver's stamp, `EventTV`.

Asterisk writes local time without a zone (`logger.conf` `dateformat`, default `%b %e %T`, commonly
set to `%F %T` or `%F %T.%3q`): naive stamps take `ParseContext.timezone`, year-less ones the year
that does not put them more than a day after `ParseContext.reference_time`. All patterns are
anchored and bounded (linear on any input).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from ucsiem.errors import ParseError

MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
YEAR_SLACK = timedelta(days=1)  # clock skew tolerated before a year-less stamp counts as last year's

ISO = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(Z|[+-]\d\d:?\d\d)?")
BSD = re.compile(r"([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?")
EPOCH_USEC = re.compile(r"(\d{1,12})-(\d{1,6})")


def _micro(frac: str | None) -> int:
    return int((frac + "000000")[:6]) if frac else 0


def _offset(text: str | None) -> tzinfo | None:
    if not text:
        return None
    if text == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4])
    if hours > 23 or minutes > 59:
        raise ParseError("bad_timestamp", f"UTC offset out of range: {text[:8]!r}")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


def _build(year: int, month: int, day: int, hms: tuple[int, int, int], micro: int, tz: tzinfo,
           what: str) -> datetime:
    try:
        return datetime(year, month, day, hms[0], hms[1], hms[2], micro, tzinfo=tz)
    except ValueError:
        raise ParseError("bad_timestamp", f"{what} is not a valid date and time") from None


def with_year(month: int, day: int, hms: tuple[int, int, int], micro: int, tz: tzinfo,
              reference: datetime, what: str) -> datetime:
    """A month/day stamp: the latest year that keeps it no later than reference + one day."""
    base = reference.astimezone(tz).year
    limit = reference + YEAR_SLACK
    found: datetime | None = None
    for year in (base + 1, base, base - 1):
        try:
            candidate = datetime(year, month, day, hms[0], hms[1], hms[2], micro, tzinfo=tz)
        except ValueError:  # 29 Feb outside a leap year, 31 Apr...
            continue
        if candidate <= limit:
            found = candidate
            break
    if found is None:
        raise ParseError("bad_timestamp", f"{what} is not a valid date: month {month} day {day}")
    return found


def parse_stamp(text: str, tz: tzinfo, reference: datetime, what: str) -> datetime:
    """`2024-03-05 10:15:02(.123)`, ISO 8601 with `T`/offset, or `Mar  5 10:15:02(.123)` (year-less)."""
    m = ISO.fullmatch(text)
    if m is not None:
        y, mo, d, h, mi, s, frac, off = m.groups()
        return _build(int(y), int(mo), int(d), (int(h), int(mi), int(s)), _micro(frac), _offset(off) or tz, what)
    m = BSD.fullmatch(text)
    if m is not None:
        mon, d, h, mi, s, frac = m.groups()
        month = MONTHS.get(mon)
        if month is None:
            raise ParseError("bad_timestamp", f"{what} has an unknown month: {text[:40]!r}")
        return with_year(month, int(d), (int(h), int(mi), int(s)), _micro(frac), tz, reference, what)
    raise ParseError("bad_timestamp", f"{what} is neither 'YYYY-MM-DD hh:mm:ss' nor 'Mon dd hh:mm:ss' "
                     f"(set dateformat=%F %T in logger.conf): {text[:40]!r}")


def event_tv(text: str) -> datetime | None:
    """`EventTV`: ISO 8601 with offset (Asterisk 12+) or `<epoch seconds>-<microseconds>` (older)."""
    m = EPOCH_USEC.fullmatch(text)
    if m is not None:
        try:
            return datetime.fromtimestamp(int(m.group(1)), UTC) + timedelta(microseconds=int(m.group(2)))
        except (OverflowError, OSError, ValueError):
            return None
    m = ISO.fullmatch(text)
    if m is None or m.group(8) is None:
        return None  # no zone: not trustworthy enough to replace the header time
    y, mo, d, h, mi, s, frac, off = m.groups()
    try:
        return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), _micro(frac), tzinfo=_offset(off))
    except (ValueError, ParseError):
        return None
