"""The syslog envelope of the SBC: the three documented header shapes.

Header shapes (Oracle SBC Security Guide, appendix "Syslog"):

    May  3 17:06:10 172.41.3.90 CSE-4500-20 acliConsole[31ac9b6c] AUTH <text>     remote syslog
    Dec 18 13:39:44.121 acliTelnet0@SBC1: WARNING <text>                          local log style
    Mar 20 10:27:24.119 acliConsole@: AUTH[53] <text>                             local, no host
    Jun 16 15:26:02.800 [MINOR] (0) loginLocal:[0:2801] <text>                    class + task

The stamps have no year and no zone: the year comes from `ctx.reference_time` (the shared rule of
`ucsiem.parsing.stamps`), the time is read in `ctx.timezone`. All patterns are anchored, bounded and
without nested quantifiers.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, NamedTuple

from ucsiem.parsing import BSD_STAMP, YEAR_SLACK, ParseContext, ParseError, bsd_time, canonical_ip, priority_fields

from .values import LEVELS

_STAMP = r"(?P<ts>[A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d(?:\.\d{1,6})?)"
_PRI = r"(?:<(?P<pri>\d{1,3})>)?"
REMOTE = re.compile(_PRI + _STAMP + r" (?:(?P<ip>[0-9A-Fa-f:.]{3,45}) )?(?P<host>[^\s\[\]]{1,255}) "
                    r"(?P<task>[A-Za-z][A-Za-z0-9_]{0,63})\[(?P<tid>[0-9A-Fa-f]{1,16})\] "
                    r"(?P<level>[A-Z][A-Z_]{1,15})(?:\[(?P<n>\d{1,10})\])? ")
LOCAL = re.compile(_PRI + _STAMP + r" (?P<task>[A-Za-z][A-Za-z0-9_]{0,63})@(?P<host>[^\s:]{0,255}): "
                   r"(?P<level>[A-Z][A-Z_]{1,15})(?:\[(?P<n>\d{1,10})\])? ")
CLASSED = re.compile(_PRI + _STAMP + r" \[(?P<level>[A-Z][A-Z_ ]{1,23})\] \((?P<n>\d{1,10})\) "
                     r"(?P<task>[A-Za-z][A-Za-z0-9_]{0,63}): ?")
_MAX_PRIORITY = 191


class Header(NamedTuple):
    time: datetime
    syslog: dict[str, Any]  # the PRI's log.syslog members, when there was one
    task: str
    level: str
    severity: int | None  # the Acme level as a number (1 = most severe)
    host: str | None
    sender_ip: str | None
    task_id: str | None
    number: str | None
    text: str  # the message after the header, for body.py


def read_header(text: str, ctx: ParseContext) -> Header | None:
    """The header of a syslog record, None when the text has none of the three shapes."""
    for pattern in (REMOTE, LOCAL, CLASSED):
        m = pattern.match(text)
        if m is None:
            continue
        groups = m.groupdict()
        sender = groups.get("ip")
        sender_ip = None
        if sender is not None:
            sender_ip = canonical_ip(sender)
            if sender_ip is None:
                raise ParseError("bad_field", f"sender address is not an IP: {sender[:48]!r}")
        syslog: dict[str, Any] = {}
        if groups.get("pri"):
            pri = int(groups["pri"])
            if pri > _MAX_PRIORITY:
                raise ParseError("bad_field", f"syslog priority out of range: {pri}")
            syslog = priority_fields(pri)
        level = groups["level"].strip()
        found = LEVELS.get(level)
        return Header(
            time=syslog_time(groups["ts"], ctx), syslog=syslog, task=groups["task"], level=level,
            severity=found[0] if found is not None else None, host=groups.get("host") or None,
            sender_ip=sender_ip, task_id=groups.get("tid"), number=groups.get("n"), text=text[m.end():].strip())
    return None


def syslog_time(stamp: str, ctx: ParseContext) -> datetime:
    """`May  3 17:06:10` / `Dec 18 13:39:44.121` -> aware time in `ctx.timezone`, year from the reference."""
    m = BSD_STAMP.fullmatch(stamp)
    if m is None:
        raise ParseError("bad_timestamp", f"not a 'Mon dd hh:mm:ss' stamp: {stamp[:40]!r}")
    reference = ctx.reference_time
    # A reference time at the calendar's edges (year 1, 9999) is an OverflowError here, which parse()
    # reports as out of range; the shared rule would pick a year instead.
    reference.astimezone(ctx.timezone)
    if reference.replace(tzinfo=None) > datetime.max - YEAR_SLACK:
        raise OverflowError("reference time at the end of year 9999")
    return bsd_time(m, ctx.timezone, reference)
