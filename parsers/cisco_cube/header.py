"""The framing IOS and IOS-XE put before a message, in the variants seen on the wire and in files:

    [<PRI>][receiver stamp and host ][counter: ][sequence: ][origin-id: ][*|.]Mmm dd [yyyy ]hh:mm:ss[.mmm][ ZONE]: body
    <189>328: Apr 20 12:56:39.754 NZST: %SEC_LOGIN-5-LOGIN_SUCCESS: ...    message counter, zone
    000984: *Mar  9 20:53:01.225: %VOICE_IEC-3-GW: ...                    sequence number, `*` = clock not set
     CME-MRI: Dec 16 10:15:50.930: %VOIPAAA-5-VOIP_FEAT_HISTORY: ...      `logging origin-id` host name
    Jan  6 13:24:18 gw1.example.com 54: 000051: Jan  6 10:24:17: %PARSER-5-...   written by a syslog receiver
    %SIP-3-STREAM_SERVICE:  50 TCP connection failures                    console / buffer copy without stamp
    2: *Aug 30 21:21:45.583: //1/1CE915CE8002/CUBE_VT/SIP/FSM/...         debug / VoIP trace entry
    00:01:23: %LINK-3-UPDOWN: ...  /  1d02h: %SYS-5-...                   `service timestamps log uptime`

The IOS stamp ends with `: `; a receiver's stamp is followed by a host and a blank instead, which keeps
the two apart. `*` means the clock was never set (no NTP), `.` that it was set but is no longer
synchronised. The IOS stamp (`service timestamps log datetime [msec] [localtime] [show-timezone]
[year]`) may carry a zone: the name given in `clock timezone NAME offset`, free text chosen by the
administrator, so only UTC/GMT are trusted; any other name keeps `ParseContext.timezone` and is kept in
`uc.vendor.timezone`. Year-less stamps follow `ucsiem.parsing.stamps` (one year rule). Patterns are
anchored with bounded repeats only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from ucsiem.parsing import (
    ISO_STAMP,
    ParseError,
    build_time,
    canonical_ip,
    fraction_micro,
    iso_time,
    month_number,
    with_year,
)

from .values import CLOCK, SHOWN, UTC_NAMES, zone_of

MAX_COUNTERS = 2

_PRI = re.compile(r"<(\d{1,3})>")
_RECEIVER_BSD = re.compile(r"([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d) ([^\s:]{1,255}) ")
_RECEIVER_ISO = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?) (\S{1,255}) ")
_COUNTER = re.compile(r"(\d{1,10}): ")
_UPTIME = re.compile(r"(\d{1,2}:\d\d:\d\d(?:\.\d{1,3})?|\d{1,4}[ywd]\d{1,2}[wdh]): ")
_ORIGIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]{0,254}): ")
_STAMP = re.compile(
    r"([*.]?)([A-Z][a-z]{2}) {1,2}(\d{1,2})(?: (\d{4}))? (\d{1,2}):(\d\d):(\d\d)(?:\.(\d{1,6}))?"
    r"(?: ([A-Za-z][A-Za-z0-9+_-]{0,15}))?:(?: |$)")


@dataclass(slots=True)
class Header:
    """What the line says before the message body, and what it means for the event's time and observer."""

    line: str
    reference: datetime
    body: str = ""
    timestamp: datetime | None = None  # the device's stamp
    received: datetime | None = None  # the syslog receiver's stamp
    time: datetime | None = None  # the one that is @timestamp, None when the line has neither
    created: datetime | None = None  # the receiver's stamp when the device's is @timestamp
    stamp_text: str | None = None
    marker: str = ""
    zone_name: str | None = None
    uptime: str | None = None
    pri: int | None = None
    receiver_host: str | None = None
    origin: str | None = None
    counters: list[int] = field(default_factory=list)
    sequence: int | None = None
    observer_hostname: str | None = None
    observer_ip: str | None = None
    vendor: dict[str, Any] = field(default_factory=dict)  # clock, device_time, timezone, uptime, message_counter
    tags: list[str] = field(default_factory=list)


def read_header(text: str, tz: tzinfo, reference: datetime) -> Header:
    """The first line of a record cut into its framing fields and body; ParseError when the framing is
    broken or there is nothing after it."""
    line = text.split("\n", 1)[0].rstrip("\r")
    if not line.strip():
        raise ParseError("no_match", "empty record")
    head = split_header(line, tz, reference)
    if not head.body:
        raise ParseError("truncated", f"IOS header without a message: {line[:SHOWN]!r}")
    _meaning(head)
    return head


def _stamp(year: str | None, mon: str, day: str, hms: tuple[str, str, str], usec: int, tz: tzinfo,
           reference: datetime, what: str) -> datetime:
    """A stamp with or without its year (year-less: `with_year`, the shared rule)."""
    month = month_number(mon)
    if month is None:
        raise ParseError("bad_timestamp", f"{what} has an unknown month: {mon[:8]!r}")
    hh, mi, ss = int(hms[0]), int(hms[1]), int(hms[2])
    if year is not None:
        return build_time(int(year), month, int(day), hh, mi, ss, usec, tz, what)
    return with_year(month, int(day), hh, mi, ss, usec, tz, reference, what=what)


def split_header(line: str, tz: tzinfo, reference: datetime) -> Header:
    """Cut one line into its framing fields and body; raises ParseError when the framing is broken."""
    pos = len(line) - len(line.lstrip(" \t"))
    pri: int | None = None
    if (m := _PRI.match(line, pos)) is not None:
        pri = int(m.group(1))
        if pri > 191:
            raise ParseError("no_match", f"syslog priority out of range <{pri}>: {line[:SHOWN]!r}")
        pos = m.end()
    head = Header(line, reference, pri=pri)
    if (m := _RECEIVER_BSD.match(line, pos)) is not None:
        mon, day, hh, mi, ss, host = m.groups()
        head.received = _stamp(None, mon, day, (hh, mi, ss), 0, tz, reference, "receiver time")
        head.receiver_host = host
        pos = m.end()
    elif (m := _RECEIVER_ISO.match(line, pos)) is not None:
        iso = ISO_STAMP.fullmatch(m.group(1))
        if iso is None:
            raise ParseError("bad_timestamp", f"receiver time is not ISO 8601: {m.group(1)[:40]!r}")
        head.received = iso_time(iso, tz, "receiver time")
        head.receiver_host = m.group(2)
        pos = m.end()
    pos = _prefix_tokens(line, pos, head)
    if (m := _STAMP.match(line, pos)) is not None:
        marker, mon, day, year, hh, mi, ss, frac, zone = m.groups()
        head.marker = marker
        head.zone_name = zone
        head.stamp_text = m.group(0).rstrip(": ")
        head.timestamp = _stamp(year, mon, day, (hh, mi, ss), fraction_micro(frac), zone_of(zone, tz),
                                head.received or reference, "log time")
        pos = m.end()
    elif (m := _UPTIME.match(line, pos)) is not None:
        head.uptime = m.group(1)
        pos = m.end()
    head.body = line[pos:].strip()
    return head


def _prefix_tokens(line: str, pos: int, head: Header) -> int:
    """Message counter and sequence number (`NN: `), and a `logging origin-id` name, in any order."""
    for _ in range(MAX_COUNTERS + 1):
        if len(head.counters) < MAX_COUNTERS and (m := _COUNTER.match(line, pos)) is not None:
            head.counters.append(int(m.group(1)))
            pos = m.end()
            continue
        if head.origin is None and _UPTIME.match(line, pos) is None and _STAMP.match(line, pos) is None \
                and not line.startswith("%", pos) and (m := _ORIGIN.match(line, pos)) is not None:
            head.origin = m.group(1)
            pos = m.end()
            continue
        break
    return pos


def _meaning(head: Header) -> None:
    """Which stamp is the event's time, what the clock marker says, the counters, the gateway's name."""
    vendor = head.vendor
    if head.timestamp is not None:
        if head.marker:
            vendor["clock"] = CLOCK[head.marker]
            head.tags.append("clock_unsynchronized")
        if head.marker and head.received is not None:
            # the device says its clock is not authoritative: trust the receiver's time
            head.time = head.received
            vendor["device_time"] = head.stamp_text or ""
        else:
            head.time = head.timestamp
            head.created = head.received
        if head.zone_name and head.zone_name.upper() not in UTC_NAMES:
            vendor["timezone"] = head.zone_name
    elif head.received is not None:
        head.time = head.received
    if head.uptime is not None:
        vendor["uptime"] = head.uptime
    if len(head.counters) == 2:
        vendor["message_counter"] = head.counters[0]
        head.sequence = head.counters[1]
    elif head.counters:
        head.sequence = head.counters[0]
    # the gateway's own name: the origin-id it wrote, else the host the receiver recorded
    name = head.origin or head.receiver_host
    if name:
        ip = canonical_ip(name)
        if ip is not None:
            head.observer_ip = ip
        else:
            head.observer_hostname = name
    if head.origin and head.receiver_host and head.receiver_host != head.origin:
        ip = canonical_ip(head.receiver_host)
        if ip is not None:
            head.observer_ip = ip
