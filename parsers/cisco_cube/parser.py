"""Cisco CUBE / IOS and IOS-XE voice gateways (CME, SRST): entry point `parse`.

One record is one line. `header.py` cuts the IOS framing (PRI, receiver prefix, counters, origin-id,
time stamp); the body is either a system message `%FACILITY-SEVERITY-MNEMONIC: text` (every one becomes
an event; the families in `admin.py`, `voice.py` and `cdr.py` are read field by field, any other is
`diagnostic`) or, after an IOS time stamp, debug / VoIP trace / event trace output (`diagnostic`).
A line with neither is not IOS output: ParseError.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ucsiem.parsing import SYSLOG_FACILITIES, SYSLOG_SEVERITIES, ParseContext, ParsedEvent, ParseError, RawRecord, prune

from .admin import acl_log, config_change, logged_command, logout, sec_login, ssh, tty_expired
from .cdr import call_history, feature_history
from .header import SHOWN, Header, observer_fields, split_header
from .kinds import apply
from .voice import gatekeeper_registration, ivr_low_resource, sip_cac, sip_registration, stream_service, voice_iec

__all__ = ["parse"]

_PART = re.compile(r"[A-Z0-9_]{1,64}")
_DEBUG_TAG = re.compile(r"([A-Za-z][A-Za-z0-9_]{0,31}): ")
_TRACE_ID = re.compile(r"[^/\s]{1,40}")
MAX_MNEMONIC = 160
MAX_TRACE_PATH = 128
_CLOCK = {"*": "not_set", ".": "not_synchronized"}
_PROTOCOL = {"SIP": "sip", "CCSIP": "sip", "CCH323": "h323", "H323": "h323", "SSH": "ssh"}


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    line = record.text.split("\n", 1)[0].rstrip("\r")
    if not line.strip():
        raise ParseError("no_match", "empty record")
    try:
        return [_parse(line, ctx)]
    except OverflowError:  # date arithmetic next to year 1 or 9999
        raise ParseError("bad_timestamp", "time stamp out of the representable range") from None


def split_mnemonic(body: str) -> tuple[str, int, str, str] | None:
    """`%SEC_LOGIN-4-LOGIN_FAILED: text` -> ("SEC_LOGIN", 4, "LOGIN_FAILED", "text"); None if malformed.
    (str methods, not a regex: facility parts and the severity digit would overlap in a pattern.)"""
    colon = body.find(":", 1, MAX_MNEMONIC)
    if colon < 0:
        return None
    parts = body[1:colon].split("-")
    if len(parts) < 3 or len(parts[-2]) != 1 or parts[-2] not in "01234567":
        return None
    if not all(_PART.fullmatch(p) for p in parts):
        return None
    return "-".join(parts[:-2]), int(parts[-2]), parts[-1], body[colon + 1:].strip()


def _parse(line: str, ctx: ParseContext) -> ParsedEvent:
    head = split_header(line, ctx.timezone, ctx.reference_time)
    if not head.body:
        raise ParseError("truncated", f"IOS header without a message: {line[:SHOWN]!r}")
    event: ParsedEvent = {"event": {"kind": "event"}, "log": {}}
    vendor: dict[str, Any] = {}
    tags: list[str] = []
    fallback_time: datetime | None = None
    if head.body.startswith("%"):
        found = split_mnemonic(head.body)
        if found is None:
            raise ParseError("no_match", f"not a %FACILITY-SEVERITY-MNEMONIC message: {line[:SHOWN]!r}")
        facility, severity, mnemonic, text = found
        if not text:
            raise ParseError("truncated", f"system message without text: {line[:SHOWN]!r}")
        event["message"] = text
        ev = event["event"]
        ev.update(code=f"{facility}-{severity}-{mnemonic}", provider=facility, severity=severity)
        event["log"]["level"] = SYSLOG_SEVERITIES[severity]
        if protocol := _PROTOCOL.get(facility):
            event["network"] = {"protocol": protocol}
        fallback_time = _classify(facility, mnemonic, text, event, vendor, tags, ctx)
    elif head.timestamp is not None or head.uptime is not None:
        _debug(head.body, event, vendor)
    else:
        raise ParseError("no_match", f"neither an IOS system message (%FAC-SEV-MNEMONIC) nor time-stamped "
                         f"IOS debug output: {line[:SHOWN]!r}")
    _framing(head, event, vendor, tags, fallback_time, ctx)
    if vendor:
        event.setdefault("uc", {})["vendor"] = vendor
    if tags:
        event["tags"] = tags
    return prune(event)


def _framing(head: Header, event: ParsedEvent, vendor: dict[str, Any], tags: list[str],
             fallback_time: datetime | None, ctx: ParseContext) -> None:
    """Time, syslog PRI, observer, counters."""
    if head.timestamp is not None:
        if head.marker:
            vendor["clock"] = _CLOCK[head.marker]
            tags.append("clock_unsynchronized")
        if head.marker and head.received is not None:
            # the device says its clock is not authoritative: trust the receiver's time
            event["@timestamp"] = head.received
            vendor["device_time"] = head.stamp_text or ""
        else:
            event["@timestamp"] = head.timestamp
            if head.received is not None:
                event["event"]["created"] = head.received
        if head.zone_name and head.zone_name.upper() not in ("UTC", "GMT", "UCT", "Z"):
            vendor["timezone"] = head.zone_name
    elif head.received is not None:
        event["@timestamp"] = head.received
    elif fallback_time is not None:
        event["@timestamp"] = fallback_time
    else:
        event["@timestamp"] = ctx.reference_time
        tags.append("timestamp_missing")
    if head.uptime is not None:
        vendor["uptime"] = head.uptime
    if head.pri is not None:
        event["log"]["syslog"] = {
            "priority": head.pri,
            "facility": {"code": head.pri >> 3, "name": SYSLOG_FACILITIES[head.pri >> 3]},
            "severity": {"code": head.pri & 7, "name": SYSLOG_SEVERITIES[head.pri & 7]},
        }
    if head.receiver_host:
        event["log"].setdefault("syslog", {})["hostname"] = head.receiver_host
    if observer := observer_fields(head):
        event["observer"] = observer
    if len(head.counters) == 2:
        vendor["message_counter"] = head.counters[0]
        event["event"]["sequence"] = head.counters[1]
    elif head.counters:
        event["event"]["sequence"] = head.counters[0]


def _classify(facility: str, mnemonic: str, text: str, event: ParsedEvent, vendor: dict[str, Any],
              tags: list[str], ctx: ParseContext) -> datetime | None:
    """Read the families with a security meaning; everything else is `diagnostic`."""
    if facility == "SEC_LOGIN":
        sec_login(mnemonic, text, event, vendor)
    elif facility == "SYS" and mnemonic in ("CONFIG_I", "CONFIG_P"):
        config_change(mnemonic, text, event, vendor)
    elif facility == "PARSER" and mnemonic == "CFGLOG_LOGGEDCMD":
        logged_command(text, event, vendor)
    elif facility == "SYS" and mnemonic == "LOGOUT":
        logout(text, event, vendor)
    elif facility == "SYS" and mnemonic == "TTY_EXPIRE_TIMER":
        tty_expired(text, event, vendor)
    elif facility == "SSH":
        ssh(mnemonic, text, event, vendor)
    elif facility == "SEC" and mnemonic.startswith("IPACCESSLOG"):
        acl_log(text, event, vendor)
    elif facility == "VOICE_IEC":
        voice_iec(text, event, vendor, tags)
    elif facility == "SIP" and mnemonic == "REG_INTERNAL":
        sip_registration(text, event, vendor)
    elif facility == "SIP" and mnemonic.endswith("CAC") and text.startswith("Call rejected"):
        sip_cac(text, event, vendor)
    elif facility == "SIP" and mnemonic == "STREAM_SERVICE":
        stream_service(text, event)
    elif facility == "IVR" and mnemonic.startswith("LOW_") and mnemonic.endswith("_RESOURCE"):
        ivr_low_resource(text, event)
    elif facility == "CCH323" and "REGSTR" in mnemonic:
        gatekeeper_registration(mnemonic, text, event, vendor)
    elif facility == "DIALPEER_DB" and mnemonic == "ADDPEER_MEM_THRESHOLD":
        apply(event, "license-limit", reason=text)
    elif facility == "VOIPAAA" and mnemonic == "VOIP_CALL_HISTORY":
        return call_history(text, event, vendor, ctx.timezone)
    elif facility == "VOIPAAA" and mnemonic == "VOIP_FEAT_HISTORY":
        feature_history(text, event, vendor)
    else:
        apply(event, "diagnostic")
    return None


def _debug(body: str, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """Debug output: `//<callID>/<GUID>/<path>: text` (ccsip debug, CUBE VoIP Trace), `TAG: text`
    (CUBE_ET event trace), or plain text."""
    apply(event, "diagnostic")
    event["event"]["provider"] = "debug"
    message = body
    if body.startswith("//"):
        parts = body[2:].split("/", 2)
        if len(parts) == 3 and all(_TRACE_ID.fullmatch(p) for p in parts[:2]):
            call_id, guid, rest = parts
            path, sep, text = rest.partition(": ")
            if not sep and rest.endswith(":"):  # `//-1/<guid>/SIP/Msg/ccsipDisplayMsg:` heads a dump
                path, sep, text = rest[:-1], ":", ""
            if sep and path and len(path) <= MAX_TRACE_PATH:
                event["log"]["logger"] = path
                message = text.strip() or body
                if path.startswith("CUBE_VT/"):
                    event["event"]["provider"] = "voip_trace"
            if call_id.isdecimal():
                event["uc"] = {"call": {"leg_id": call_id}}
            vendor["guid"] = guid
    elif (m := _DEBUG_TAG.match(body)) is not None:
        event["log"]["logger"] = m.group(1)
        if m.group(1) == "CUBE_ET":
            event["event"]["provider"] = "event_trace"
        message = body[m.end():].strip() or body
    event["message"] = message
