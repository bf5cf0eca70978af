"""Receiver prefix, sequence/session markers and time stamps of AudioCodes syslog lines.

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

All regexes are anchored or bounded and have no nested quantifiers (linear on any input).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache

from ucsiem.errors import ParseError
from ucsiem.parsing.helpers import SYSLOG_FACILITIES, canonical_ip, syslog_facility, syslog_severity

MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}

# How far past the reference time a year-less stamp may fall before it is taken as last year's
# (or last day's): tolerates clock skew between device, receiver and agent.
YEAR_SLACK = timedelta(days=1)
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
    time: StampParts | None = None
    pri: int | None = None
    observer_ip: str | None = None
    hostname: str | None = None
    facility: tuple[str, int] | None = None
    severity: tuple[str, int] | None = None


def _micro(frac: str | None) -> int:
    if not frac:
        return 0
    return int((frac + "000000")[:6])


@lru_cache(maxsize=64)
def utc_offset(text: str | None) -> tzinfo | None:
    """`Z`, `+02:00`, `-0530` -> a fixed zone; None for no text. Pure, memoised."""
    if not text:
        return None
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise ParseError("bad_timestamp", f"UTC offset out of range: {text[:8]!r}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _leading_time(text: str, pos: int) -> tuple[StampParts | None, int]:
    """The receiver's time stamp at `pos`, if any, and the index just past it."""
    c4 = text[pos + 4:pos + 5]
    if c4 == "-" and (m := _ISO.match(text, pos)):
        y, mo, d, h, mi, s, frac, tz = m.groups()
        return StampParts(int(y), int(mo), int(d), int(h), int(mi), int(s), _micro(frac), utc_offset(tz)), m.end()
    c2 = text[pos + 2:pos + 3]
    if c2 == "/" and (m := _MMDD.match(text, pos)):
        mo, d, h, mi, s, frac = m.groups()
        return StampParts(None, int(mo), int(d), int(h), int(mi), int(s), _micro(frac)), m.end()
    if c2 == ":" and (m := _TIME.match(text, pos)):
        h, mi, s, frac = m.groups()
        return StampParts(None, None, None, int(h), int(mi), int(s), _micro(frac)), m.end()
    if text[pos:pos + 3] in MONTHS and (m := _BSD.match(text, pos)):
        mon, d, h, mi, s, frac = m.groups()
        return StampParts(None, MONTHS[mon], int(d), int(h), int(mi), int(s), _micro(frac)), m.end()
    return None, pos


_Tokens = tuple[str | None, str | None, tuple[str, int] | None, tuple[str, int] | None]


@lru_cache(maxsize=1024)
def classify_prefix(chunk: str) -> _Tokens:
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
        if low == "local" and i < len(tokens) and tokens[i].isdigit():  # "Local 0"
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


def parse_prefix(text: str, body_start: int, prefix: Prefix, time_end: int) -> None:
    """Classify the tokens between the receiver time and the device text."""
    chunk = text[time_end:body_start].strip(" \t:")
    if chunk:
        prefix.observer_ip, prefix.hostname, prefix.facility, prefix.severity = classify_prefix(chunk)


def read_prefix(text: str) -> tuple[Prefix, re.Match[str] | None]:
    """Split off the receiver prefix; returns it and the `[S=n]` marker match, if there is one.

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
        if pipe < 0:
            if prefix.time is None:
                return prefix, None  # no prefix: the caller decides what the text is
            raise ParseError("no_match", "no [S=n] marker and no CDR field after the receiver prefix")
        body_start = pipe
        # "... local1.info CALL_END |...": the report type is not part of the prefix
        head = text[time_end:pipe].rstrip()
        last = head.rsplit(None, 1)[-1] if head.strip() else ""
        if last and (("_" in last and last.isupper()) or last.endswith("ReportType")):
            body_start = time_end + head.rfind(last)
    if "[" in text[time_end:body_start] or "|" in text[time_end:body_start]:
        raise ParseError("no_match", f"unrecognised receiver prefix {text[:min(body_start, 128)]!r}")
    if body_start > time_end or prefix.time is not None or prefix.pri is not None:
        parse_prefix(text, body_start, prefix, time_end)
    if prefix.pri is not None and prefix.pri < 192:
        prefix.facility = prefix.facility or (SYSLOG_FACILITIES[prefix.pri >> 3], prefix.pri >> 3)
        sev_code = prefix.pri & 7
        prefix.severity = prefix.severity or (("emerg", "alert", "crit", "err", "warning", "notice", "info",
                                               "debug")[sev_code], sev_code)
    prefix.end = body_start
    return prefix, seq


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
    if tail and not (tail.startswith("[") and tail.endswith("]") and tail[1:-1].isdigit()):
        return None, len(text)
    d, mo, h, mi, s, frac = m.groups()
    return StampParts(None, int(mo), int(d), int(h), int(mi), int(s), _micro(frac)), at


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
    local_anchor = anchor.astimezone(parts.tz or tz)
    limit = anchor + YEAR_SLACK
    same = _build(parts, local_anchor.year, parts.month, parts.day, tz)
    if same is not None and limit - _HALF_YEAR < same <= limit:
        return same  # fast path: next year's date would be after the limit, last year's is older
    found = _latest_not_after(
        [_build(parts, y, parts.month, parts.day, tz)
         for y in (local_anchor.year + 1, local_anchor.year, local_anchor.year - 1)],
        anchor + YEAR_SLACK,
    )
    if found is None:
        raise ParseError("bad_timestamp", f"{what} is not a valid date: day {parts.day} month {parts.month}")
    return found


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
