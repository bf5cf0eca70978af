"""Time stamps of IOS / IOS-XE voice gateways.

Three kinds appear:

* the IOS log stamp (`service timestamps log datetime [msec] [localtime] [show-timezone] [year]`):
  `Mmm dd [yyyy ]hh:mm:ss[.mmm][ ZONE]`. The zone is the name given in `clock timezone NAME offset`,
  free text chosen by the administrator, so only UTC/GMT are trusted; any other name keeps
  `ParseContext.timezone` (the zone configured for this source) and is kept in `uc.vendor.timezone`;
* a syslog receiver's stamp (`Mmm dd hh:mm:ss` or ISO 8601) written before the device's message;
* the CDR stamps of `gw-accounting syslog` records: `hh:mm:ss.mmm ZONE Ddd Mmm dd yyyy`.

Year-less stamps take the year that keeps them no later than one day after the reference time.
Patterns are anchored with bounded repeats only.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from ucsiem.errors import ParseError

MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
YEAR_SLACK = timedelta(days=1)  # clock skew tolerated before a year-less stamp counts as last year's
UTC_NAMES = frozenset(("UTC", "GMT", "UCT", "Z"))

_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)?")
# CDR time: `11:14:41.683 UTC Mon Jun 18 2001` (a leading `*` or `.` marks an unsynchronised clock)
_CDR = re.compile(r"[*.]?(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? ([A-Za-z][A-Za-z0-9+_-]{0,15}) "
                  r"[A-Z][a-z]{2} ([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{4})")


def micro(frac: str | None) -> int:
    return int((frac + "000000")[:6]) if frac else 0


def zone_of(name: str | None, default: tzinfo) -> tzinfo:
    """UTC for UTC/GMT; any other `clock timezone` name is the configured zone of the source."""
    return UTC if name is not None and name.upper() in UTC_NAMES else default


def build(year: int | None, month_name: str, day: int, hms: tuple[int, int, int], usec: int, tz: tzinfo,
          reference: datetime, what: str) -> datetime:
    """A stamp with or without its year (year-less: the latest year not after reference + one day)."""
    month = MONTHS.get(month_name)
    if month is None:
        raise ParseError("bad_timestamp", f"{what} has an unknown month: {month_name[:8]!r}")
    if year is not None:
        try:
            return datetime(year, month, day, *hms, usec, tzinfo=tz)
        except ValueError:
            raise ParseError("bad_timestamp", f"{what} is not a valid date and time") from None
    base = reference.astimezone(tz).year
    limit = reference + YEAR_SLACK
    for candidate_year in (base + 1, base, base - 1):
        try:
            candidate = datetime(candidate_year, month, day, *hms, usec, tzinfo=tz)
        except ValueError:  # 29 Feb outside a leap year, 31 Apr, 25:00...
            continue
        if candidate <= limit:
            return candidate
    raise ParseError("bad_timestamp", f"{what} is not a valid date and time")


def iso_time(text: str, tz: tzinfo, what: str) -> datetime:
    m = _ISO.fullmatch(text)
    if m is None:
        raise ParseError("bad_timestamp", f"{what} is not ISO 8601: {text[:40]!r}")
    y, mo, d, h, mi, s, frac, off = m.groups()
    zone = tz
    if off == "Z":
        zone = UTC
    elif off:
        digits = off[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4])
        if hours > 23 or minutes > 59:
            raise ParseError("bad_timestamp", f"{what} has a UTC offset out of range: {off!r}")
        delta = timedelta(hours=hours, minutes=minutes)
        zone = timezone(-delta if off[0] == "-" else delta)
    try:
        return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro(frac), tzinfo=zone)
    except ValueError:
        raise ParseError("bad_timestamp", f"{what} is not a valid date and time") from None


def cdr_time(text: str, tz: tzinfo) -> datetime | None:
    """A CDR time field, None when empty or unreadable (null when the gateway has no NTP time)."""
    m = _CDR.fullmatch(text.strip())
    if m is None:
        return None
    h, mi, s, frac, zone, mon, d, y = m.groups()
    try:
        return build(int(y), mon, int(d), (int(h), int(mi), int(s)), micro(frac), zone_of(zone, tz),
                     datetime(1970, 1, 1, tzinfo=UTC), "CDR time")
    except ParseError:
        return None
