"""The three shapes a CMS line comes in, and their time stamps.

    <PRI>?Mmm dd HH:MM:SS[.mmm] facility.severity host [container] process[pid]: body   remote syslog / syslog file
    YYYY-MM-DDTHH:MM:SS[.mmm] facility.severity host process: body                     same, ISO time (CMS 3.9)
    YYYY-MM-DD  HH:MM:SS.mmm  Info|Warning|Error  message                               web admin event log view

The `facility.severity` word is part of what CMS writes (it is present even in the network form that
Splunk SC4S parses), so a line without it is not a CMS syslog line. Stamps carry no zone: they take
`ParseContext.timezone`; year-less ones the year that puts them no more than a day after the reference
time. Patterns are anchored, with bounded repeats only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from ucsiem.parsing import (
    ParseError,
    build_time,
    fraction_micro,
    month_number,
    syslog_facility,
    syslog_severity,
    with_year,
)

SHOWN = 96

_PRI = re.compile(r"<(\d{1,3})>")
_BSD = re.compile(r"([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? ")
_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? ")
_EVENTLOG = re.compile(r"(\d{4})-(\d\d)-(\d\d) {1,2}(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? {1,8}"
                       r"(Info|Warning|Error|Debug|Trace)(?: {1,16}|$)")
_TAIL = re.compile(
    r"(?P<fac>[a-z][a-z0-9]{1,11})\.(?P<sev>[a-z]{3,9}) {1,4}(?P<host>[^\s]{1,255}) {1,4}"
    r"(?:(?P<container>[0-9a-f]{12}) {1,4})?"
    r"(?P<prog>[A-Za-z][A-Za-z0-9_.:-]{0,127}?)(?:\[(?P<pid>\d{1,10})\])?:(?: {1,8}|$)")
# Call Bridge / web app / streamer bodies: `INFO : text`, `INFO    : text`, `201211.628 : INFO : text`
_LEVEL = re.compile(r"(?:\d{6}\.\d{3} : )?(?P<level>[A-Z]{0,8}) {0,8}: ")


@dataclass
class Header:
    """What the line says before the message text."""

    timestamp: datetime
    message: str
    level: str | None = None
    syslog: dict[str, object] = field(default_factory=dict)
    host: str | None = None
    process: str | None = None
    pid: int | None = None
    container: str | None = None


def _build(parts: tuple[str | None, ...], tz: tzinfo) -> datetime:
    y, mo, d, h, mi, s, frac = parts
    return build_time(int(y or 0), int(mo or 0), int(d or 0), int(h or 0), int(mi or 0), int(s or 0),
                      fraction_micro(frac), tz, "the line's time")


def _level(body: str) -> tuple[str | None, str]:
    m = _LEVEL.match(body)
    if m is None:
        return None, body
    return (m["level"].lower() or None), body[m.end():]


def read_header(text: str, tz: tzinfo, reference: datetime) -> Header:
    """The header of a one-line record; ParseError when it is none of the CMS shapes, has several lines or
    nothing after the header."""
    line = text.strip("\r\n")
    if "\n" in line:
        raise ParseError("unsupported_variant", "a CMS record is one line; this one has several")
    if not line.strip():
        raise ParseError("no_match", "empty record")
    header = _split(line, tz, reference)
    if not header.message:
        raise ParseError("truncated", f"a CMS header without a message: {line[:SHOWN]!r}")
    return header


def _split(line: str, tz: tzinfo, reference: datetime) -> Header:
    """Split one line into header fields and message; ParseError when it is none of the CMS shapes."""
    m = _EVENTLOG.match(line)
    if m is not None:
        stamp = _build(m.groups()[:7], tz)
        return Header(stamp, line[m.end():].strip(), level=m[8].lower())
    pos = 0
    syslog: dict[str, object] = {}
    pm = _PRI.match(line)
    if pm is not None:
        pri = int(pm[1])
        if pri > 191:
            raise ParseError("no_match", f"bad syslog priority <{pri}>")
        syslog["priority"] = pri
        pos = pm.end()
    bm = _BSD.match(line, pos)
    if bm is not None:
        mon, d, h, mi, s, frac = bm.groups()
        month, day = month_number(mon), int(d)
        if month is None:
            raise ParseError("bad_timestamp", f"unknown month in the syslog time: {line[:SHOWN]!r}")
        stamp = with_year(month, day, int(h), int(mi), int(s), fraction_micro(frac), tz, reference,
                          what="the syslog time")
        pos = bm.end()
    else:
        im = _ISO.match(line, pos)
        if im is None:
            raise ParseError("no_match", "neither a CMS syslog line ('Mmm dd HH:MM:SS facility.severity host "
                             f"process: ...') nor an event log line ('YYYY-MM-DD  HH:MM:SS  Info ...'): "
                             f"{line[:SHOWN]!r}")
        stamp = _build(im.groups(), tz)
        pos = im.end()
    tm = _TAIL.match(line, pos)
    if tm is None:
        raise ParseError("no_match", f"no 'facility.severity host process:' after the time: {line[:SHOWN]!r}")
    facility, severity = syslog_facility(tm["fac"]), syslog_severity(tm["sev"])
    if facility is None or severity is None:
        raise ParseError("no_match", f"not a syslog facility.severity: {tm['fac']}.{tm['sev']}")
    syslog["facility"] = {"name": facility[0], "code": facility[1]}
    syslog["severity"] = {"name": severity[0], "code": severity[1]}
    level, message = _level(line[tm.end():].lstrip(" "))
    return Header(stamp, message.strip(), level=level, syslog=syslog, host=tm["host"], process=tm["prog"],
                  pid=int(tm["pid"]) if tm["pid"] else None, container=tm["container"])
