"""One received syslog message (bytes) -> a typed result, and the line a syslog daemon would have filed.

Pure: no sockets, no clock (the receive time is a parameter), never raises. What it accepts:

    <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD [MSG]     RFC 5424 (`-` = nil, BOM before MSG)
    <PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG             RFC 3164
    <PRI>2024-03-05T10:15:02.1+01:00 HOST TAG: MSG      RFC 3164 with an ISO time (Expressway, logger)
    <PRI>Mmm dd hh:mm:ss TAG[PID]: MSG                  no host name (the peer is filled in for `line`)
    <PRI>TAG: MSG   /   <PRI>free text                  no time (AudioCodes, many appliances)
    <189>123: cucm-pub: *Mar  1 00:00:01.123 UTC: %SYS-5-CONFIG_I: ...
                                                        Cisco IOS / UC-OS: sequence numbers, origin host,
                                                        `*` (clock never set) / `.` (set, sync lost),
                                                        `Mmm dd [yyyy ]hh:mm:ss[ AM|PM][.mmm][ ZONE]:`
    Mmm dd hh:mm:ss HOST TAG: MSG                       no PRI at all
    anything else                                       format "raw", the whole text is the line

`line` is what a syslog daemon (rsyslog's and syslog-ng's default file templates) writes for the
message, which is what the parsers read from files:

* RFC 3164 with its own time and host: the message as sent, without the PRI.
* RFC 3164 with a time but no host: the time, the peer, the rest (`Mar  1 10:00:00 10.0.0.5 app: x`).
* RFC 3164 without a time of its own (Cisco sequence numbers, bare tags, free text): the receive time
  (`Mmm dd hh:mm:ss` in `tz`), the peer, then the whole content as sent (`Jan  6 13:24:18 gw1 54: *Mar...`)
  as rsyslog files it: the Cisco parsers read exactly this form.
* RFC 5424: `TIMESTAMP HOST APP[PROCID]: MSG` (RSYSLOG_FileFormat; a nil time or host is replaced by
  the receive time / the peer; structured data stays in `structured_data`, as in the daemons' files).
* raw: the text itself.

Control characters other than TAB inside `line` are escaped as `#ooo` (rsyslog's `#012` for a line
feed), so one message is always one line; `message` keeps them. Year-less times take their year from
`received` with `ucsiem.parsing.stamps.with_year` (the rule every syslog parser of ucsiem uses).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Literal, NamedTuple

from ucsiem.errors import ParseError
from ucsiem.parsing.helpers import SYSLOG_FACILITIES, SYSLOG_SEVERITIES
from ucsiem.parsing.stamps import (
    ISO_STAMP,
    build_time,
    fraction_micro,
    month_number,
    utc_offset,
    with_year,
)

SyslogFormat = Literal["rfc5424", "rfc3164", "raw"]

# Flags: the deviations noticed (stable names, for counters and `log.syslog.*` / tags).
NO_PRI = "no_pri"  # no `<PRI>`: priority, facility and severity are None
BAD_PRI = "bad_pri"  # a `<...>` that is not a priority 0..191 (kept as text)
NO_TIMESTAMP = "no_timestamp"  # the sender wrote no time; `line` carries the receive time
BAD_TIMESTAMP = "bad_timestamp"  # a time that is no valid date (`Feb 30`, `25:00`, a leap second)
ISO_TIMESTAMP = "iso_timestamp"  # RFC 3164 with an ISO 8601 time
YEAR_INFERRED = "year_inferred"  # a year-less time took its year from the receive time
ZONE_ASSUMED = "zone_assumed"  # no UTC offset (or a zone name other than UTC/GMT): the time is in `tz`
NO_HOSTNAME = "no_hostname"  # no host name in the header; `line` carries the peer
NO_TAG = "no_tag"  # RFC 3164 header without a `tag[pid]:`
CISCO_SEQUENCE = "cisco_sequence"  # `<189>123: ...` sequence number(s)
CLOCK_UNSYNCED = "clock_unsynced"  # Cisco `*`: the clock was never set (no NTP, no calendar)
CLOCK_SYNC_LOST = "clock_sync_lost"  # Cisco `.`: the clock was set but is no longer synchronised
NIL_TIMESTAMP = "nil_timestamp"  # RFC 5424 `-` time
BOM = "bom"  # a UTF-8 byte order mark before the message (removed from `message` and `line`)
BAD_STRUCTURED_DATA = "bad_structured_data"  # RFC 5424 SD that is neither `-` nor `[...]` (kept as text)
TRUNCATED_HEADER = "truncated_header"  # RFC 5424 header with fields missing
OVERLONG_FIELD = "overlong_field"  # an RFC 5424 header field longer than the RFC allows (kept whole)
TRAILING_NUL = "trailing_nul"  # NUL bytes at the end (some senders' trailer), removed
INVALID_UTF8 = "invalid_utf8"  # bytes that are no UTF-8, replaced by U+FFFD
CONTROL_CHARS = "control_chars"  # control characters escaped as `#ooo` in `line`
OCTET_COUNT_PREFIX = "octet_count_prefix"  # `123 <PRI>...` (octet-counting framing) inside one datagram
LEADING_JUNK = "leading_junk"  # blanks or NULs before the message, removed
TRUNCATED = "truncated"  # cut at `max_bytes`
EMPTY = "empty"  # nothing but trailers
PARSER_ERROR = "parser_error"  # an internal error: the message was kept as raw (never expected)

_PRI = re.compile(r"<(\d{1,3})>")
_OCTET_PREFIX = re.compile(r"[1-9]\d{0,9} (?=<\d{1,3}>)")
_SEQUENCE = re.compile(r"(\d{1,10}): ")
_ORIGIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]{0,254}): ")
# The time at the start of RFC 3164 content, in the forms appliances use; `:` after it = Cisco style.
_STAMP = re.compile(
    r"([*.])?([A-Za-z]{3}) {1,2}(\d{1,2})(?: (\d{4}))? (\d\d):(\d\d):(\d\d)"
    r"(?: ?(AM|PM))?(?:[.,](\d{1,9}))?"
    r"(?:(?: ([A-Z]{1,6}|[+-]\d\d:?\d\d))? ?(:) ?| |$)"  # a zone name only before the Cisco `:`
)
_ISO_AT_START = re.compile(ISO_STAMP.pattern + r"(?= |$)")
_TAG = re.compile(r"([^\s\[\]:]{1,128})(?:\[([^\]\s]{0,128})\])?:(?: |$)")
_NOT_IN_HOST = frozenset('[]:="<>')
_UTC_NAMES = frozenset(("UTC", "GMT", "Z", "UT"))
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# 0 for the bytes `_CONTROL` matches, 1 for the rest: `0 in data.translate(_CONTROL_BYTES)` finds them
_CONTROL_BYTES = bytes(0 if (b < 0x20 and b != 0x09) or b == 0x7F else 1 for b in range(256))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # route_names reads no time: any will do
_MAX_5424 = {"hostname": 255, "app_name": 48, "procid": 128, "msgid": 32}


class SyslogMessage(NamedTuple):
    """One syslog message as received. Text fields are None when absent or nil (`-`). (A named tuple: three
    times cheaper to build than a frozen dataclass.)"""

    format: SyslogFormat
    priority: int | None
    facility: int | None
    severity: int | None
    timestamp: str | None
    """The time as the sender wrote it (without a Cisco `*`/`.` marker); None when it wrote none."""
    time: datetime | None
    """`timestamp` as an aware datetime; None when absent or invalid (see flags)."""
    hostname: str | None
    app_name: str | None
    procid: str | None
    msgid: str | None
    structured_data: str | None
    message: str
    line: str
    """The line a syslog daemon would have written to a file for this message (what parsers read)."""
    flags: tuple[str, ...] = ()
    sequence: int | None = None
    """Cisco sequence number (the first one when there are two: a message counter and a sequence)."""

    @property
    def facility_name(self) -> str | None:
        return None if self.facility is None else SYSLOG_FACILITIES[self.facility]

    @property
    def severity_name(self) -> str | None:
        return None if self.severity is None else SYSLOG_SEVERITIES[self.severity]


def parse_syslog(data: bytes, *, received: datetime, peer: str | None = None, tz: tzinfo = UTC,
                 max_bytes: int | None = None) -> SyslogMessage:
    """Parse one message (a UDP datagram, or one frame of a TCP stream). Never raises.

    `received` (aware) is when it arrived: the year of year-less times and the time of `line` for a
    message without one. `peer` is the sender's address or name, written into `line` when the message
    names no host (`-` when None). `tz` is the zone of times written without an offset. `max_bytes`
    cuts a longer message (flag `truncated`) at a character boundary.
    """
    if received.tzinfo is None:
        received = received.replace(tzinfo=tz)
    try:
        return _parse(data, received, peer or "-", tz, max_bytes)
    except Exception:  # a bug here must not lose the message: keep it raw, flagged
        text = bytes(data[: max_bytes or len(data)]).decode("utf-8", "replace")
        line, _ = escape_controls(text)
        return SyslogMessage("raw", None, None, None, None, None, None, None, None, None, None, text, line,
                             (PARSER_ERROR,))


# `<PRI>ISO-TIME HOST TAG[PID]: MSG` with one space between the parts: what Expressway, `logger` and most
# appliances with an RFC 3339 template send. Groups: PRI, the time (the same forms as ISO_STAMP: its local
# part, its offset), host, tag, pid.
_COMMON = re.compile(r"<(\d{1,3})>((\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?)(Z|[+-]\d\d:?\d\d)?) "
                     r'([^\s\[\]:="<>]{1,255}) ([^\s\[\]:]{1,128})(?:\[([^\]\s]{0,128})\])?: ')


CommonLine = tuple[str, int, str, str, tuple[str, ...]]  # line, priority, host name, app name, flags


def common_line(data: bytes, tz: tzinfo, max_bytes: int | None) -> CommonLine | None:
    """What the parse workers take from a message in the common shape (`_COMMON`): (line, priority,
    hostname, app_name, flags), as `parse_syslog` gives them, in a third of its time (the workers run this
    on every message received; a test holds the two equal). None for any other message, and for anything
    the general steps would change or flag (a cut, trailers, bad UTF-8, control characters, a BOM): those
    go to `parse_syslog`."""
    raw = data if data.__class__ is bytes else bytes(data)
    if (max_bytes is not None and len(raw) > max_bytes) or raw[-1:] in (b"\r", b"\n", b"\x00", b""):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    m = _COMMON.match(text)
    if m is None or 0 in raw.translate(_CONTROL_BYTES):  # what escape_controls would escape (a C loop)
        return None
    pri_text, stamp, local, offset, host, app, _ = m.groups()
    pri = int(pri_text)
    # ASCII without control characters has no BOM and nothing unprintable: one C scan answers both
    if pri > 191 or (not raw.isascii() and (text.startswith("\ufeff", m.end()) or not host.isprintable())):
        return None
    return text[len(pri_text) + 2:], pri, host, app, _stamp_flags(stamp, local, offset, tz)


def _stamp_flags(stamp: str, local: str, offset: str | None, tz: tzinfo) -> tuple[str, ...]:
    """The flags `_iso` gives a common-shape time, found with datetime's own ISO reader (C) and the offset
    cache; a time datetime refuses, or an offset out of range, takes the general rule."""
    try:
        datetime.fromisoformat(local)
        if offset is None:
            return _ZONE_AND_ISO
        utc_offset(offset)
        return _ISO_ONLY
    except (ValueError, ParseError):
        acc = _Acc(_EPOCH, tz)
        if (iso := ISO_STAMP.fullmatch(stamp)) is not None:
            _iso(acc, iso)
        acc.flag(ISO_TIMESTAMP)
        return tuple(acc.flags)


# Every control byte `escape_controls` escapes but LF (which joins a batch's messages), one `in` (memchr) each:
# over a whole batch, three times cheaper than `translate`, which maps every byte. As ints: `bytes in bytes`
# first tries the needle as an int, and raises and clears a TypeError doing so.
_CONTROL_CHARS = tuple(b for b in range(256) if _CONTROL_BYTES[b] == 0 and b != 0x0A)
_LF = 0x0A


def common_lines(datas: list[bytes], tz: tzinfo, max_bytes: int | None) -> list[CommonLine | None]:
    """`common_line` of each message of a batch, the steps that look at every byte (ASCII, control
    characters, decoding) run once over the whole batch: per message they were half of what a syslog
    message cost the workers more than a file line. A batch that is not all ASCII, or holds a control
    character, gets `common_line` message by message."""
    joined = b"\n".join(datas)
    if not joined.isascii() or any(char in joined for char in _CONTROL_CHARS):
        return [common_line(data, tz, max_bytes) for data in datas]
    text = joined.decode("ascii")  # ASCII: a message's bytes are its characters, at the same offsets
    match = _COMMON.match
    out: list[CommonLine | None] = []
    start = 0
    for data in datas:
        end = start + len(data)
        if ((max_bytes is not None and len(data) > max_bytes) or _LF in data
                or (m := match(text, start, end)) is None):
            out.append(None)  # to be cut, an LF inside (escaped by the general parse), not the common shape
        else:
            pri_text, stamp, local, offset, host, app, _ = m.groups()
            pri = int(pri_text)
            out.append(None if pri > 191 else
                       (text[start + len(pri_text) + 2:end], pri, host, app, _stamp_flags(stamp, local, offset, tz)))
        start = end + 1
    return out


_ISO_ONLY: tuple[str, ...] = (ISO_TIMESTAMP,)
_ZONE_AND_ISO: tuple[str, ...] = (ZONE_ASSUMED, ISO_TIMESTAMP)


def escape_controls(text: str) -> tuple[str, bool]:
    """Control characters other than TAB as `#ooo` (rsyslog's escaping: LF -> `#012`); (text, changed)."""
    if text.isprintable() or _CONTROL.search(text) is None:  # isprintable: a C loop, the common case's answer
        return text, False
    return _CONTROL.sub(lambda m: f"#{ord(m.group(0)):03o}", text), True


def received_stamp(received: datetime, tz: tzinfo) -> str:
    """The receive time as a traditional syslog file writes it: `Mar  5 10:15:02`."""
    local = received.astimezone(tz)
    return f"{local:%b} {local.day:2d} {local:%H:%M:%S}"


# -- internals -----------------------------------------------------------------------------------------


def _cut(data: bytes, limit: int) -> bytes:
    """The first `limit` bytes, minus a UTF-8 sequence the cut split."""
    head = data[:limit]
    back = 0
    while back < 3 and back < len(head) and (head[-1 - back] & 0xC0) == 0x80:
        back += 1
    if back < len(head):
        lead = head[-1 - back]
        need = 2 if lead >> 5 == 0b110 else 3 if lead >> 4 == 0b1110 else 4 if lead >> 3 == 0b11110 else 1
        if lead >= 0xC0 and need > back + 1:
            return head[: len(head) - back - 1]
    return head


class _Acc:
    """Mutable working state of one parse."""

    __slots__ = ("flags", "received", "tz")

    def __init__(self, received: datetime, tz: tzinfo) -> None:
        self.flags: list[str] = []
        self.received = received
        self.tz = tz

    def flag(self, name: str) -> None:
        if name not in self.flags:
            self.flags.append(name)


def _head(acc: _Acc, data: bytes, max_bytes: int | None) -> tuple[str, int | None, int]:
    """Cut, trailers and leading blanks removed, decoded, an octet-count prefix skipped, the PRI read:
    (text, priority, where the header starts)."""
    raw = bytes(data)
    if max_bytes is not None and len(raw) > max_bytes:
        raw = _cut(raw, max(max_bytes, 0))
        acc.flag(TRUNCATED)
    stripped = raw.rstrip(b"\r\n\x00")
    if 0 in raw[len(stripped):]:  # an int needle: `bytes in bytes` raises and clears a TypeError first
        acc.flag(TRAILING_NUL)
    lead = stripped.lstrip(b" \t\x00")
    if len(lead) != len(stripped) and lead.startswith(b"<"):
        acc.flag(LEADING_JUNK)
        stripped = lead
    try:
        text = stripped.decode("utf-8")
    except UnicodeDecodeError:
        text = stripped.decode("utf-8", "replace")
        acc.flag(INVALID_UTF8)
    if _blank(text):
        return text, None, 0
    if (m := _OCTET_PREFIX.match(text)) is not None:
        acc.flag(OCTET_COUNT_PREFIX)
        text = text[m.end():]
    pri: int | None = None
    pos = 0
    if (m := _PRI.match(text)) is not None and int(m.group(1)) <= 191:
        pri = int(m.group(1))
        pos = m.end()
    elif text.startswith("<"):
        acc.flag(BAD_PRI)
    return text, pri, pos


def _parse(data: bytes, received: datetime, peer: str, tz: tzinfo, max_bytes: int | None) -> SyslogMessage:
    acc = _Acc(received, tz)
    text, pri, pos = _head(acc, data, max_bytes)
    if _blank(text):
        acc.flag(EMPTY)
        return _finish(acc, "raw", None, None, None, None, None, None, None, None, text, text)
    if pri is not None and text.startswith("1 ", pos):
        return _rfc5424(acc, text, pos + 2, pri, peer)
    return _rfc3164(acc, text, pos, pri, peer)


def route_names(data: bytes, max_bytes: int | None = None) -> tuple[str | None, str | None]:
    """The host name and app name `parse_syslog` gives the message, without the rest of its work (times,
    the filed line, flags): what routing by `hostnames` / `app_names` needs, cheap enough for the event
    loop, while the parse workers do the full parse. The same steps as `parse_syslog` (a test holds them
    equal on fuzzed input). Never raises."""
    try:
        acc = _Acc(_EPOCH, UTC)
        text, pri, pos = _head(acc, data, max_bytes)
        if _blank(text):
            return None, None
        if pri is not None and text.startswith("1 ", pos):
            fields, _ = _header_fields_5424(text, pos + 2)
            return (_nil(fields[1]) if fields[1] else None), (_nil(fields[2]) if fields[2] else None)
        content = text[pos:]
        cpos, sequence, origin, stamp_m, iso_m = _shape_3164(content)
        if iso_m is not None and cpos == 0:
            return _names_3164(content, iso_m.end())
        if stamp_m is not None:
            if _cisco_style(stamp_m, cpos):
                return origin, None
            return _names_3164(content, stamp_m.end())
        if sequence is not None or pri is None:
            return origin, None
        tag = _TAG.match(content)
        return None, None if tag is None else tag.group(1)
    except Exception:  # as parse_syslog: a message it cannot read is raw, with neither name
        return None, None


def _finish(acc: _Acc, fmt: SyslogFormat, pri: int | None, stamp: str | None, when: datetime | None,
            host: str | None, app: str | None, procid: str | None, msgid: str | None, sd: str | None,
            message: str, line: str, sequence: int | None = None) -> SyslogMessage:
    if message.startswith("\ufeff"):
        acc.flag(BOM)
        message = message[1:]
        line = line.replace("\ufeff", "", 1)
    if host is None and fmt != "raw":
        acc.flag(NO_HOSTNAME)
    line, changed = escape_controls(line)
    if changed:
        acc.flag(CONTROL_CHARS)
    if pri is None and fmt != "raw":
        acc.flag(NO_PRI)
    return SyslogMessage(
        format=fmt, priority=pri, facility=None if pri is None else pri >> 3,
        severity=None if pri is None else pri & 7, timestamp=stamp, time=when, hostname=host, app_name=app,
        procid=procid, msgid=msgid, structured_data=sd, message=message, line=line, flags=tuple(acc.flags),
        sequence=sequence)


def _blank(text: str) -> bool:
    """`not text.strip()` without copying the text."""
    return not text or text.isspace()


def _iso(acc: _Acc, m: re.Match[str]) -> datetime | None:
    y, mo, d, h, mi, s, frac, off = m.groups()
    if off is None:
        acc.flag(ZONE_ASSUMED)
    try:  # ucsiem.parsing.stamps.iso_time, with the zone from utc_offset
        zone = (utc_offset(off) if off else None) or acc.tz
        return build_time(int(y), int(mo), int(d), int(h), int(mi), int(s), fraction_micro(frac), zone)
    except ParseError:
        acc.flag(BAD_TIMESTAMP)
        return None


def _nil(value: str) -> str | None:
    return None if value == "-" else value


def _sd_end(text: str, at: int) -> int | None:
    """Index just past the structured data `[..][..]` starting at `at`; None when it is malformed."""
    n = len(text)
    i = at
    while i < n and text[i] == "[":
        i += 1
        in_quotes = False
        while i < n:
            ch = text[i]
            if ch == "\\" and in_quotes:
                i += 2
                continue
            if ch == '"':
                in_quotes = not in_quotes
            elif ch == "]" and not in_quotes:
                break
            i += 1
        if i >= n:
            return None
        i += 1
    return i if i == n or text[i] == " " else None


def _header_fields_5424(text: str, pos: int) -> tuple[list[str], str]:
    """TIMESTAMP HOSTNAME APP-NAME PROCID MSGID (missing ones `-`) and the rest after them."""
    fields: list[str] = []
    for _ in range(5):
        end = text.find(" ", pos)
        if end < 0:
            fields.append(text[pos:])
            pos = len(text)
            break
        fields.append(text[pos:end])
        pos = end + 1
    rest = text[pos:] if len(fields) == 5 else ""
    return fields + ["-"] * (5 - len(fields)), rest


def _rfc5424(acc: _Acc, text: str, pos: int, pri: int, peer: str) -> SyslogMessage:
    fields, rest = _header_fields_5424(text, pos)
    if not rest:  # fields or the (required) structured data missing
        acc.flag(TRUNCATED_HEADER)
    stamp_text, host_text, app_text, procid_text, msgid_text = fields
    names = ("hostname", "app_name", "procid", "msgid")
    for name, value in zip(names, fields[1:], strict=True):
        if len(value) > _MAX_5424[name]:
            acc.flag(OVERLONG_FIELD)
    stamp = _nil(stamp_text) if stamp_text else None
    when: datetime | None = None
    if stamp is None:
        acc.flag(NIL_TIMESTAMP)
    elif (m := ISO_STAMP.fullmatch(stamp)) is not None:
        when = _iso(acc, m)
    else:
        acc.flag(BAD_TIMESTAMP)
    host = _nil(host_text) if host_text else None
    app = _nil(app_text) if app_text else None
    procid = _nil(procid_text) if procid_text else None
    msgid = _nil(msgid_text) if msgid_text else None
    sd: str | None = None
    message = ""
    if rest.startswith("-"):
        message = rest[2:] if rest.startswith("- ") else rest[1:]
        if rest[1:2] not in ("", " "):
            acc.flag(BAD_STRUCTURED_DATA)
            message = rest
    elif rest.startswith("["):
        sd_end = _sd_end(rest, 0)
        if sd_end is None:
            acc.flag(BAD_STRUCTURED_DATA)
            sd, message = rest, ""
        else:
            sd, message = rest[:sd_end], rest[sd_end + 1:]
    elif rest:
        acc.flag(BAD_STRUCTURED_DATA)
        message = rest
    body = message[1:] if message.startswith("\ufeff") else message
    head_time = stamp if stamp is not None and when is not None else acc.received.astimezone(acc.tz).isoformat()
    tag = "" if app is None else (f"{app}[{procid}]:" if procid is not None else f"{app}:")
    if tag and not body.startswith(" "):  # rsyslog relays `tag: msg` with the body's own leading space
        tag += " "
    line = f"{head_time} {host or peer} {tag}{body}" if body else f"{head_time} {host or peer} {tag}".rstrip(" ")
    return _finish(acc, "rfc5424", pri, stamp, when, host, app, procid, msgid, sd, message, line)


def _cisco_time(acc: _Acc, m: re.Match[str]) -> datetime | None:
    marker, mon, day, year, hh, mi, ss, ampm, frac, zone_text, _colon = m.groups()
    if marker == "*":
        acc.flag(CLOCK_UNSYNCED)
    elif marker == ".":
        acc.flag(CLOCK_SYNC_LOST)
    month = month_number(mon)
    if month is None:
        acc.flag(BAD_TIMESTAMP)
        return None
    hour = int(hh)
    if ampm is not None:
        if not 1 <= hour <= 12:
            acc.flag(BAD_TIMESTAMP)
            return None
        hour = hour % 12 + (12 if ampm.upper() == "PM" else 0)
    zone: tzinfo = acc.tz
    if zone_text:
        if zone_text.upper() in _UTC_NAMES:
            zone = UTC
        elif zone_text[0] in "+-":
            try:
                zone = utc_offset(zone_text) or acc.tz
            except ParseError:
                acc.flag(BAD_TIMESTAMP)
                return None
        else:
            acc.flag(ZONE_ASSUMED)
    else:
        acc.flag(ZONE_ASSUMED)
    try:
        if year is not None:
            return build_time(int(year), month, int(day), hour, int(mi), int(ss), fraction_micro(frac), zone)
        acc.flag(YEAR_INFERRED)
        return with_year(month, int(day), hour, int(mi), int(ss), fraction_micro(frac), zone, acc.received)
    except ParseError:
        acc.flag(BAD_TIMESTAMP)
        return None


def _valid_host(token: str) -> bool:
    return bool(token) and len(token) <= 255 and _NOT_IN_HOST.isdisjoint(token) and token.isprintable()


def _shape_3164(content: str) -> tuple[int, int | None, str | None, re.Match[str] | None, re.Match[str] | None]:
    """Where RFC 3164 content's parts are: (where the time may start, the Cisco sequence number, the Cisco
    origin host, a traditional/Cisco time there, else an ISO time there)."""
    # Cisco: sequence number(s) and an origin host before the time
    cpos = 0
    sequence: int | None = None
    origin: str | None = None
    for _ in range(3):
        if (m := _SEQUENCE.match(content, cpos)) is not None:
            if sequence is None:
                sequence = int(m.group(1))
            cpos = m.end()
            continue
        if (sequence is not None and origin is None and (m := _ORIGIN.match(content, cpos)) is not None
                and _STAMP.match(content, cpos) is None):
            origin = m.group(1)
            cpos = m.end()
            continue
        break
    stamp_m = _STAMP.match(content, cpos)
    iso_m = _ISO_AT_START.match(content, cpos) if stamp_m is None else None
    return cpos, sequence, origin, stamp_m, iso_m


def _cisco_style(stamp_m: re.Match[str], cpos: int) -> bool:
    """A time with a `:` after it, a `*`/`.` marker, or after a sequence number: the host is not next."""
    return stamp_m.group(11) is not None or stamp_m.group(1) is not None or cpos > 0


def _split_host(rest: str) -> tuple[str | None, str]:
    """RFC 3164 after the time: (the host name, what follows it), or (None, rest) when the first word is
    a tag or no host name."""
    first_end = rest.find(" ")
    first = rest if first_end < 0 else rest[:first_end]
    if _TAG.fullmatch(first) is not None or not _valid_host(first):
        return None, rest
    return first, "" if first_end < 0 else rest[first_end + 1:]


def _names_3164(content: str, after: int) -> tuple[str | None, str | None]:
    """`route_names` of `TIMESTAMP [HOST] [TAG[PID]:] MSG` with the time ending at `after`."""
    host, after_host = _split_host(content[after:].lstrip(" "))
    tag = _TAG.match(after_host)
    return host, None if tag is None else tag.group(1)


def _rfc3164(acc: _Acc, text: str, pos: int, pri: int | None, peer: str) -> SyslogMessage:
    content = text[pos:]
    cpos, sequence, origin, stamp_m, iso_m = _shape_3164(content)
    if sequence is not None:
        acc.flag(CISCO_SEQUENCE)
    if iso_m is not None and cpos == 0:
        return _header_3164(acc, text, pos, pri, peer, iso_m.group(0), _iso(acc, iso_m), iso_m.end(), True)
    if stamp_m is not None:
        if not _cisco_style(stamp_m, cpos):
            when = _cisco_time(acc, stamp_m)
            return _header_3164(acc, text, pos, pri, peer, stamp_m.group(0).rstrip(" "), when, stamp_m.end(), False)
        when = _cisco_time(acc, stamp_m)
        stamp = stamp_m.group(0)[1 if stamp_m.group(1) else 0:].rstrip(" :")
        message = content[stamp_m.end():].lstrip(" ")
        line = f"{received_stamp(acc.received, acc.tz)} {peer} {content}"
        return _finish(acc, "rfc3164", pri, stamp, when, origin, None, None, None, None, message, line, sequence)
    if sequence is not None:  # a sequence number and no time (`service timestamps` off, or uptime stamps)
        acc.flag(NO_TIMESTAMP)
        line = f"{received_stamp(acc.received, acc.tz)} {peer} {content}"
        return _finish(acc, "rfc3164", pri, None, None, origin, None, None, None, None, content[cpos:], line,
                       sequence)
    if pri is None:
        return _finish(acc, "raw", None, None, None, None, None, None, None, None, text, text)
    acc.flag(NO_TIMESTAMP)
    app = procid = None
    message = content
    if (m := _TAG.match(content)) is not None:
        app, procid = m.group(1), m.group(2) or None
        message = content[m.end():]
    line = f"{received_stamp(acc.received, acc.tz)} {peer} {content}"
    return _finish(acc, "rfc3164", pri, None, None, None, app, procid, None, None, message, line)


def _header_3164(acc: _Acc, text: str, pos: int, pri: int | None, peer: str, stamp: str,
                 when: datetime | None, after: int, iso: bool) -> SyslogMessage:
    """`TIMESTAMP [HOST] [TAG[PID]:] MSG` with the time ending at `pos + after`."""
    if iso:
        acc.flag(ISO_TIMESTAMP)
    content = text[pos:]
    rest_at = after
    while content.startswith(" ", rest_at):
        rest_at += 1
    rest = content[rest_at:]
    host, after_host = _split_host(rest)
    line = f"{stamp} {rest}"  # as sent
    if host is None:  # the peer stands for the host name a daemon would have written
        line = f"{stamp} {peer} {rest}" if rest else f"{stamp} {peer}"
    app = procid = None
    message = after_host
    if (m := _TAG.match(after_host)) is not None:
        app, procid = m.group(1), m.group(2) or None
        message = after_host[m.end():]
    else:
        acc.flag(NO_TAG)
    return _finish(acc, "rfc3164", pri, stamp, when, host, app, procid, None, None, message, line)
