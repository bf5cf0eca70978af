"""The receiver/syslog prefix and the CiscoLog header of a CUCM / UC-OS line, up to the alarm mnemonic.

Forms seen (reference §3.2, samples/cisco_cucm):
    <189>8103: Oct 14 2015 05:50:19 AM.484 UTC :  %UC_AUDITLOG-5-AdministrativeEvent: ...
    <189>23813: cucm-pub: Jul 05 2016 04:03:01 PM.688 UTC : %UC_RTMT-2-RTMT_ALERT: ...
    Jun 17 16:14:19 hcs862-hcm-f local7 2 : 6: hcs862-hcm-f.example.net: Jun 17 2019 14:14:19.781 UTC : %UC_...
    31 uc-ucm-01 local7 3 : 41679: uc-ucm-01.example.com Jul 02 2015 06:22:31 UTC :   %UC_CALLMANAGER-3-...
    <189>May 1 2019 07:10:40 AM.781 UTC : %...
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from ucsiem.parsing import SYSLOG_FACILITIES, ParseError, fraction_micro, month_number, syslog_facility

SHOWN = 80
HEADER_SCAN = 600  # the mnemonic is never further into a line

# `%UC_CALLMANAGER-3-EndPointUnregistered:` (CiscoLog APPNAME-SEVERITY-MSGNAME; older releases have a
# sub-facility: `%CCM_CALLMANAGER-CALLMANAGER-3-DeviceUnregistered`, and their RTMT alerts a name with dashes:
# `%CCM_RTMT-RTMT-2-RTMT-ERROR-ALERT`). The name may be followed by ` :`.
MNEMONIC = re.compile(
    r"%([A-Za-z][A-Za-z0-9_]{0,63}(?:-[A-Za-z][A-Za-z0-9_]{0,63})?)-([0-7])-"
    r"([A-Za-z][A-Za-z0-9_]{0,127}(?:-[A-Za-z0-9_]{1,63}){0,3}) ?:"
)
# The CiscoLog TIMESTAMP at the end of the header: `Oct 14 2015 05:50:19 AM.484 UTC`, `Jun 17 2019
# 14:14:19.781 UTC`, year-less `Apr 21 19:01:35.638 UTC`.
STAMP = re.compile(
    r"(?:^|(?<=[\s:]))([A-Z][a-z]{2}) {1,2}(\d{1,2}) (?:(\d{4}) )?(\d{1,2}):(\d\d):(\d\d)"
    r"(?: ?([AP]M))?(?:\.(\d{1,6}))?(?: ?([AP]M))?(?: ([A-Za-z]{1,6}))?$"
)
_UTC = frozenset(("UTC", "GMT", "UT", "Z"))


@dataclass
class Header:
    timestamp: datetime
    mnemonic: re.Match[str]
    pri: int | None = None
    seq: int | None = None
    host: str | None = None
    facility: tuple[str, int] | None = None  # of the local syslog header; the PRI's when there is one
    zone_assumed: bool = False


def _stamp(m: re.Match[str], ctx_tz: tzinfo, reference: datetime) -> tuple[datetime, bool]:
    mon, day, year, hh, mi, ss, ampm1, frac, ampm2, zone = m.groups()
    hour = int(hh)
    ampm = ampm1 or ampm2
    if ampm is not None:
        if not 1 <= hour <= 12:
            raise ParseError("bad_timestamp", f"12-hour time with hour {hour}: {m.group(0)[:SHOWN]!r}")
        hour = hour % 12 + (12 if ampm == "PM" else 0)
    assumed = zone is not None and zone not in _UTC
    tz: tzinfo = UTC if zone in _UTC else ctx_tz
    # CiscoLog prints milliseconds; some lines carry fewer digits (`10:00:00.19`): read as a count of ms.
    micros = int(frac) * 1000 if frac and len(frac) <= 3 else fraction_micro(frac)
    month = month_number(mon)
    if month is None:
        raise ParseError("bad_timestamp", f"unknown month {mon!r} in {m.group(0)[:SHOWN]!r}")
    try:
        if year is not None:
            return datetime(int(year), month, int(day), hour, int(mi), int(ss), micros, tzinfo=tz), assumed
        # Not ucsiem.parsing.stamps.with_year: this rule only tries the reference year and the one before
        # (never next year), and 29 February outside a leap year is an error rather than another year.
        ref = reference.astimezone(tz)
        ts = datetime(ref.year, month, int(day), hour, int(mi), int(ss), micros, tzinfo=tz)
        if ts - ref > timedelta(days=1):  # year-less stamps are not in the future: last year's
            ts = ts.replace(year=ref.year - 1)
        return ts, assumed
    except ValueError:
        raise ParseError("bad_timestamp", f"not a valid date: {m.group(0)[:SHOWN]!r}") from None


def read_header(text: str, ctx_tz: tzinfo, reference: datetime) -> Header:
    """Everything before the mnemonic; raises ParseError when the line is not a CiscoLog alarm line."""
    pri: int | None = None
    start = 0
    if text.startswith("<"):
        close = text.find(">", 1, 5)
        if close > 1 and text[1:close].isdecimal():
            pri, start = int(text[1:close]), close + 1
    mnemonic = MNEMONIC.search(text, start, min(len(text), start + HEADER_SCAN))
    if mnemonic is None:
        raise ParseError("no_match", f"no CUCM alarm name (%FACILITY-severity-Name:) in {text[:SHOWN]!r}")
    head = text[start:mnemonic.start()].rstrip()
    if not head.endswith(":"):
        raise ParseError("no_match", f"no CiscoLog time stamp before the alarm name: {text[:SHOWN]!r}")
    head = head[:-1].rstrip()
    stamp = STAMP.search(head)
    if stamp is None:
        raise ParseError("bad_timestamp", f"no CiscoLog time stamp before the alarm name: {head[-SHOWN:]!r}")
    ts, assumed = _stamp(stamp, ctx_tz, reference)
    header = Header(ts, mnemonic, pri=pri, zone_assumed=assumed)
    _prefix(head[:stamp.start()].strip(), header)
    if pri is not None and (pri >> 3) < len(SYSLOG_FACILITIES):
        header.facility = (SYSLOG_FACILITIES[pri >> 3], pri >> 3)
    return header


def _prefix(prefix: str, header: Header) -> None:
    """`[<local syslog header> : ]SEQ:[ HOST[:]]` before the time stamp."""
    local, sep, rest = prefix.partition(" : ")
    if not sep:
        local, rest = "", prefix
    if local:  # `Jun 17 16:14:19 host local7 2` (or its cut `31 host local7 3`): facility, severity number
        tokens = local.split()
        if len(tokens) >= 3 and tokens[-1].isdecimal() and len(tokens[-1]) == 1:
            header.facility = syslog_facility(tokens[-2])
            header.host = tokens[-3]
    parts = [p.strip() for p in rest.split(":")]
    if parts and parts[0].isascii() and parts[0].isdecimal() and len(parts[0]) <= 12:
        header.seq = int(parts[0])
        parts = parts[1:]
    names = [p for p in parts if p and " " not in p]
    if names:
        header.host = names[-1]
