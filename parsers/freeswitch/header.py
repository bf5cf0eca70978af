"""The envelope of a FreeSWITCH log record: a receiver's syslog prefix, the line header, its time stamps.

A record is one `freeswitch.log` line (plus the lines that continue a multi-line message), or the
same line as a syslog/journald receiver stored it:

    2024-03-05 10:15:02.117815 [WARNING] sofia_reg.c:1478 <message>
    2024-03-05 10:15:02.117815 95.12% [WARNING] sofia_reg.c:2889 <message>       CPU idle (1.10+)
    a1b2c3d4-...-0123456789ab 2024-03-05 10:15:02.117815 [NOTICE] switch_channel.c:1133 <message>
                                                          session UUID (mod_logfile uuid=true)
    03-05 10:15:02.117815 [WARN] [SOFIA] [sofia_reg.c:2248] <message>          year-less variant
    2024-03-05T10:15:02.117815 pbx01 freeswitch[1234]: 2024-03-05 10:15:02.117815 [WARNING] ...
    Mar  5 10:15:02 pbx01 freeswitch[1234]: 2024-03-05 10:15:02.117815 [WARNING] ...

FreeSWITCH writes local time without a zone: naive stamps take `ParseContext.timezone`, year-less
ones the year that keeps them no later than a day after `ParseContext.reference_time`. The
syslog receiver's stamp, when present, goes to `event.created`. All regexes are anchored and bounded.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, NamedTuple

from ucsiem.parsing import (
    BSD_STAMP,
    ISO_STAMP,
    ParseContext,
    ParsedEvent,
    ParseError,
    build_time,
    fraction_micro,
    iso_time,
    month_number,
    syslog_header_fields,
    with_year,
)

SHOWN = 96
_MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

# Where a record starts; other lines continue it (e.g. the `Register:` debug block).
FIRST_LINE_PATTERN = (
    r"(?:" + _UUID + r" )?"
    r"(?:(?:[0-9]{4}-)?[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"|<[0-9]{1,3}>|" + _MONTH + r" {1,2}[0-9]{1,2} [0-9]{2}:[0-9]{2}:[0-9]{2} )"
)

_SYSLOG = re.compile(
    r"(?:<(?P<pri>\d{1,3})>)?"
    r"(?:(?P<bsd>" + _MONTH + r" {1,2}\d{1,2} \d\d:\d\d:\d\d(?:\.\d{1,6})?)"
    r"|(?P<iso>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?)) "
    r"(?P<host>[^\s\[\]]{1,255}) (?P<prog>[A-Za-z0-9_./-]{1,64})(?:\[(?P<pid>\d{1,10})\])?: ")
_LINE = re.compile(
    r"(?:(?P<uuid>" + _UUID + r") )?"
    r"(?:(?P<y>\d{4})-)?(?P<mo>\d\d)-(?P<d>\d\d) (?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)(?:\.(?P<f>\d{1,9}))? "
    r"(?:(?P<idle>\d{1,3}\.\d{1,2})% )?"
    r"\[(?P<level>[A-Za-z]{2,8})\] "
    r"(?:\[(?P<subsys>[A-Za-z0-9_]{1,32})\] \[(?P<bfile>[A-Za-z0-9_./-]{1,128}):(?P<bline>\d{1,7})\]"
    r"|(?P<file>[A-Za-z0-9_./-]{1,128}):(?P<line>\d{1,7}))(?: |$)")


def _receiver_time(m: re.Match[str], ctx: ParseContext) -> datetime:
    if m["iso"]:
        t = ISO_STAMP.fullmatch(m["iso"])
        assert t is not None  # the syslog pattern only lets this shape through
        return iso_time(t, ctx.timezone, "syslog time")
    t = BSD_STAMP.fullmatch(m["bsd"])
    assert t is not None
    mon, d, h, mi, s, f = t.groups()
    month = month_number(mon)
    assert month is not None  # the syslog pattern only lets the twelve month names through
    return with_year(month, int(d), int(h), int(mi), int(s), fraction_micro(f), ctx.timezone,
                     ctx.reference_time, what="syslog time")


class Header(NamedTuple):
    time: datetime
    created: datetime | None  # the syslog receiver's time
    level: str
    logger: str  # the source file
    line: int
    subsystem: str | None
    cpu_idle: float | None
    leg_id: str | None  # the session UUID (mod_logfile uuid=true)
    syslog: dict[str, Any] | None  # log.syslog, observer, process of a receiver's prefix
    observer: dict[str, Any] | None
    process: dict[str, Any] | None
    text: str  # the first line's message
    more: str  # the lines that continue it
    message: str  # both


def read_header(text: str, ctx: ParseContext) -> Header:
    """One FreeSWITCH log record -> its header and message; ParseError for anything else."""
    nl = text.find("\n")
    line = (text if nl < 0 else text[:nl]).rstrip("\r")
    more = "" if nl < 0 else text[nl + 1:].strip()
    if not line.strip():
        raise ParseError("no_match", "empty record")
    envelope: ParsedEvent = {}
    received: datetime | None = None
    pos = 0
    if not line.startswith(("[", " ")):  # a receiver prefix, if any (a bare FreeSWITCH line fails it)
        sm = _SYSLOG.match(line)
        if sm is not None:
            syslog_header_fields(envelope, host=sm["host"], program=sm["prog"], pri=sm["pri"], pid=sm["pid"])
            received = _receiver_time(sm, ctx)
            pos = sm.end()
            if not line[pos:].strip():
                raise ParseError("truncated", f"syslog header without a message: {line[:SHOWN]!r}")
    m = _LINE.match(line, pos)
    if m is None:
        raise ParseError("no_match", f"not a FreeSWITCH log line ('<date> <time> [LEVEL] file.c:line message'): "
                         f"{line[:SHOWN]!r}")
    hms = (int(m["h"]), int(m["mi"]), int(m["s"]), fraction_micro(m["f"]))
    if m["y"]:
        time = build_time(int(m["y"]), int(m["mo"]), int(m["d"]), *hms, ctx.timezone, "log time")
    else:
        time = with_year(int(m["mo"]), int(m["d"]), *hms, ctx.timezone, received or ctx.reference_time,
                         what="log time")
    msg = line[m.end():].strip()
    if not msg and not more:
        raise ParseError("truncated", f"log header without a message: {line[:SHOWN]!r}")
    return Header(time, received, m["level"].lower(), m["file"] or m["bfile"], int(m["line"] or m["bline"]),
                  m["subsys"] or None, float(m["idle"]) if m["idle"] else None,
                  m["uuid"].lower() if m["uuid"] else None,
                  envelope["log"]["syslog"] if envelope else None, envelope.get("observer"),
                  envelope.get("process"), msg, more, f"{msg}\n{more}" if more else msg)
