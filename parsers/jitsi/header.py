"""The envelope of a Jitsi Meet record: the line header of the Java components or of Prosody.

    Jicofo 2024-06-02 17:50:34.496 INFO: [22] ConferenceIqHandler.handleConferenceIq#86: <message>   jicofo.log
    2020-05-22 13:51:21.125 SEVERE: [20] RetryStrategy$TaskRunner.run#198: <message>                jvb.log
    May 08 07:50:47 c2s55a9832f7d40<TAB>info<TAB>Client connected                                    prosody.log
    2025-03-22 21:01:26 meet.jitsi:tokenauth      warn<TAB>Failed to verify access token: (nil)   prosody (docker)
    Jan 29 17:19:51 host prosody[93851]: startup   #033[1minfo#033[0m#011Hello and welcome ... console via syslog
    Nov 04 00:32:52 host prosody[2526]: c2s2304d390: Sending[c2s]: <presence ...>              Prosody's syslog sink

Jicofo / JVB: after the thread the line carries an optional context (`[ctx=...]`, `[hostname=x id=y]`),
the logger (`org.jitsi.jicofo.X.log()` in older versions, `Class.method#line:` in newer ones) and the
message; multi-line records (Java stack traces) keep their continuation lines in `message`.

Prosody's file sink writes `<time> <source><TAB or padding><level><TAB><message>`; its console output
(what journald and docker capture) is the same line, sometimes with ANSI colours that rsyslog escapes
as `#033[1minfo#033[0m#011`. Its own syslog sink writes `<source>: <message>` (the level is the syslog
severity). `<source>` is a session (`c2s55d0e1f0`, `bosh<uuid>`), a `host:module` pair
(`meet.example.com:log_auth`) or a global name (`general`, `startup`, `mod_bosh`).

Regexes are anchored and bounded.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, NamedTuple

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, syslog_header_fields

from .stamps import parse_stamp

JICOFO = "jicofo"  # Header.format: Jicofo, JVB and the other Java components
PROSODY = "prosody"

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
JICOFO_HEAD = re.compile(
    r"(?:(?P<component>Jicofo|JVB|Jigasi|Jibri) )?"
    r"(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{1,6}) (?P<level>[A-Z]{3,7}): \[(?P<thread>\d{1,10})\] ")
_LOGGER = re.compile(
    r"(?P<logger>[A-Za-z_$][A-Za-z0-9_$.]{0,255})(?P<paren>\(\))?(?:#(?P<line>\d{1,7}))?(?P<colon>:)? ")
LEVELS = ("debug", "info", "warn", "error")
_ANSI = re.compile(r"(?:\x1b|#033)\[[0-9;]{0,16}m")
_SESSION = re.compile(r"(c2s|s2sin|s2sout|bosh|smacks|jcp|websocket)([0-9A-Za-z-]{4,64})")
_SINK_LEVELS = {"warning": "warn", "err": "error"}  # syslog severity -> Prosody's level word


class Header(NamedTuple):
    format: str  # JICOFO or PROSODY
    time: datetime
    level: str | None  # the component's level word as written (Jicofo `SEVERE`, Prosody `warn`)
    provider: str  # the component (jicofo, jvb) or Prosody's module / session kind / source
    logger: str | None  # the Java logger
    host: str | None  # the virtual host of a Prosody `host:module` source
    vendor: dict[str, Any]  # uc.vendor members the header gives (thread, ctx.*, line, source, session...)
    syslog: dict[str, Any] | None  # log.syslog, observer, process of a syslog receiver's prefix
    observer: dict[str, Any] | None
    process: dict[str, Any] | None
    text: str  # the message that is classified
    message: str  # the message with its continuation lines


def _split(text: str) -> tuple[str, str]:
    nl = text.find("\n")
    if nl < 0:
        return text.rstrip("\r"), ""
    return text[:nl].rstrip("\r"), text[nl + 1:].strip()


def read_header(text: str, ctx: ParseContext) -> Header:
    """One Jicofo/JVB record (with its continuation lines) or one Prosody line -> its header and message."""
    line, more = _split(text)
    if not line.strip():
        raise ParseError("no_match", "empty record")
    head = JICOFO_HEAD.match(line)
    if head is not None:
        return _jicofo(line, more, head, ctx)
    return _prosody(line, more, ctx)


def _read_logger(rest: str, vendor: dict[str, Any]) -> tuple[str | None, str]:
    """Strip the optional `[k=v ...]` context and the logger name: (logger, message)."""
    if rest.startswith("["):
        end = rest.find("] ", 1, 4096)
        if end > 0:
            for pair in rest[1:end].split():
                key, sep, value = pair.partition("=")
                if sep and key and value:
                    vendor[f"ctx.{key}"] = value
            rest = rest[end + 2:]
    m = _LOGGER.match(rest)
    # `pkg.Class.log() ` (old style), `Class.method#line: ` (new style), `pkg.Class.method: `;
    # anything else (a bare word) already is the message
    if m is not None and (m["paren"] or (m["colon"] and ("." in m["logger"] or m["line"]))):
        if m["line"]:
            vendor["line"] = int(m["line"])
        return m["logger"], rest[m.end():]
    return None, rest


def _jicofo(line: str, more: str, head: re.Match[str], ctx: ParseContext) -> Header:
    time = parse_stamp(head["ts"], ctx.timezone, ctx.reference_time, "log time")
    vendor: dict[str, Any] = {"thread": int(head["thread"])}
    logger, msg = _read_logger(line[head.end():], vendor)
    msg = msg.strip()
    if not msg and not more:
        raise ParseError("truncated", f"Jicofo/JVB header without a message: {line[:SHOWN]!r}")
    return Header(JICOFO, time, head["level"], (head["component"] or "jvb").lower(), logger, None, vendor,
                  None, None, None, msg or more, f"{msg}\n{more}" if more else msg)


def _clean(text: str) -> str:
    """Undo console colouring and rsyslog's control-character escapes."""
    if "#0" in text or "\x1b" in text:
        text = _ANSI.sub("", text).replace("#011", "\t")
    return text


def _split_file_body(body: str) -> tuple[str, str, str] | None:
    """`source<blanks>level<blanks>message` -> (source, level, message); None when it is not that."""
    parts = body.split(None, 2)
    if len(parts) < 2 or parts[1] not in LEVELS:
        return None
    return parts[0], parts[1], (parts[2].strip() if len(parts) == 3 else "")


def _split_sink_body(body: str) -> tuple[str, str] | None:
    """Prosody's syslog sink: `source: message`."""
    source, sep, message = body.partition(": ")
    if not sep or not source or " " in source or len(source) > 255:
        return None
    return source, message.strip()


def _prosody(line: str, more: str, ctx: ParseContext) -> Header:
    stamp = _BSD_TIME.match(line) or _DATE_TIME.match(line)
    if stamp is None and not line.startswith("<"):
        raise ParseError("no_match", f"neither a Jicofo/JVB line nor a Prosody line with a time stamp: "
                         f"{line[:SHOWN]!r}")
    body_at = stamp.end() if stamp is not None else 0
    split = _split_file_body(_clean(line[body_at:])) if stamp is not None else None
    level: str | None
    when: datetime
    envelope: ParsedEvent = {}
    if split is not None:  # Prosody's own file (or docker console) line
        assert stamp is not None
        when = parse_stamp(stamp.group(0).strip(), ctx.timezone, ctx.reference_time, "log time")
        source, level, msg = split
    else:  # a syslog receiver's line
        sm = _SYSLOG.match(line)
        if sm is None:
            raise ParseError("no_match", f"no '<source> <level> <message>' Prosody body and no syslog header: "
                             f"{line[:SHOWN]!r}")
        syslog = syslog_header_fields(envelope, host=sm["host"], program=sm["prog"], pri=sm["pri"], pid=sm["pid"])
        when = parse_stamp(sm["bsd"] or sm["iso"], ctx.timezone, ctx.reference_time, "syslog time")
        body = _clean(line[sm.end():])
        console = _split_file_body(body)
        if console is not None:
            source, level, msg = console
        else:
            sink = _split_sink_body(body)
            if sink is None:
                raise ParseError("no_match", f"syslog message is not a Prosody '<source> <level> <message>' or "
                                 f"'<source>: <message>' body: {line[:SHOWN]!r}")
            source, msg = sink
            severity = syslog["severity"]["name"] if "severity" in syslog else None
            level = _SINK_LEVELS.get(severity or "", severity)
    if not msg:
        raise ParseError("truncated", f"Prosody line without a message: {line[:SHOWN]!r}")
    vendor: dict[str, Any] = {"source": source}
    host: str | None = None
    vhost, sep, module = source.rpartition(":")
    if sep and vhost and module:
        provider = module
        host = vendor["host"] = vhost
    elif (m := _SESSION.fullmatch(source)) is not None:
        provider = m.group(1)
        vendor["session"] = source
    else:
        provider = source
    return Header(PROSODY, when, level, provider, None, host, vendor,
                  envelope["log"]["syslog"] if envelope else None, envelope.get("observer"),
                  envelope.get("process"), msg, f"{msg}\n{more}" if more else msg)
