"""Time stamps of Jitsi logs: Jicofo/JVB `YYYY-MM-DD hh:mm:ss.mmm`, Prosody `Mon DD hh:mm:ss` (no year)
or `YYYY-MM-DD hh:mm:ss`, and a syslog receiver's BSD or ISO 8601 stamp.

Jitsi components and Prosody write local time without a zone: naive stamps take
`ParseContext.timezone`; year-less ones the latest year that does not put them more than a day after
`ParseContext.reference_time` (the rules of `ucsiem.parsing.stamps`; journalctl prints the month in
the locale's case, `apr 29`, which its BSD_STAMP accepts). Only the error messages are Jitsi's own.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from ucsiem.parsing import (
    BSD_STAMP,
    ISO_STAMP,
    ParseError,
    build_time,
    fraction_micro,
    month_number,
    utc_offset,
    with_year,
)


def parse_stamp(text: str, tz: tzinfo, reference: datetime, what: str) -> datetime:
    """An ISO-like stamp (naive -> `tz`) or a year-less `Mon DD hh:mm:ss`."""
    m = ISO_STAMP.fullmatch(text)
    if m is not None:
        y, mo, d, h, mi, s, frac, off = m.groups()
        zone = utc_offset(off) or tz
        return build_time(int(y), int(mo), int(d), int(h), int(mi), int(s), fraction_micro(frac), zone, what)
    m = BSD_STAMP.fullmatch(text)
    if m is not None:
        mon, d, h, mi, s, frac = m.groups()
        month, day = month_number(mon), int(d)
        if month is None:
            raise ParseError("bad_timestamp", f"{what} has an unknown month: {text[:40]!r}")
        return with_year(month, day, int(h), int(mi), int(s), fraction_micro(frac), tz, reference, what=what)
    raise ParseError("bad_timestamp", f"{what} is neither 'YYYY-MM-DD hh:mm:ss' nor 'Mon DD hh:mm:ss': "
                     f"{text[:40]!r}")
