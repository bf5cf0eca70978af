"""Time stamps: the year-less syslog stamp and the h323 (Cisco VSA convention) CDR times.

Both are local device time without a year or with a zone name: year-less stamps take the latest year
that keeps them no later than `ctx.reference_time` + one day; naive times take `ctx.timezone`.
All patterns are anchored and bounded.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

from ucsiem.parsing import YEAR_SLACK, ParseError, fraction_micro, month_number, with_year

_UTC_NAMES = frozenset({"UTC", "GMT", "Z"})

BSD = re.compile(r"([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?")
# h323-setup-time & co: `17:02:12.123 UTC Tue Mar 05 2024`; Cisco marks an unsynchronised clock `*`/`.`.
H323 = re.compile(r"[*.]?(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? ([A-Za-z]{1,6}) (?:[A-Za-z]{3} )?"
                  r"([A-Za-z]{3}) (\d{1,2}) (\d{4})")


def syslog_time(text: str, tz: tzinfo, reference: datetime) -> datetime:
    """`May  3 17:06:10` / `Dec 18 13:39:44.121` -> aware time in `tz`, year from the reference."""
    m = BSD.fullmatch(text)
    if m is None:
        raise ParseError("bad_timestamp", f"not a 'Mon dd hh:mm:ss' stamp: {text[:40]!r}")
    mon, day, hh, mm, ss, frac = m.groups()
    month = month_number(mon)
    if month is None:
        raise ParseError("bad_timestamp", f"unknown month in {text[:40]!r}")
    # A reference time at the calendar's edges (year 1, 9999) is an OverflowError here, which parse()
    # reports as out of range; the shared rule would pick a year instead.
    reference.astimezone(tz)
    if reference.replace(tzinfo=None) > datetime.max - YEAR_SLACK:
        raise OverflowError("reference time at the end of year 9999")
    return with_year(month, int(day), int(hh), int(mm), int(ss), fraction_micro(frac), tz, reference)


def h323_time(value: str, what: str, tz: tzinfo, tags: list[str]) -> datetime | None:
    """An h323-*-time value; empty -> None. UTC/GMT are honoured, another zone name is read in `tz`."""
    value = value.strip()
    if not value:
        return None
    m = H323.fullmatch(value)
    if m is None:
        raise ParseError("bad_timestamp", f"{what} is not 'hh:mm:ss.mmm ZONE Ddd Mon dd yyyy': {value[:48]!r}")
    hh, mm, ss, frac, zone, mon, day, year = m.groups()
    month = month_number(mon)
    if month is None:
        raise ParseError("bad_timestamp", f"{what} has an unknown month: {value[:48]!r}")
    zone_tz: tzinfo = UTC if zone.upper() in _UTC_NAMES else tz
    if zone_tz is tz and "cdr_time_zone_assumed" not in tags:
        tags.append("cdr_time_zone_assumed")
    try:
        return datetime(int(year), month, int(day), int(hh), int(mm), int(ss), fraction_micro(frac), tzinfo=zone_tz)
    except ValueError:
        raise ParseError("bad_timestamp", f"{what} is not a valid date and time: {value[:48]!r}") from None
