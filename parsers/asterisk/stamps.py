"""Time stamps of Asterisk logs: the logger's `[dateformat]`, a syslog receiver's stamp, `EventTV`.

Asterisk writes local time without a zone (`logger.conf` `dateformat`, default `%b %e %T`, commonly
set to `%F %T` or `%F %T.%3q`): naive stamps take `ParseContext.timezone`, year-less ones the year
that does not put them more than a day after `ParseContext.reference_time` (the rules of
`ucsiem.parsing.stamps`). All patterns are anchored and bounded (linear on any input).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from ucsiem.parsing import ISO_STAMP, ParseError, fraction_micro, iso_time, month_number, with_year

# Asterisk prints the month capitalised (`Mar`); unlike the shared BSD_STAMP, `MAR` is not a stamp here.
BSD = re.compile(r"([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?")
EPOCH_USEC = re.compile(r"(\d{1,12})-(\d{1,6})")


def parse_stamp(text: str, tz: tzinfo, reference: datetime, what: str) -> datetime:
    """`2024-03-05 10:15:02(.123)`, ISO 8601 with `T`/offset, or `Mar  5 10:15:02(.123)` (year-less)."""
    m = ISO_STAMP.fullmatch(text)
    if m is not None:
        return iso_time(m, tz, what)
    m = BSD.fullmatch(text)
    if m is not None:
        mon, d, h, mi, s, frac = m.groups()
        month = month_number(mon)
        if month is None:
            raise ParseError("bad_timestamp", f"{what} has an unknown month: {text[:40]!r}")
        return with_year(month, int(d), int(h), int(mi), int(s), fraction_micro(frac), tz, reference, what=what)
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
    m = ISO_STAMP.fullmatch(text)
    if m is None or m.group(8) is None:
        return None  # no zone: not trustworthy enough to replace the header time
    try:
        return iso_time(m, UTC)  # the stamp's own offset wins; UTC is never used
    except ParseError:
        return None
