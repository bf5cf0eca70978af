"""The envelope of an Asterisk log record: a syslog receiver's prefix, the logger header, the source.

A record is one line of an Asterisk log file (`messages`, `full`, `security`), or one line Asterisk
sent to syslog as a receiver stored it:

    [2024-03-05 10:15:02] NOTICE[2417][C-00000003] chan_sip.c: <message>              default format
    [2024-03-05 10:15:02.123] NOTICE[2417]: chan_sip.c:28468 handle_request_register: <message>   plain
    [Mar  5 10:15:02] NOTICE [2417] manager.c: <message>                                 year-less, blank
    Mar  5 10:15:02 pbx01 asterisk[2400]: NOTICE[2417]: chan_sip.c:23417 in handle_request_register: <m>
    2024-03-05T10:15:02.123456+01:00 pbx01 asterisk[2400]: NOTICE[2417]: ...             receiver ISO time

plus the lines that continue it. All regexes are anchored and bounded (linear on any input).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, NamedTuple

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, syslog_header_fields

from .stamps import parse_stamp

SHOWN = 96  # characters of a bad record quoted in an error message

_SYSLOG = re.compile(
    r"(?:<(?P<pri>\d{1,3})>)?"
    r"(?:(?P<bsd>[A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d(?:\.\d{1,6})?)"
    r"|(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?)) "
    r"(?P<host>[^\s\[\]]{1,255}) (?P<prog>[A-Za-z0-9_./-]{1,64})(?:\[(?P<pid>\d{1,10})\])?: ")
_FILE_HEAD = re.compile(
    r"\[(?P<ts>[^\[\]]{8,40})\] (?P<level>[A-Za-z][A-Za-z0-9_]{0,19}) ?\[(?P<lwp>\d{1,10})\]"
    r"(?:\[(?P<callid>C-[0-9A-Fa-f]{1,16})\])?:? ")
_SYSLOG_BODY = re.compile(
    r"(?P<level>[A-Za-z][A-Za-z0-9_]{0,19}) ?\[(?P<lwp>\d{1,10})\](?:\[(?P<callid>C-[0-9A-Fa-f]{1,16})\])?:? ")
# `file: `, `file:line function: ` (plain formatter), `file:line in function: ` (syslog)
_SOURCE = re.compile(
    r"(?P<file>[A-Za-z0-9_][A-Za-z0-9_./-]{0,127})"
    r"(?::(?P<line>\d{1,7})(?: in)? (?P<func>[A-Za-z_][A-Za-z0-9_]{0,127}))?: ")
# dialplan Log(): the "file" is `Ext. <exten>`, the line the priority, the function the context
_DIALPLAN = re.compile(r"Ext\. (?P<exten>[^:]{0,256})(?::(?P<prio>\d{1,7})(?: in)? (?P<ctx>[^:\s]{1,80}))?: ")
_MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
# Where a record starts; other lines continue it (multi-line messages such as SIP debug dumps).
FIRST_LINE_PATTERN = (
    r"(?:<[0-9]{1,3}>)?"
    r"(?:\[(?:[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:|" + _MONTH + r" [ 0-9]?[0-9] [0-9]{2}:)"
    r"|" + _MONTH + r" {1,2}[0-9]{1,2} [0-9]{2}:[0-9]{2}:[0-9]{2} "
    r"|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})"
)
_VERBOSE_MARK = re.compile(r"\s{0,16}(?:(?:--|==|>)\s{1,8})?")


class Header(NamedTuple):
    time: datetime  # the logger's time, or the receiver's when the syslog form has none
    created: datetime | None  # the receiver's time when a file header follows it
    level: str
    leg_id: str | None  # `[C-0000001d]`: the call on this Asterisk only (uc.call.leg_id)
    logger: str | None  # the source file
    dialplan: bool  # `Ext. <exten>`: a dialplan Log() line
    vendor: dict[str, Any]  # uc.vendor members the header gives (lwp, line, function, extension, ...)
    syslog: dict[str, Any] | None  # log.syslog, observer, process of a syslog receiver's prefix
    observer: dict[str, Any] | None
    process: dict[str, Any] | None
    text: str  # the first line's message: what is classified
    message: str  # the message with its continuation lines


def read_header(text: str, ctx: ParseContext) -> Header:
    """One Asterisk log record -> its header and message; ParseError when it has neither a logger header
    nor a syslog prefix, or no message."""
    nl = text.find("\n")
    line = (text if nl < 0 else text[:nl]).rstrip("\r")
    more = "" if nl < 0 else text[nl + 1:].strip()
    if not line.strip():
        raise ParseError("no_match", "empty record")
    vendor: dict[str, Any] = {}
    received: datetime | None = None
    envelope: ParsedEvent = {}
    pos = 0
    if not line.startswith("["):
        sm = _SYSLOG.match(line)
        if sm is None:
            raise ParseError("no_match", f"neither '[date] LEVEL[thread] file: message' nor a syslog line: "
                             f"{line[:SHOWN]!r}")
        syslog_header_fields(envelope, host=sm["host"], program=sm["prog"], pri=sm["pri"], pid=sm["pid"])
        received = parse_stamp(sm["bsd"] or sm["iso"], ctx.timezone, ctx.reference_time, "syslog time")
        pos = sm.end()
        if not line[pos:].strip():
            raise ParseError("truncated", f"syslog header without a message: {line[:SHOWN]!r}")
    head = _FILE_HEAD.match(line, pos) if line.startswith("[", pos) else None
    created: datetime | None = None
    if head is not None:
        time = parse_stamp(head["ts"], ctx.timezone, received or ctx.reference_time, "log time")
        created = received
    else:
        head = _SYSLOG_BODY.match(line, pos) if received is not None else None
        if head is None or received is None:
            raise ParseError("no_match", f"no 'LEVEL[thread]' logger header: {line[:SHOWN]!r}")
        time = received
    level = head["level"]
    vendor["lwp"] = int(head["lwp"])
    pos = head.end()

    dialplan = False
    logger: str | None = None
    if line.startswith("Ext. ", pos) and (dm := _DIALPLAN.match(line, pos)) is not None:
        dialplan = True
        vendor["extension"] = dm["exten"]
        if dm["prio"]:
            vendor["priority"] = int(dm["prio"])
        if dm["ctx"]:
            vendor["context"] = dm["ctx"]
        pos = dm.end()
    elif (fm := _SOURCE.match(line, pos)) is not None:
        logger = fm["file"]
        if fm["line"]:
            vendor["line"] = int(fm["line"])
        if fm["func"]:
            vendor["function"] = fm["func"]
        pos = fm.end()
    if level.upper() == "VERBOSE":
        mark = _VERBOSE_MARK.match(line, pos)
        pos = mark.end() if mark is not None else pos
    msg = line[pos:].strip()
    if not msg and more:  # the message starts on the next line (SIP debug dumps)
        cut = more.find("\n")
        msg, more = (more, "") if cut < 0 else (more[:cut].strip(), more[cut + 1:])
    if not msg:
        raise ParseError("truncated", f"logger header without a message: {line[:SHOWN]!r}")
    return Header(time, created, level.lower(), head["callid"] or None, logger, dialplan, vendor,
                  envelope["log"]["syslog"] if envelope else None, envelope.get("observer"),
                  envelope.get("process"), msg, f"{msg}\n{more}" if more else msg)
