"""Time stamps of IOS / IOS-XE voice gateways.

Three kinds appear:

* the IOS log stamp (`service timestamps log datetime [msec] [localtime] [show-timezone] [year]`):
  `Mmm dd [yyyy ]hh:mm:ss[.mmm][ ZONE]`. The zone is the name given in `clock timezone NAME offset`,
  free text chosen by the administrator, so only UTC/GMT are trusted; any other name keeps
  `ParseContext.timezone` (the zone configured for this source) and is kept in `uc.vendor.timezone`;
* a syslog receiver's stamp (`Mmm dd hh:mm:ss` or ISO 8601) written before the device's message;
* the CDR stamps of `gw-accounting syslog` records: `hh:mm:ss.mmm ZONE Ddd Mmm dd yyyy`.

Year-less stamps take the year that keeps them no later than one day after the reference time (the
rules of `ucsiem.parsing.stamps`; only the error messages are this parser's own).
Patterns are anchored with bounded repeats only.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

from ucsiem.parsing import ISO_STAMP, ParseError, build_time, fraction_micro, month_number, utc_offset, with_year

UTC_NAMES = frozenset(("UTC", "GMT", "UCT", "Z"))

# CDR time: `11:14:41.683 UTC Mon Jun 18 2001` (a leading `*` or `.` marks an unsynchronised clock)
_CDR = re.compile(r"[*.]?(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? ([A-Za-z][A-Za-z0-9+_-]{0,15}) "
                  r"[A-Z][a-z]{2} ([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{4})")


def zone_of(name: str | None, default: tzinfo) -> tzinfo:
    """UTC for UTC/GMT; any other `clock timezone` name is the configured zone of the source."""
    return UTC if name is not None and name.upper() in UTC_NAMES else default


def build(year: int | None, month_name: str, day: int, hms: tuple[int, int, int], usec: int, tz: tzinfo,
          reference: datetime, what: str) -> datetime:
    """A stamp with or without its year (year-less: the latest year not after reference + one day)."""
    month = month_number(month_name)
    if month is None:
        raise ParseError("bad_timestamp", f"{what} has an unknown month: {month_name[:8]!r}")
    if year is not None:
        return build_time(year, month, day, *hms, usec, tz, what)
    return with_year(month, day, *hms, usec, tz, reference, what=what)


def iso_time(text: str, tz: tzinfo, what: str) -> datetime:
    """A receiver's ISO 8601 stamp (`2024-03-05T10:15:02.123+01:00`); without an offset it is in `tz`."""
    m = ISO_STAMP.fullmatch(text)
    if m is None:
        raise ParseError("bad_timestamp", f"{what} is not ISO 8601: {text[:40]!r}")
    y, mo, d, h, mi, s, frac, off = m.groups()
    try:
        zone = utc_offset(off) or tz
    except ParseError:  # this parser's message names the stamp
        raise ParseError("bad_timestamp", f"{what} has a UTC offset out of range: {off!r}") from None
    return build_time(int(y), int(mo), int(d), int(h), int(mi), int(s), fraction_micro(frac), zone, what)


def cdr_time(text: str, tz: tzinfo) -> datetime | None:
    """A CDR time field, None when empty or unreadable (null when the gateway has no NTP time)."""
    m = _CDR.fullmatch(text.strip())
    if m is None:
        return None
    h, mi, s, frac, zone, mon, d, y = m.groups()
    try:
        return build(int(y), mon, int(d), (int(h), int(mi), int(s)), fraction_micro(frac), zone_of(zone, tz),
                     datetime(1970, 1, 1, tzinfo=UTC), "CDR time")
    except ParseError:
        return None
