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
synchronised. Patterns are anchored with bounded repeats only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from ucsiem.parsing import ParseError, canonical_ip, fraction_micro

from .stamps import build, iso_time, zone_of

SHOWN = 96  # characters of a bad record quoted in an error message
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


@dataclass
class Header:
    """What the line says before the message body."""

    body: str
    timestamp: datetime | None = None
    received: datetime | None = None
    stamp_text: str | None = None
    marker: str = ""
    zone_name: str | None = None
    uptime: str | None = None
    pri: int | None = None
    receiver_host: str | None = None
    origin: str | None = None
    counters: list[int] = field(default_factory=list)


def split_header(line: str, tz: tzinfo, reference: datetime) -> Header:
    """Cut one line into its framing fields and body; raises ParseError when the framing is broken."""
    pos = len(line) - len(line.lstrip(" \t"))
    pri: int | None = None
    if (m := _PRI.match(line, pos)) is not None:
        pri = int(m.group(1))
        if pri > 191:
            raise ParseError("no_match", f"syslog priority out of range <{pri}>: {line[:SHOWN]!r}")
        pos = m.end()
    head = Header(body="", pri=pri)
    if (m := _RECEIVER_BSD.match(line, pos)) is not None:
        mon, day, hh, mi, ss, host = m.groups()
        head.received = build(None, mon, int(day), (int(hh), int(mi), int(ss)), 0, tz, reference, "receiver time")
        head.receiver_host = host
        pos = m.end()
    elif (m := _RECEIVER_ISO.match(line, pos)) is not None:
        head.received = iso_time(m.group(1), tz, "receiver time")
        head.receiver_host = m.group(2)
        pos = m.end()
    pos = _prefix_tokens(line, pos, head)
    if (m := _STAMP.match(line, pos)) is not None:
        marker, mon, day, year, hh, mi, ss, frac, zone = m.groups()
        head.marker = marker
        head.zone_name = zone
        head.stamp_text = m.group(0).rstrip(": ")
        head.timestamp = build(int(year) if year else None, mon, int(day), (int(hh), int(mi), int(ss)),
                               fraction_micro(frac), zone_of(zone, tz), head.received or reference, "log time")
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


def observer_fields(head: Header) -> dict[str, object]:
    """The gateway's own name: the origin-id it wrote, else the host the receiver recorded."""
    observer: dict[str, object] = {}
    name = head.origin or head.receiver_host
    if name:
        ip = canonical_ip(name)
        if ip is not None:
            observer["ip"] = [ip]
        else:
            observer["hostname"] = name
    if head.origin and head.receiver_host and head.receiver_host != head.origin:
        ip = canonical_ip(head.receiver_host)
        if ip is not None:
            observer["ip"] = [ip]
    return observer
