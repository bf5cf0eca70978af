"""Syslog records of the SBC: the three documented header shapes and the message families.

Header shapes (Oracle SBC Security Guide, appendix "Syslog"):

    May  3 17:06:10 172.41.3.90 CSE-4500-20 acliConsole[31ac9b6c] AUTH <text>     remote syslog
    Dec 18 13:39:44.121 acliTelnet0@SBC1: WARNING <text>                          local log style
    Mar 20 10:27:24.119 acliConsole@: AUTH[53] <text>                             local, no host
    Jun 16 15:26:02.800 [MINOR] (0) loginLocal:[0:2801] <text>                    class + task

All patterns are anchored, bounded and without nested quantifiers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ucsiem.parsing import (
    SYSLOG_FACILITIES,
    SYSLOG_SEVERITIES,
    ParseContext,
    ParsedEvent,
    ParseError,
    canonical_ip,
    prune,
)

from .stamps import syslog_time

_STAMP = r"(?P<ts>[A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d(?:\.\d{1,6})?)"
_PRI = r"(?:<(?P<pri>\d{1,3})>)?"
REMOTE = re.compile(_PRI + _STAMP + r" (?:(?P<ip>[0-9A-Fa-f:.]{3,45}) )?(?P<host>[^\s\[\]]{1,255}) "
                    r"(?P<task>[A-Za-z][A-Za-z0-9_]{0,63})\[(?P<tid>[0-9A-Fa-f]{1,16})\] "
                    r"(?P<level>[A-Z][A-Z_]{1,15})(?:\[(?P<n>\d{1,10})\])? ")
LOCAL = re.compile(_PRI + _STAMP + r" (?P<task>[A-Za-z][A-Za-z0-9_]{0,63})@(?P<host>[^\s:]{0,255}): "
                   r"(?P<level>[A-Z][A-Z_]{1,15})(?:\[(?P<n>\d{1,10})\])? ")
CLASSED = re.compile(_PRI + _STAMP + r" \[(?P<level>[A-Z][A-Z_ ]{1,23})\] \((?P<n>\d{1,10})\) "
                     r"(?P<task>[A-Za-z][A-Za-z0-9_]{0,63}): ?")

# Acme log levels (the `log-level` values, 1 = most severe) and their syslog equivalents.
LEVELS = {"EMERGENCY": (1, "emerg"), "CRITICAL": (2, "crit"), "MAJOR": (3, "err"), "MINOR": (4, "warning"),
          "WARNING": (5, "warning"), "NOTICE": (6, "notice"), "INFO": (7, "info"), "TRACE": (8, "debug"),
          "DEBUG": (9, "debug")}

_AUTH_LOCAL = re.compile(r"authenticate_locally: Authentication failed for user (?P<user>\S{1,128})$")
_LOGIN_FAIL_FROM = re.compile(r"login authentication failure from (?P<iface>\S{1,64})$")
_AUTH_FAIL_FOR = re.compile(r"authentication failure for (?P<user>\S{1,128}) from (?P<iface>\S{1,64})$")
_SESSION = r"(?:\[(?P<session>\d{1,10}:\d{1,10})\] ?)?"
_USER_FAILED = re.compile(_SESSION + r"user: (?P<user>\S{1,128}) failed to log in to (?P<iface>\S{1,64})$")
_USER_AUTH = re.compile(_SESSION + r"user: (?P<user>\S{1,128}) authenticate$")
_SIGADDR = re.compile(r"\[IDS_LOG\] SigAddr\[(?P<realm>[^:\]]{0,64}):(?P<addr>[^=\]]{1,64})="
                      r"(?P<trust>[^:\]]{0,16}):(?P<verdict>[A-Za-z_]{1,16})\] ?")
_TTL = re.compile(r"ttl=(?P<ttl>\d{1,10}) exp=(?P<exp>\d{1,10}) ?")
_DEMOTED = re.compile(r"Demoted to (?P<target>[^()]{1,64}) \((?P<reason>[^()]{0,128})\)")
_LAST_MSG = re.compile(r" last msg rcvd=(?P<method>[A-Z]{2,16}) (?P<uri>\S{1,512}) SIP/2\.0$")
_SIP_HEADER = re.compile(r"(?P<name>Via|From|To|Call-ID|CSeq|Contact|User-Agent|Max-Forwards|Expires|"
                         r"Content-Length|Content-Type|Route|Record-Route|Authorization|Allow|Supported): "
                         r"(?P<value>.{1,2048})$")
_URI_IN = re.compile(r"<(?P<uri>[^<>]{1,512})>")


@dataclass(slots=True)
class Header:
    pri: int | None
    stamp: str
    task: str
    level: str
    host: str | None
    sender_ip: str | None
    task_id: str | None
    number: str | None
    text: str


def read_header(text: str) -> Header | None:
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
        return Header(
            pri=int(groups["pri"]) if groups.get("pri") else None, stamp=groups["ts"], task=groups["task"],
            level=groups["level"].strip(), host=groups.get("host") or None, sender_ip=sender_ip,
            task_id=groups.get("tid"), number=groups.get("n"), text=text[m.end():].strip())
    return None


def _frame(h: Header, ctx: ParseContext) -> ParsedEvent:
    log: dict[str, Any] = {"level": h.level.lower()}
    syslog: dict[str, Any] = {}
    if h.pri is not None:
        if h.pri > 191:
            raise ParseError("bad_field", f"syslog priority out of range: {h.pri}")
        syslog["priority"] = h.pri
        fac, sev = SYSLOG_FACILITIES[h.pri // 8], SYSLOG_SEVERITIES[h.pri % 8]
        syslog["facility"] = {"name": fac, "code": h.pri // 8}
        syslog["severity"] = {"name": sev, "code": h.pri % 8}
    if h.host:
        syslog["hostname"] = h.host
    log["syslog"] = syslog
    event: dict[str, Any] = {"kind": "event"}
    level = LEVELS.get(h.level)
    if level is not None:
        event["severity"] = level[0]
    vendor: dict[str, Any] = {}
    if h.task_id:
        vendor["task_id"] = h.task_id
    if h.number:
        vendor["message_number" if h.task_id is None else "number"] = h.number
    return {
        "@timestamp": syslog_time(h.stamp, ctx.timezone, ctx.reference_time),
        "event": event, "log": log, "message": h.text,
        "observer": {"hostname": h.host, "ip": [h.sender_ip] if h.sender_ip else None},
        "process": {"name": h.task},
        "uc": {"vendor": vendor},
    }


def _login(event: ParsedEvent, outcome: str, user: str | None, iface: str | None, code: str) -> None:
    types = ["start"]
    event["event"].update(action="admin-login", category=["authentication"], type=types, outcome=outcome,
                          code=code)
    if user:
        event["user"] = {"name": user}
    if iface:
        event["uc"]["vendor"]["interface"] = iface


def _ids_log(event: ParsedEvent, text: str) -> bool:
    m = _SIGADDR.match(text)
    if m is None:
        return False
    ev, vendor = event["event"], event["uc"]["vendor"]
    address, _, port = m.group("addr").rpartition(":")
    ip = canonical_ip(address)
    if ip is None or not port.isdecimal() or int(port) > 65535:
        raise ParseError("bad_field", f"IDS_LOG SigAddr is not <ip>:<port>: {m.group('addr')[:64]!r}")
    event["source"] = {"ip": ip, "port": int(port) or None}
    vendor.update(realm=m.group("realm"), trust_level=m.group("trust"), verdict=m.group("verdict"))
    rest = text[m.end():]
    ttl = _TTL.match(rest)
    if ttl is not None:
        vendor.update(ttl=int(ttl.group("ttl")), exp=int(ttl.group("exp")))
        rest = rest[ttl.end():]
    last = _LAST_MSG.search(rest)
    if last is not None:
        event["uc"]["sip"] = {"method": last.group("method"), "request_uri": last.group("uri")}
    demoted = _DEMOTED.match(rest)
    ev["code"] = "IDS_LOG"
    if demoted is not None:
        vendor["demoted_to"] = demoted.group("target")
        ev.update(action="deny-list", category=["network", "intrusion_detection"], type=["denied", "creation"],
                  outcome="success", reason=demoted.group("reason") or None)
    else:  # an IDS_LOG wording not seen in the documentation: keep the address, flag it
        ev.update(action="security-alert", category=["intrusion_detection"], type=["info"])
    event["network"] = {"protocol": "sip"}
    return True


def _sip_header(event: ParsedEvent, text: str) -> bool:
    """One header of the SIP message that triggered an IDS_LOG demotion, logged on its own line."""
    m = _SIP_HEADER.match(text)
    if m is None:
        return False
    name, value = m.group("name"), m.group("value").strip()
    sip: dict[str, Any] = {}
    if name in ("From", "To", "Contact"):
        uri = _URI_IN.search(value)
        key = {"From": "from_uri", "To": "to_uri", "Contact": "contact"}[name]
        sip[key] = uri.group("uri") if uri else value.split(";", 1)[0]
    elif name == "Call-ID":
        sip["call_id"] = value
    elif name == "CSeq":
        sip["cseq"] = value
    elif name == "User-Agent":
        sip["user_agent"] = value
    else:
        event["uc"]["vendor"]["sip_header"] = name
    event["uc"]["sip"] = sip
    event["event"].update(action="diagnostic", type=["info"], category=["network"])
    event["network"] = {"protocol": "sip"}
    event.setdefault("tags", []).append("sip_header_line")
    return True


def parse_syslog(h: Header, ctx: ParseContext) -> ParsedEvent:
    event = _frame(h, ctx)
    text = h.text
    if (m := _AUTH_LOCAL.match(text)) is not None:
        _login(event, "failure", m.group("user"), h.task, "authenticate_locally")
    elif (m := _AUTH_FAIL_FOR.match(text)) is not None:
        _login(event, "failure", m.group("user"), m.group("iface"), "authentication failure")
    elif (m := _LOGIN_FAIL_FROM.match(text)) is not None:
        _login(event, "failure", None, m.group("iface"), "login authentication failure")
    elif (m := _USER_FAILED.match(text)) is not None:
        _login(event, "failure", m.group("user"), m.group("iface"), "failed to log in")
        if m.group("session"):
            event["uc"]["vendor"]["session"] = m.group("session")
    elif (m := _USER_AUTH.match(text)) is not None:
        _login(event, "unknown", m.group("user"), None, "authenticate")
        if m.group("session"):
            event["uc"]["vendor"]["session"] = m.group("session")
    elif not _ids_log(event, text) and not _sip_header(event, text):
        event["event"].update(action="diagnostic", type=["info"])
    return prune(event)
