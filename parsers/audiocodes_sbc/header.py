"""The envelope of AudioCodes syslog lines: the receiver prefix, the `[S=n]` marker and the time stamps.

The device sends no syslog header of its own: whatever stands before `[S=n]` (or before the CDR
`|`) was written by the receiver. Seen and supported forms:

    2023-01-10 10:55:08 local3.notice 100.112.70.10  [S=...]     date time facility.severity ip
    2026-11-27T10:23:45.123+00:00 sbc01 [S=...]                  ISO 8601 (with zone) host
    17:15:52.048  172.200.0.10  local0.warn    [S=...]           time ip facility.severity
    10:35:36.653  10.0.10.11  local1.info[S = 122] |CALL_START   (no space before the marker)
    09/28 10:55:41.157  172.16.10.1  local1.info[S = ...]        MM/DD time ...
    14:33:00.162 : 10.15.7.95 : Local 0 :NOTICE : [S=...]         colon-separated, facility word
    14:42:48.334 : 10.15.7.95 : NOTICE : [S=...]                  severity only
    <134>Jan  5 10:00:00 192.0.2.10 [S=...]                      RFC 3164 (optional PRI)
    [S=3] |CALL_END ...                                          no receiver prefix at all

`read_prefix` splits the prefix off (where the device text starts, the `[S=n]` number); `read_header`
completes its time stamps (receiver time, device `[Time:DD-MM@...]`) into a `Header`.
All regexes are anchored or bounded and have no nested quantifiers (linear on any input).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from typing import NamedTuple

from ucsiem.parsing import (
    SYSLOG_FACILITIES,
    SYSLOG_SEVERITIES,
    ParseContext,
    ParseError,
    canonical_ip,
    fraction_micro,
    month_number,
    stamps,
    syslog_facility,
    syslog_severity,
    utc_offset,
)

# How far past the reference time a date-less stamp may fall before it is taken as last day's:
# tolerates clock skew between device, receiver and agent (year-less stamps: `stamps.YEAR_SLACK`).
DAY_SLACK = timedelta(hours=1)
_HALF_YEAR = timedelta(days=180)
MAX_PREFIX = 256  # the receiver prefix is short; never scan further for the first marker

_PRI = re.compile(r"<(\d{1,3})>")
_SPACES = re.compile(r" *")
_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(Z|[+-]\d\d:?\d\d)?(?=[\s:\[|]|$)")
_MMDD = re.compile(r"(\d\d)/(\d\d) +(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?=[\s:\[|]|$)")
_BSD = re.compile(r"([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?=[\s:\[|]|$)")
_TIME = re.compile(r"(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?=[\s:\[|]|$)")
SEQ = re.compile(r"\[S ?= ?(\d{1,12})\]")
_BLANKS = re.compile(r"[ \t]*")
# The older event form's start, `PL:5 [Code:`, after blanks (see body.read_legacy)
LEGACY_EVENT = re.compile(r"(?<![^ \t])[A-Z]{2}:[^\s\[\]]{1,32}[ \t]+\[Code:")
# Prefix tokens are separated by blanks or by ` : ` (with a blank on at least one side, so an
# IPv6 address stays whole).
_PREFIX_SPLIT = re.compile(r"\s*:\s+|\s+:\s*|\s+")
_IPV4ISH = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_HOSTNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")
_FAC_SEV = re.compile(r"([A-Za-z-]{2,12}\d?)\.([A-Za-z]{3,13})")
_DEVICE_TIME = re.compile(r"\[Time:(\d\d)-(\d\d)@(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?\]")


@dataclass(slots=True)
class StampParts:
    """A time as written, before the missing parts (year, date, zone) are filled in."""

    year: int | None
    month: int | None
    day: int | None
    hour: int
    minute: int
    second: int
    micro: int
    tz: tzinfo | None = None


@dataclass(slots=True)
class Prefix:
    """What the receiver wrote before the device's own text."""

    end: int = 0  # index in the record where the device text starts
    seq: int | None = None  # the `[S=n]` number
    seq_end: int = 0  # index just past `[S=n]` (`end` when there is none)
    body_at: int = 0  # `seq_end` past blanks: where a CDR row or the older event form starts
    time: StampParts | None = None
    pri: int | None = None
    observer_ip: str | None = None
    hostname: str | None = None
    facility: tuple[str, int] | None = None
    severity: tuple[str, int] | None = None


def _leading_time(text: str, pos: int) -> tuple[StampParts | None, int]:
    """The receiver's time stamp at `pos`, if any, and the index just past it."""
    c4 = text[pos + 4:pos + 5]
    if c4 == "-" and (m := _ISO.match(text, pos)):
        y, mo, d, h, mi, s, frac, tz = m.groups()
        return (StampParts(int(y), int(mo), int(d), int(h), int(mi), int(s), fraction_micro(frac), utc_offset(tz)),
                m.end())
    c2 = text[pos + 2:pos + 3]
    if c2 == "/" and (m := _MMDD.match(text, pos)):
        mo, d, h, mi, s, frac = m.groups()
        return StampParts(None, int(mo), int(d), int(h), int(mi), int(s), fraction_micro(frac)), m.end()
    if c2 == ":" and (m := _TIME.match(text, pos)):
        h, mi, s, frac = m.groups()
        return StampParts(None, None, None, int(h), int(mi), int(s), fraction_micro(frac)), m.end()
    if (month := month_number(text[pos:pos + 3])) is not None and (m := _BSD.match(text, pos)):
        _, d, h, mi, s, frac = m.groups()
        return StampParts(None, month, int(d), int(h), int(mi), int(s), fraction_micro(frac)), m.end()
    return None, pos


_Tokens = tuple[str | None, str | None, tuple[str, int] | None, tuple[str, int] | None]


@lru_cache(maxsize=1024)
def prefix_tokens(chunk: str) -> _Tokens:
    """(device ip, host name, facility, severity) of the receiver tokens. Pure, memoised: the same
    few prefixes repeat on every line of a file."""
    observer_ip: str | None = None
    hostname: str | None = None
    facility: tuple[str, int] | None = None
    severity: tuple[str, int] | None = None
    tokens = [t for t in _PREFIX_SPLIT.split(chunk) if t]
    i = 0
    while i < len(tokens):
        token = tokens[i]
        low = token.lower()
        i += 1
        if low == "local" and i < len(tokens) and tokens[i].isdecimal():  # "Local 0"
            facility = syslog_facility(low + tokens[i])
            i += 1
            continue
        if "." in token and (m := _FAC_SEV.fullmatch(token)):
            fac = syslog_facility(m.group(1))
            sev = syslog_severity(m.group(2))
            if fac is not None and sev is not None:
                facility, severity = fac, sev
                continue
        if low in SYSLOG_FACILITIES:
            facility = syslog_facility(low)
            continue
        word = syslog_severity(low)
        if word is not None:
            severity = word
            continue
        if _IPV4ISH.fullmatch(token) or ":" in token:
            address = canonical_ip(token)
            if address is None:
                raise ParseError("no_match", f"receiver prefix has a bad address {token[:64]!r}")
            if observer_ip is None:
                observer_ip = address
                continue
            raise ParseError("no_match", f"receiver prefix has two addresses: {chunk[:128]!r}")
        if hostname is None and _HOSTNAME.fullmatch(token):
            hostname = token
            continue
        raise ParseError("no_match", f"unrecognised receiver prefix {chunk[:128]!r}")
    return observer_ip, hostname, facility, severity


def _read_tokens(text: str, body_start: int, prefix: Prefix, time_end: int) -> None:
    """Read the tokens between the receiver time and the device text."""
    chunk = text[time_end:body_start].strip(" \t:")
    if chunk:
        prefix.observer_ip, prefix.hostname, prefix.facility, prefix.severity = prefix_tokens(chunk)


def read_prefix(text: str) -> Prefix:
    """Split off the receiver prefix and the `[S=n]` marker, if there is one.

    Without a `[S=n]` marker the device text starts at the first `|` (a CDR row whose receiver
    dropped the sequence number), or at the beginning of the record when it has no prefix.
    """
    prefix = Prefix()
    pos = 0
    if text.startswith("<") and (m := _PRI.match(text)):
        prefix.pri = int(m.group(1))
        spaces = _SPACES.match(text, m.end())
        pos = spaces.end() if spaces is not None else m.end()
    prefix.time, time_end = _leading_time(text, pos)
    limit = min(len(text), time_end + MAX_PREFIX)
    seq = SEQ.search(text, time_end, limit)
    if seq is not None:
        body_start = seq.start()
    else:
        pipe = text.find("|", time_end, limit)
        legacy = LEGACY_EVENT.search(text, time_end, limit) if pipe < 0 else None
        if legacy is not None:  # the older `PL:5 [Code:3a002] [CID:3294]` form
            body_start = legacy.start()
        elif pipe < 0:
            if prefix.time is None:
                return _device_text(text, prefix, None)  # no prefix: the caller decides what the text is
            raise ParseError("no_match", "no [S=n] marker and no CDR field after the receiver prefix")
        else:
            body_start = pipe
        if legacy is None:
            # "... local1.info CALL_END |...": the report type is not part of the prefix
            head = text[time_end:pipe].rstrip()
            last = head.rsplit(None, 1)[-1] if head.strip() else ""
            if last and (("_" in last and last.isupper()) or last.endswith("ReportType")):
                body_start = time_end + head.rfind(last)
    if "[" in text[time_end:body_start] or "|" in text[time_end:body_start]:
        raise ParseError("no_match", f"unrecognised receiver prefix {text[:min(body_start, 128)]!r}")
    if body_start > time_end or prefix.time is not None or prefix.pri is not None:
        _read_tokens(text, body_start, prefix, time_end)
    if prefix.pri is not None and prefix.pri < 192:
        prefix.facility = prefix.facility or (SYSLOG_FACILITIES[prefix.pri >> 3], prefix.pri >> 3)
        sev_code = prefix.pri & 7
        prefix.severity = prefix.severity or (SYSLOG_SEVERITIES[sev_code], sev_code)
    prefix.end = body_start
    return _device_text(text, prefix, seq)


def _device_text(text: str, prefix: Prefix, seq: re.Match[str] | None) -> Prefix:
    if seq is not None:
        prefix.seq = int(seq.group(1))
        prefix.seq_end = seq.end()
    else:
        prefix.seq_end = prefix.end
    blanks = _BLANKS.match(text, prefix.seq_end)
    prefix.body_at = blanks.end() if blanks is not None else prefix.seq_end
    return prefix


def device_time(text: str) -> tuple[StampParts | None, int]:
    """The trailing `[Time:DD-MM@hh:mm:ss.mmm]` (device clock, day-month order, no year).

    Returns the parts and the index where the tag starts (len(text) when there is none). Only a
    tag at the end of the record counts (an optional `[n]` may follow it).
    """
    at = text.rfind("[Time:")
    if at < 0:
        return None, len(text)
    m = _DEVICE_TIME.match(text, at)
    if m is None:
        return None, len(text)
    tail = text[m.end():].strip()
    if tail and not (tail.startswith("[") and tail.endswith("]") and tail[1:-1].isdecimal()):
        return None, len(text)
    d, mo, h, mi, s, frac = m.groups()
    return StampParts(None, int(mo), int(d), int(h), int(mi), int(s), fraction_micro(frac)), at


def _build(parts: StampParts, year: int, month: int, day: int, tz: tzinfo) -> datetime | None:
    try:
        return datetime(year, month, day, parts.hour, parts.minute, parts.second, parts.micro,
                        tzinfo=parts.tz or tz)
    except ValueError:
        return None


def _latest_not_after(candidates: list[datetime | None], limit: datetime) -> datetime | None:
    valid = [c for c in candidates if c is not None]
    before = [c for c in valid if c <= limit]
    if before:
        return max(before)
    return min(valid) if valid else None


def with_year(parts: StampParts, anchor: datetime, tz: tzinfo, what: str) -> datetime:
    """Month/day known, year not: the latest year that does not put the stamp after the anchor."""
    if parts.month is None or parts.day is None:
        raise ParseError("bad_timestamp", f"{what} has no month and day")
    zone = parts.tz or tz
    year = anchor.astimezone(zone).year
    # The anchor may be the receiver's own stamp. At the calendar's edges this parser has always raised
    # OverflowError (parse() reports it as out of range) where the shared rule picks a year: a limit past
    # year 9999, or, in the first half of year 1, a date that exists in the anchor's year.
    naive = anchor.replace(tzinfo=None)
    if naive > datetime.max - stamps.YEAR_SLACK or (
            naive < datetime.min + _HALF_YEAR - stamps.YEAR_SLACK
            and _build(parts, year, parts.month, parts.day, tz) is not None):
        raise OverflowError("year-less stamp anchored at the edge of the calendar")
    try:
        return stamps.with_year(parts.month, parts.day, parts.hour, parts.minute, parts.second, parts.micro,
                                zone, anchor)
    except ParseError:
        pass
    # No candidate year puts a valid date on or before the limit (29 February read before the leap day of
    # a leap year or in the year before one; 31 December read in year 1): this parser takes the earliest
    # date that exists rather than failing.
    existing = [c for y in (year - 1, year, year + 1)
                if (c := _build(parts, y, parts.month, parts.day, tz)) is not None]
    if not existing:
        raise ParseError("bad_timestamp", f"{what} is not a valid date: day {parts.day} month {parts.month}")
    return existing[0]


def receiver_datetime(parts: StampParts, tz: tzinfo, reference: datetime, near: datetime | None) -> datetime:
    """Complete the receiver's stamp: its own date if written, else the date that fits best.

    A time without a date takes the date of `near` (the device time, when the line has one; the
    closest of the day before, the same day and the day after), else the reference time's date,
    moved back a day when that would put the record more than an hour after the reference.
    """
    if parts.year is not None and parts.month is not None and parts.day is not None:
        built = _build(parts, parts.year, parts.month, parts.day, tz)
        if built is None:
            raise ParseError("bad_timestamp", "receiver time stamp is not a valid date")
        return built
    if parts.month is not None:
        return with_year(parts, reference, tz, "receiver time stamp")
    if near is not None:
        base = near.astimezone(parts.tz or tz)
        options = [o for d in (base - timedelta(days=1), base, base + timedelta(days=1))
                   if (o := _build(parts, d.year, d.month, d.day, tz)) is not None]
        if not options:
            raise ParseError("bad_timestamp", "receiver time stamp is not a valid time of day")
        return min(options, key=lambda o: abs(o - near))
    base = reference.astimezone(parts.tz or tz)
    found = _latest_not_after(
        [_build(parts, d.year, d.month, d.day, tz)
         for d in (base + timedelta(days=1), base, base - timedelta(days=1))],
        reference + DAY_SLACK,
    )
    if found is None:
        raise ParseError("bad_timestamp", "receiver time stamp is not a valid time of day")
    return found


class Header(NamedTuple):
    """The receiver prefix with its time stamps completed."""

    prefix: Prefix
    received: datetime | None  # the receiver's time stamp (event.created)
    device: datetime | None  # the device's `[Time:DD-MM@...]` (free-text lines only)
    text_end: int  # where the device time tag starts (the end of the record when there is none)
    reference: datetime  # ctx.reference_time: the time stamp of a record without one


def read_header(text: str, prefix: Prefix, ctx: ParseContext, *, device_clock: bool) -> Header:
    """The times of a record: the receiver's, and with `device_clock` the trailing `[Time:DD-MM@...]`,
    completed with the year/date they lack.

    The device time has no year: it takes the one that does not put it after the receiver's dated
    stamp (or, when the receiver wrote no date, after `ctx.reference_time`), with one day of slack.
    A receiver time without a date takes the device time's date, else the reference time's.
    """
    device, end = device_time(text) if device_clock else (None, len(text))
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
    return Header(prefix, received, seen, end, ctx.reference_time)
