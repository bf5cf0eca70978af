"""Accounting records (CDRs): local CDR CSV rows read by documented position, and RADIUS
`Attribute="value"` records read by attribute name.

Positions (Oracle SBC Accounting Guide, appendix "Local CDR ... Record" tables; the same in the
S-C6.4 field maps and the 9.0/10.1 tables for these positions): 1-11 are common; Start and Interim
rows go on with setup/connect time, interfaces, realms and the first forward media flow (12-31); Stop
rows add terminate cause, session time, disconnect time and cause first (12-17), then the same (18-35).
Positions after those depend on the release and on `cdr-output-inclusive`, so they are not read; the
same attributes are read by name from the self-describing form.
"""

from __future__ import annotations

import csv
from datetime import datetime
from typing import Any, Final

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, canonical_ip, prune, split_uri_user

from .stamps import h323_time

SHOWN = 64
_COMMON: Final = ("Acct-Status-Type", "NAS-IP-Address", "NAS-Port", "Acct-Session-Id",
                  "Acme-Session-Ingress-CallId", "Acme-Session-Egress-CallId", "Acme-Session-Protocol-Type",
                  "Acme-Session-Forked-Call-Id", "Acme-Session-Generic-Id", "Calling-Station-Id",
                  "Called-Station-Id")
_IFACES: Final = ("Acme-Egress-Network-Interface-Id", "Acme-Egress-Vlan-Tag-Value",
                  "Acme-Ingress-Network-Interface-Id", "Acme-Ingress-Vlan-Tag-Value",
                  "Acme-Session-Egress-Realm", "Acme-Session-Ingress-Realm")
_FLOW: Final = ("Acme-FlowID_FS1_F", "Acme-FlowType_FS1_F", "Acme-Flow-In-Realm_FS1_F",
                "Acme-Flow-In-Src-Addr_FS1_F", "Acme-Flow-In-Src-Port_FS1_F", "Acme-Flow-In-Dst-Addr_FS1_F",
                "Acme-Flow-In-Dst-Port_FS1_F", "Acme-Flow-Out-Realm_FS1_F", "Acme-Flow-Out-Src-Addr_FS1_F",
                "Acme-Flow-Out-Src-Port_FS1_F", "Acme-Flow-Out-Dst-Addr_FS1_F", "Acme-Flow-Out-Dst-Port_FS1_F")
START_COLUMNS: Final = (*_COMMON, "h323-setup-time", "h323-connect-time", *_IFACES, *_FLOW)
STOP_COLUMNS: Final = (*_COMMON, "Acct-Terminate-Cause", "Acct-Session-Time", "h323-setup-time",
                       "h323-connect-time", "h323-disconnect-time", "h323-disconnect-cause", *_IFACES, *_FLOW)
LAYOUTS: Final = {"1": START_COLUMNS, "2": STOP_COLUMNS, "3": START_COLUMNS}
STATUS_NAMES: Final = {"start": "1", "stop": "2", "interim-update": "3", "interim": "3"}
KINDS: Final = {"1": "Start", "2": "Stop", "3": "Interim"}

# Attributes mapped onto the schema; every other non-empty attribute of a named record is kept in uc.vendor.
_MAPPED: Final = frozenset({
    "Acct-Status-Type", "NAS-IP-Address", "Acct-Session-Id", "Acme-Session-Ingress-CallId",
    "Acme-Session-Protocol-Type", "Calling-Station-Id", "Called-Station-Id", "Acct-Session-Time",
    "h323-setup-time", "h323-connect-time", "h323-disconnect-time", "h323-disconnect-cause",
    "Acme-Session-Ingress-Realm", "Acme-Flow-In-Src-Addr_FS1_F", "Acme-Flow-In-Src-Port_FS1_F",
    "Acme-Flow-In-Dst-Addr_FS1_F", "Acme-Flow-In-Dst-Port_FS1_F", "Acme-Ingress-Remote-Addr",
    "Acme-Egress-Remote-Addr", "Acme-SIP-Status", "Acme-Firmware-Version", "Acme-Disconnect-Initiator",
    "Acct-Terminate-Cause",
})
# Acct-Terminate-Cause values (RFC 2866 section 5.10); a name written as text is kept as written.
TERMINATE_CAUSES: Final = {
    "1": "User-Request", "2": "Lost-Carrier", "3": "Lost-Service", "4": "Idle-Timeout", "5": "Session-Timeout",
    "6": "Admin-Reset", "7": "Admin-Reboot", "8": "Port-Error", "9": "NAS-Error", "10": "NAS-Request",
    "11": "NAS-Reboot", "12": "Port-Unneeded", "13": "Port-Preempted", "14": "Port-Suspended",
    "15": "Service-Unavailable", "16": "Callback", "17": "User-Error", "18": "Host-Request",
}
MAX_VENDOR = 64  # attributes kept from one record


def is_csv_row(text: str) -> bool:
    head = text[:4].lstrip('"')
    return head[:1] in ("1", "2", "3") and head[1:2] in (",", '"')


def read_csv(text: str) -> dict[str, str]:
    try:
        values = next(csv.reader([text], strict=True))
    except (csv.Error, StopIteration) as exc:
        raise ParseError("bad_field", f"CDR row is not valid CSV: {str(exc)[:SHOWN]}") from None
    layout = LAYOUTS.get(values[0].strip())
    if layout is None:
        raise ParseError("unsupported_variant", f"unknown Acct-Status-Type {values[0][:16]!r}")
    if len(values) < len(_COMMON):
        raise ParseError("truncated", f"CDR row has {len(values)} fields, at least {len(_COMMON)} expected")
    return {name: value.strip() for name, value in zip(layout, values, strict=False)}


_KEY_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-")
MAX_KEY = 128


def scan_attributes(text: str) -> dict[str, str]:
    """`Name="value",Name2="v"` -> dict; the first occurrence of a name wins, `\\"` escapes a quote.

    A str-method scanner, linear on any input: each `="` is located once and the name before it is
    read backwards at most MAX_KEY characters (a regex `[chars]+="` is quadratic on a long run of
    name characters without `="`)."""
    out: dict[str, str] = {}
    pos = 0
    while (eq := text.find('="', pos)) >= 0:
        start = eq
        while start > 0 and eq - start < MAX_KEY and text[start - 1] in _KEY_CHARS:
            start -= 1
        key = text[start:eq]
        i = eq + 2
        chunks: list[str] = []
        while True:
            close = text.find('"', i)
            if close < 0:
                return out  # unterminated value: the record ends here
            backslashes = 0
            while close - backslashes - 1 >= i and text[close - backslashes - 1] == "\\":
                backslashes += 1
            chunks.append(text[i:close])
            i = close + 1
            if backslashes % 2 == 0:
                break
            chunks.append('"')
        if key and key not in out:
            out[key] = "".join(chunks).strip()
        pos = i
    return out


def read_named(text: str) -> dict[str, str]:
    attrs = scan_attributes(text)
    status = attrs.get("Acct-Status-Type", "")
    status = STATUS_NAMES.get(status.lower(), status)
    if status not in KINDS:
        raise ParseError("unsupported_variant", f"unknown Acct-Status-Type {status[:16]!r}")
    attrs["Acct-Status-Type"] = status
    return attrs


def _ip(attrs: dict[str, str], name: str, strict: bool) -> str | None:
    value = attrs.get(name, "")
    if not value or value == "0.0.0.0":
        return None
    ip = canonical_ip(value)
    if ip is None and strict:
        raise ParseError("bad_field", f"{name} is not an IP address: {value[:SHOWN]!r}")
    return ip


def _port(attrs: dict[str, str], name: str) -> int | None:
    value = attrs.get(name, "")
    if not value or value == "0":
        return None
    if not value.isdecimal() or int(value) > 65535:
        raise ParseError("bad_field", f"{name} is not a port: {value[:SHOWN]!r}")
    return int(value)


def _party(value: str) -> dict[str, Any]:
    """`"Alice" <sip:+12025550101@example.com>;tag=1` or `sip:1001@192.0.2.1` -> endpoint user."""
    start, end = value.find("<"), value.find(">")
    uri = value[start + 1:end] if 0 <= start < end else value
    user, host = split_uri_user(uri)
    return {"name": user, "domain": host}


def map_cdr(attrs: dict[str, str], ctx: ParseContext, named: bool) -> ParsedEvent:
    tags: list[str] = []
    tz = ctx.timezone
    status = attrs["Acct-Status-Type"]
    setup = h323_time(attrs.get("h323-setup-time", ""), "h323-setup-time", tz, tags)
    connect = h323_time(attrs.get("h323-connect-time", ""), "h323-connect-time", tz, tags)
    end = h323_time(attrs.get("h323-disconnect-time", ""), "h323-disconnect-time", tz, tags)
    call: dict[str, Any] = {"id": attrs.get("Acct-Session-Id"), "setup_time": setup, "connect_time": connect,
                            "end_time": end, "trunk": attrs.get("Acme-Session-Ingress-Realm")}
    ev: dict[str, Any] = {"kind": "event", "code": KINDS[status], "category": ["network", "session"]}
    if caller := attrs.get("Calling-Station-Id"):
        call["caller"] = caller
    if callee := attrs.get("Called-Station-Id"):
        call["callee"] = callee
    media = {"remote_ip": _ip(attrs, "Acme-Flow-In-Src-Addr_FS1_F", True),
             "remote_port": _port(attrs, "Acme-Flow-In-Src-Port_FS1_F"),
             "local_ip": _ip(attrs, "Acme-Flow-In-Dst-Addr_FS1_F", True),
             "local_port": _port(attrs, "Acme-Flow-In-Dst-Port_FS1_F")}
    session_time = attrs.get("Acct-Session-Time", "")
    duration: float | None = None
    if session_time:
        try:
            duration = float(session_time)
        except ValueError:
            raise ParseError("bad_field", f"Acct-Session-Time is not a number: {session_time[:SHOWN]!r}") from None
        if not 0 <= duration < 1e9:
            raise ParseError("bad_field", f"Acct-Session-Time out of range: {session_time[:SHOWN]!r}")
    sip: dict[str, Any] = {"call_id": attrs.get("Acme-Session-Ingress-CallId")}
    status_code = attrs.get("Acme-SIP-Status", "")
    if status_code.isdecimal() and 100 <= int(status_code) <= 699:
        sip["status_code"] = int(status_code)
    timestamp: datetime | None
    if status == "2":
        if cause := attrs.get("h323-disconnect-cause"):
            call["disconnect_cause"] = cause
        if side := attrs.get("Acme-Disconnect-Initiator"):
            call["disconnect_side"] = side
        if reason := attrs.get("Acct-Terminate-Cause"):
            ev["reason"] = TERMINATE_CAUSES.get(reason, reason)
        connected = connect is not None or bool(duration)
        if connected:
            ev.update(action="call-end", type=["connection", "end"], outcome="success")
        else:
            ev.update(action="call-reject", type=["connection", "denied"], outcome="failure")
        if duration is not None:
            call["duration"] = duration
            ev["duration"] = int(duration * 1_000_000_000)
        timestamp = end or connect or setup
    elif status == "1":
        if connect is not None:
            ev.update(action="call-start", type=["connection", "start"], outcome="success")
        else:
            ev.update(action="call-attempt", type=["connection", "start"], outcome="unknown")
        timestamp = connect or setup
    else:
        ev.update(action="call-update", type=["connection", "info"])
        timestamp = connect or setup
    if timestamp is None:
        timestamp = ctx.reference_time
        tags.append("timestamp_from_reference")
    vendor: dict[str, Any] = {}
    for name, value in attrs.items():
        if value and name not in _MAPPED and len(vendor) < MAX_VENDOR:
            vendor[name] = value
    protocol = attrs.get("Acme-Session-Protocol-Type", "").lower()
    event: ParsedEvent = {
        "@timestamp": timestamp,
        "event": ev,
        "observer": {"ip": [ip] if (ip := _ip(attrs, "NAS-IP-Address", True)) else None,
                     "version": attrs.get("Acme-Firmware-Version")},
        "network": {"protocol": protocol if protocol.isalnum() else None},
        "source": {"ip": _ip(attrs, "Acme-Ingress-Remote-Addr", False), "user": _party(call.get("caller", ""))},
        "destination": {"ip": _ip(attrs, "Acme-Egress-Remote-Addr", False),
                        "user": _party(call.get("callee", ""))},
        "uc": {"call": call, "sip": sip, "media": media, "vendor": vendor},
        "tags": tags + (["cdr_named_attributes"] if named else []),
    }
    return prune(event)
