"""Time stamps of Jitsi logs: Jicofo/JVB `YYYY-MM-DD hh:mm:ss.mmm`, Prosody `Mon DD hh:mm:ss` (no year)
or `YYYY-MM-DD hh:mm:ss`, and a syslog receiver's BSD or ISO 8601 stamp.

Jitsi components and Prosody write local time without a zone: naive stamps take
`ParseContext.timezone`; year-less ones the latest year that does not put them more than a day after
`ParseContext.reference_time`. Patterns are anchored and bounded (linear on any input).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from ucsiem.errors import ParseError

MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
YEAR_SLACK = timedelta(days=1)

ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(Z|[+-]\d\d:?\d\d)?")
# journalctl prints the month in the locale's case ("apr 29"): accept any case
BSD = re.compile(r"([A-Za-z]{3}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?")


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


def _with_year(month: int, day: int, hms: tuple[int, int, int], micro: int, tz: tzinfo,
               reference: datetime, what: str) -> datetime:
    base = reference.astimezone(tz).year
    limit = reference + YEAR_SLACK
    for year in (base + 1, base, base - 1):
        try:
            candidate = datetime(year, month, day, hms[0], hms[1], hms[2], micro, tzinfo=tz)
        except ValueError:  # 29 Feb outside a leap year, 31 Apr...
            continue
        if candidate <= limit:
            return candidate
    raise ParseError("bad_timestamp", f"{what} is not a valid date: month {month} day {day}")


def parse_stamp(text: str, tz: tzinfo, reference: datetime, what: str) -> datetime:
    """An ISO-like stamp (naive -> `tz`) or a year-less `Mon DD hh:mm:ss`."""
    m = ISO.fullmatch(text)
    if m is not None:
        y, mo, d, h, mi, s, frac, off = m.groups()
        try:
            return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), _micro(frac),
                            tzinfo=_offset(off) or tz)
        except ValueError:
            raise ParseError("bad_timestamp", f"{what} is not a valid date and time: {text[:40]!r}") from None
    m = BSD.fullmatch(text)
    if m is not None:
        mon, d, h, mi, s, frac = m.groups()
        month = MONTHS.get(mon.lower())
        if month is None:
            raise ParseError("bad_timestamp", f"{what} has an unknown month: {text[:40]!r}")
        return _with_year(month, int(d), (int(h), int(mi), int(s)), _micro(frac), tz, reference, what)
    raise ParseError("bad_timestamp", f"{what} is neither 'YYYY-MM-DD hh:mm:ss' nor 'Mon DD hh:mm:ss': "
                     f"{text[:40]!r}")
