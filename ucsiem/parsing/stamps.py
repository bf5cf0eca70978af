"""Time stamps as UC logs write them: year-less syslog dates, ISO 8601, offsets, fractions.

One implementation of the rules every syslog-based parser needs, so they agree: a year-less stamp
(`Mar  5 10:15:02`) takes the latest year that does not put it later than the time the record was read
plus a little clock skew (so `Dec 31 23:59:59` read on 1 January is last year's); impossible dates
(`Feb 30`, `25:00`) are `bad_timestamp` parse errors, never exceptions; naive times take the zone the
parser was configured with. Pure functions, no wall clock.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache

from ucsiem.errors import ParseError

MONTHS: dict[str, int] = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
YEAR_SLACK = timedelta(days=1)
"""Clock skew tolerated before a year-less stamp counts as last year's."""

# `2024-03-05T10:15:02.123456+01:00`, space instead of T, comma before the fraction, `Z`, `+0100`.
ISO_STAMP = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(Z|[+-]\d\d:?\d\d)?")
# `Mar  5 10:15:02(.123)`: RFC 3164; journald may print the month in any case.
BSD_STAMP = re.compile(r"([A-Za-z]{3}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?")


def month_number(name: str) -> int | None:
    """`Mar`, `MAR`, `mar` -> 3; None for anything else."""
    return MONTHS.get(name.lower())


def fraction_micro(fraction: str | None) -> int:
    """Digits after the decimal point -> microseconds (`5` -> 500000, `123456789` -> 123456)."""
    return int((fraction + "000000")[:6]) if fraction else 0


def utc_offset(text: str | None) -> tzinfo | None:
    """`Z`, `+01:00`, `-0530` -> a fixed zone; None when absent; out-of-range offsets are parse errors."""
    return _offset_zone(text) if text else None


@lru_cache(maxsize=256)
def _offset_zone(text: str) -> tzinfo:
    """`utc_offset` of a text, remembered: a source writes the same few offsets on every line, and building a
    zone cost more than reading the rest of an ISO time. Errors are raised each time (not remembered)."""
    if text in ("Z", "z"):
        return UTC
    digits = text[1:].replace(":", "")
    if len(digits) != 4 or not digits.isdecimal() or text[0] not in "+-":
        raise ParseError("bad_timestamp", f"not a UTC offset: {text[:8]!r}")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise ParseError("bad_timestamp", f"UTC offset out of range: {text[:8]!r}")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


def build_time(year: int, month: int, day: int, hour: int, minute: int, second: int, micro: int,
               tz: tzinfo, what: str = "time stamp") -> datetime:
    """An aware datetime, or a `bad_timestamp` ParseError naming `what` for an impossible one."""
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except (ValueError, OverflowError):
        raise ParseError("bad_timestamp", f"{what} is not a valid date and time") from None


def with_year(month: int, day: int, hour: int, minute: int, second: int, micro: int, tz: tzinfo,
              reference: datetime, *, slack: timedelta = YEAR_SLACK, what: str = "time stamp") -> datetime:
    """A year-less stamp in the latest year that keeps it no later than `reference + slack`."""
    try:
        base = reference.astimezone(tz).year
    except OverflowError:  # a reference in year 1 or 9999 seen from a zone beyond the calendar's edge
        base = reference.year
    try:
        limit = reference + slack
    except OverflowError:  # a reference at the end of year 9999 (a hostile receiver stamp can make one)
        limit = datetime.max.replace(tzinfo=UTC)
    for year in (base + 1, base, base - 1):
        try:
            candidate = datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
        except (ValueError, OverflowError):  # 29 Feb outside a leap year, 31 Apr, 25:00...
            continue
        if candidate <= limit:
            return candidate
    raise ParseError("bad_timestamp", f"{what} is not a valid date: month {month} day {day} {hour:02}:{minute:02}")


def iso_time(match: re.Match[str], tz: tzinfo, what: str = "time stamp") -> datetime:
    """A datetime from an `ISO_STAMP` match; without an offset the time is in `tz`."""
    y, mo, d, h, mi, s, frac, off = match.groups()
    return build_time(int(y), int(mo), int(d), int(h), int(mi), int(s), fraction_micro(frac),
                      utc_offset(off) or tz, what)


def bsd_time(match: re.Match[str], tz: tzinfo, reference: datetime, *, slack: timedelta = YEAR_SLACK,
             what: str = "time stamp") -> datetime:
    """A datetime from a `BSD_STAMP` match, its year inferred from `reference`."""
    mon, d, h, mi, s, frac = match.groups()
    month = month_number(mon)
    if month is None:
        raise ParseError("bad_timestamp", f"{what}: unknown month {mon!r}")
    return with_year(month, int(d), int(h), int(mi), int(s), fraction_micro(frac), tz, reference,
                     slack=slack, what=what)
