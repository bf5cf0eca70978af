"""Jitsi Meet logs: entry point `parse` and the line headers of its components.

    Jicofo 2024-06-02 17:50:34.496 INFO: [22] ConferenceIqHandler.handleConferenceIq#86: <message>   jicofo.log
    2020-05-22 13:51:21.125 SEVERE: [20] RetryStrategy$TaskRunner.run#198: <message>                jvb.log
    May 08 07:50:47 c2s55a9832f7d40<TAB>info<TAB>Client connected                                    prosody.log
    2025-03-22 21:01:26 meet.jitsi:tokenauth      warn<TAB>Failed to verify access token: (nil)   prosody (docker)
    Jan 29 17:19:51 host prosody[93851]: startup   #033[1minfo#033[0m#011Hello and welcome ... console via syslog
    Nov 04 00:32:52 host prosody[2526]: c2s2304d390: Sending[c2s]: <presence ...>              Prosody's syslog sink

`jicofo.py` reads the Java components, `prosody.py` the XMPP server. Regexes are anchored and bounded.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ucsiem.parsing import SYSLOG_FACILITIES, SYSLOG_SEVERITIES, ParseContext, ParsedEvent, ParseError, RawRecord, prune

from .jicofo import HEAD as JICOFO_HEAD
from .jicofo import classify_message as classify_jicofo
from .jicofo import read_logger
from .prosody import classify_message as classify_prosody
from .prosody import clean, read_source, split_file_body, split_sink_body
from .stamps import parse_stamp

SHOWN = 96  # characters of a bad record quoted in an error message
_MONTH = r"[A-Za-z]{3}"
# Where a record starts; other lines (Java stack traces) continue it.
FIRST_LINE_PATTERN = (
    r"(?:<[0-9]{1,3}>)?(?:(?:(?:Jicofo|JVB|Jigasi|Jibri) )?[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}"
    r"|" + _MONTH + r" {1,2}[0-9]{1,2} [0-9]{2}:[0-9]{2}:[0-9]{2} )"
)
_BSD_TIME = re.compile(r"[A-Za-z]{3} {1,2}\d{1,2} \d\d:\d\d:\d\d(?:\.\d{1,6})? ")
_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})? ")
_SYSLOG = re.compile(
    r"(?:<(?P<pri>\d{1,3})>)?"
    r"(?:(?P<bsd>[A-Za-z]{3} {1,2}\d{1,2} \d\d:\d\d:\d\d(?:\.\d{1,6})?)"
    r"|(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?)) "
    r"(?P<host>[^\s\[\]]{1,255}) (?P<prog>[A-Za-z0-9_./-]{1,64})(?:\[(?P<pid>\d{1,10})\])?: ")


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One Jicofo/JVB record (with its continuation lines) or one Prosody line -> one event."""
    try:
        return [_parse(record.text, ctx)]
    except OverflowError:  # date arithmetic next to year 1 or 9999
        raise ParseError("bad_timestamp", "time stamp out of the representable range") from None


def _split(text: str) -> tuple[str, str]:
    nl = text.find("\n")
    if nl < 0:
        return text.rstrip("\r"), ""
    return text[:nl].rstrip("\r"), text[nl + 1:].strip()


def _parse(text: str, ctx: ParseContext) -> ParsedEvent:
    line, more = _split(text)
    if not line.strip():
        raise ParseError("no_match", "empty record")
    event: ParsedEvent = {"event": {"kind": "event"}, "log": {}}
    vendor: dict[str, Any] = {}
    head = JICOFO_HEAD.match(line)
    if head is not None:
        _parse_jicofo(line, more, head, event, vendor, ctx)
    else:
        _parse_prosody(line, more, event, vendor, ctx)
    if vendor:
        event.setdefault("uc", {})["vendor"] = vendor
    return prune(event)


def _parse_jicofo(line: str, more: str, head: re.Match[str], event: ParsedEvent, vendor: dict[str, Any],
                  ctx: ParseContext) -> None:
    event["@timestamp"] = parse_stamp(head["ts"], ctx.timezone, ctx.reference_time, "log time")
    component = head["component"] or "jvb"
    event["event"]["provider"] = component.lower()
    level = head["level"]
    event["log"]["level"] = level.lower()
    vendor["thread"] = int(head["thread"])
    msg = read_logger(line[head.end():], vendor, event).strip()
    if not msg and not more:
        raise ParseError("truncated", f"Jicofo/JVB header without a message: {line[:SHOWN]!r}")
    event["message"] = f"{msg}\n{more}" if more else msg
    classify_jicofo(msg or more, level, event, vendor)


def _syslog_fields(m: re.Match[str], event: ParsedEvent) -> str | None:
    """Receiver fields; returns the syslog severity name (Prosody's syslog sink has no level word)."""
    syslog: dict[str, Any] = {"hostname": m["host"], "appname": m["prog"]}
    severity = None
    if m["pri"] is not None:
        pri = int(m["pri"])
        if pri > 191:
            raise ParseError("no_match", f"bad syslog priority <{pri}>")
        severity = SYSLOG_SEVERITIES[pri & 7]
        syslog.update(priority=pri, facility={"code": pri >> 3, "name": SYSLOG_FACILITIES[pri >> 3]},
                      severity={"code": pri & 7, "name": severity})
    event["log"]["syslog"] = syslog
    event["observer"] = {"hostname": m["host"]}
    process: dict[str, Any] = {"name": m["prog"]}
    if m["pid"] is not None:
        process["pid"] = int(m["pid"])
    event["process"] = process
    return severity


def _parse_prosody(line: str, more: str, event: ParsedEvent, vendor: dict[str, Any], ctx: ParseContext) -> None:
    stamp = _BSD_TIME.match(line) or _DATE_TIME.match(line)
    if stamp is None and not line.startswith("<"):
        raise ParseError("no_match", f"neither a Jicofo/JVB line nor a Prosody line with a time stamp: "
                         f"{line[:SHOWN]!r}")
    body_at = stamp.end() if stamp is not None else 0
    split = split_file_body(clean(line[body_at:])) if stamp is not None else None
    level: str | None
    when: datetime
    if split is not None:  # Prosody's own file (or docker console) line
        assert stamp is not None
        when = parse_stamp(stamp.group(0).strip(), ctx.timezone, ctx.reference_time, "log time")
        source, level, msg = split
    else:  # a syslog receiver's line
        sm = _SYSLOG.match(line)
        if sm is None:
            raise ParseError("no_match", f"no '<source> <level> <message>' Prosody body and no syslog header: "
                             f"{line[:SHOWN]!r}")
        severity = _syslog_fields(sm, event)
        when = parse_stamp(sm["bsd"] or sm["iso"], ctx.timezone, ctx.reference_time, "syslog time")
        body = clean(line[sm.end():])
        console = split_file_body(body)
        if console is not None:
            source, level, msg = console
        else:
            sink = split_sink_body(body)
            if sink is None:
                raise ParseError("no_match", f"syslog message is not a Prosody '<source> <level> <message>' or "
                                 f"'<source>: <message>' body: {line[:SHOWN]!r}")
            source, msg = sink
            level = {"warning": "warn", "err": "error"}.get(severity or "", severity)
    if not msg:
        raise ParseError("truncated", f"Prosody line without a message: {line[:SHOWN]!r}")
    event["@timestamp"] = when
    if level is not None:
        event["log"]["level"] = level
    event["message"] = f"{msg}\n{more}" if more else msg
    read_source(source, event, vendor)
    classify_prosody(msg, level, event, vendor)
