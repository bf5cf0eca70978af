"""Asterisk logs: entry point `parse` and the logger header.

A record is one line of an Asterisk log file (`messages`, `full`, `security`), or one line Asterisk
sent to syslog as a receiver stored it:

    [2024-03-05 10:15:02] NOTICE[2417][C-00000003] chan_sip.c: <message>              default format
    [2024-03-05 10:15:02.123] NOTICE[2417]: chan_sip.c:28468 handle_request_register: <message>   plain
    [Mar  5 10:15:02] NOTICE [2417] manager.c: <message>                                 year-less, blank
    Mar  5 10:15:02 pbx01 asterisk[2400]: NOTICE[2417]: chan_sip.c:23417 in handle_request_register: <m>
    2024-03-05T10:15:02.123456+01:00 pbx01 asterisk[2400]: NOTICE[2417]: ...             receiver ISO time

`security.py` reads `SecurityEvent=` messages, `messages.py` the free-text families. All regexes are
anchored and bounded (linear on any input).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ucsiem.parsing import SYSLOG_FACILITIES, SYSLOG_SEVERITIES, ParseContext, ParsedEvent, ParseError, RawRecord, prune

from .messages import classify
from .security import parse_security
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


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One Asterisk log record (a line, plus the lines that continue it) -> one event; raises
    ParseError for anything else. Only the first line is classified; continuation lines are kept in
    `message`."""
    try:
        return [_parse(record.text, ctx)]
    except OverflowError:  # date arithmetic next to year 1 or 9999
        raise ParseError("bad_timestamp", "time stamp out of the representable range") from None


def _syslog_fields(m: re.Match[str], event: ParsedEvent) -> None:
    log = event["log"]
    syslog: dict[str, Any] = {"hostname": m["host"], "appname": m["prog"]}
    if m["pri"] is not None:
        pri = int(m["pri"])
        if pri > 191:
            raise ParseError("no_match", f"bad syslog priority <{pri}>")
        syslog["priority"] = pri
        syslog["facility"] = {"code": pri >> 3, "name": SYSLOG_FACILITIES[pri >> 3]}
        syslog["severity"] = {"code": pri & 7, "name": SYSLOG_SEVERITIES[pri & 7]}
    log["syslog"] = syslog
    event["observer"] = {"hostname": m["host"]}
    process: dict[str, Any] = {"name": m["prog"]}
    if m["pid"] is not None:
        process["pid"] = int(m["pid"])
    event["process"] = process


def _parse(text: str, ctx: ParseContext) -> ParsedEvent:
    nl = text.find("\n")
    line = (text if nl < 0 else text[:nl]).rstrip("\r")
    more = "" if nl < 0 else text[nl + 1:].strip()
    if not line.strip():
        raise ParseError("no_match", "empty record")
    event: ParsedEvent = {"event": {"kind": "event"}, "log": {}}
    vendor: dict[str, Any] = {}
    tags: list[str] = []
    received: datetime | None = None
    pos = 0
    if not line.startswith("["):
        sm = _SYSLOG.match(line)
        if sm is None:
            raise ParseError("no_match", f"neither '[date] LEVEL[thread] file: message' nor a syslog line: "
                             f"{line[:SHOWN]!r}")
        _syslog_fields(sm, event)
        stamp = sm["bsd"] or sm["iso"]
        received = parse_stamp(stamp, ctx.timezone, ctx.reference_time, "syslog time")
        pos = sm.end()
        if not line[pos:].strip():
            raise ParseError("truncated", f"syslog header without a message: {line[:SHOWN]!r}")
    head = _FILE_HEAD.match(line, pos) if line.startswith("[", pos) else None
    if head is not None:
        event["@timestamp"] = parse_stamp(head["ts"], ctx.timezone, received or ctx.reference_time, "log time")
        if received is not None:
            event["event"]["created"] = received
    else:
        head = _SYSLOG_BODY.match(line, pos) if received is not None else None
        if head is None:
            raise ParseError("no_match", f"no 'LEVEL[thread]' logger header: {line[:SHOWN]!r}")
        event["@timestamp"] = received
    level = head["level"]
    event["log"]["level"] = level.lower()
    vendor["lwp"] = int(head["lwp"])
    if head["callid"]:
        event["uc"] = {"call": {"id": head["callid"]}}
    pos = head.end()

    dialplan = False
    if line.startswith("Ext. ", pos) and (dm := _DIALPLAN.match(line, pos)) is not None:
        dialplan = True
        event["event"]["provider"] = "dialplan"
        vendor["extension"] = dm["exten"]
        if dm["prio"]:
            vendor["priority"] = int(dm["prio"])
        if dm["ctx"]:
            vendor["context"] = dm["ctx"]
        pos = dm.end()
    elif (fm := _SOURCE.match(line, pos)) is not None:
        event["log"]["logger"] = fm["file"]
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
    event["message"] = f"{msg}\n{more}" if more else msg

    if msg.startswith("SecurityEvent="):
        parse_security(msg, event, vendor, tags)
    else:
        classify(msg, event, vendor, tags, dialplan)
    if vendor:
        event.setdefault("uc", {})["vendor"] = vendor
    if tags:
        event["tags"] = tags
    return prune(event)
