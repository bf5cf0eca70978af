"""3CX Phone System messages, as 3CX documents them (Server status log, Event Log).

Only message families with a published text are recognised (see README.md, "Sources"):

    [CM504001] Ext.100: new contact is registered. Contact(s): [sip:100@192.0.2.27:50386;rinstance=...]
    [CM504002] Ext.100: a contact is unregistered. Contact(s): []
    [CM102001] Authentication failed for SipReq: REGISTER 192.0.2.28 tid=... cseq=REGISTER 100@192.0.2.28:42464 / 2
               from(wire); Reason: Credentials don't match, check that authorization-ID and password match ...
               Registered line: L:10004(InPhonex)
    Event Log: 4097 Service started / 4098 Service got signal to stop: %1 / 4099 Emergency number (%1) is
               dialed from %2 / 4100 Trunk %1 has changed status to %2

All patterns are anchored and bounded (linear on any input).
"""

from __future__ import annotations

import re
from typing import Any

from ucsiem.parsing import CATEGORISATION, ParsedEvent, ParseError, canonical_ip, split_uri_user

_REGISTERED = re.compile(
    r"Ext\.(?P<ext>[^:\s]{1,64}): new contact is registered\. Contact\(s\): \[(?P<contacts>[^\]]{0,4096})\]$")
_UNREGISTERED = re.compile(
    r"Ext\.(?P<ext>[^:\s]{1,64}): a contact is unregistered\. Contact\(s\): \[(?P<contacts>[^\]]{0,4096})\]$")
_AUTH_FAILED = re.compile(
    r"Authentication failed for SipReq: (?P<method>[A-Z]{2,16}) (?P<ip>[0-9A-Fa-f.:\[\]]{2,64})"
    r" tid=(?P<tid>\S{1,128}) cseq=(?P<cseqm>[A-Z]{2,16}) (?P<contact>\S{1,512}) / (?P<cseq>\d{1,10})"
    r" from\((?P<origin>[a-z]{1,16})\)(?:; Reason: (?P<reason>.{1,1024}))?$")
_LINE_REGISTERED = re.compile(r"Registered line: (?P<line>L:[^(\s]{1,64})\((?P<name>[^)]{0,128})\)$")
_STOP = re.compile(r"Service got signal to stop: (?P<what>.{1,1024})$")
_EMERGENCY = re.compile(r"Emergency number \((?P<number>[^()]{1,64})\) is dialed from (?P<from>.{1,256})$")
_TRUNK = re.compile(r"Trunk (?P<trunk>.{1,256}) has changed status to (?P<status>\S.{0,64})$")


def _set(event: ParsedEvent, action: str, outcome: str | None = None, *, types: tuple[str, ...] | None = None,
         reason: str | None = None, category: tuple[str, ...] | None = None) -> None:
    default = CATEGORISATION[action]
    ev: dict[str, Any] = event["event"]
    ev["action"] = action
    cats = category if category is not None else default.category
    if cats:
        ev["category"] = list(cats)
    ev["type"] = list(types if types is not None else default.type)
    final = outcome if outcome is not None else default.outcome
    if final is not None:
        ev["outcome"] = final
    if reason:
        ev["reason"] = reason


def _contact(event: ParsedEvent, contacts: str, vendor: dict[str, Any]) -> None:
    first = contacts.split(",", 1)[0].strip()
    if not first:
        return
    event.setdefault("uc", {})["registration"] = {"contact": first}
    _, host = split_uri_user(first)
    body = first.split(";", 1)[0]
    port = body.rsplit(":", 1)[1] if body.count(":") >= 2 else None
    ip = canonical_ip(host) if host else None
    if ip is not None:
        source: dict[str, Any] = {"ip": ip}
        if port is not None and port.isdecimal() and int(port) <= 65535:
            source["port"] = int(port)
        event["source"] = source
    if len(contacts) > len(first):
        vendor["contacts"] = contacts


def classify(msg: str, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """Fill the event for one message body; ParseError when it is no documented 3CX message."""
    if msg.startswith("Ext.") and (m := _REGISTERED.match(msg)) is not None:
        event["user"] = {"name": m["ext"]}
        _contact(event, m["contacts"], vendor)
        _set(event, "sip-register", "success", types=("protocol", "allowed"))
        event["event"].setdefault("code", "CM504001")
    elif msg.startswith("Ext.") and (m := _UNREGISTERED.match(msg)) is not None:
        event["user"] = {"name": m["ext"]}
        _contact(event, m["contacts"], vendor)
        _set(event, "sip-unregister", "success", types=("protocol", "end"))
        event["event"].setdefault("code", "CM504002")
    elif msg.startswith("Authentication failed") and (m := _AUTH_FAILED.match(msg)) is not None:
        ip = canonical_ip(m["ip"])
        if ip is None:
            raise ParseError("bad_field", f"source of the failed request is not an IP address: {m['ip'][:64]!r}")
        event["source"] = {"ip": ip}
        user, host = split_uri_user(m["contact"])
        if user:
            event["user"] = {"name": user}
        event["uc"] = {"sip": {"method": m["method"], "cseq": f"{m['cseq']} {m['cseqm']}"}}
        vendor.update(tid=m["tid"], contact=m["contact"], origin=m["origin"])
        if host and (contact_ip := canonical_ip(host)) is not None and contact_ip != ip:
            vendor["contact_ip"] = contact_ip
        if m["method"] == "REGISTER":
            _set(event, "sip-register", "failure", types=("protocol", "denied"),
                 category=("authentication", "network"), reason=m["reason"])
        else:
            _set(event, "sip-auth", "failure", types=("start", "denied"), reason=m["reason"])
        event["event"].setdefault("code", "CM102001")
    elif msg.startswith("Registered line: ") and (m := _LINE_REGISTERED.match(msg)) is not None:
        event.setdefault("uc", {})["call"] = {"trunk": m["name"] or m["line"]}
        vendor["line"] = m["line"]
        event["network"]["direction"] = "outbound"
        _set(event, "sip-register", "success", types=("protocol", "allowed"))
    elif msg == "Service started":
        _set(event, "system-start")
        event["event"].setdefault("code", "4097")
    elif (m := _STOP.match(msg)) is not None:
        _set(event, "system-stop", reason=m["what"].strip())
        event["event"].setdefault("code", "4098")
    elif (m := _EMERGENCY.match(msg)) is not None:
        event["uc"] = {"call": {"callee": m["number"].strip(), "caller": m["from"].strip()}}
        _set(event, "call-attempt")
        event["event"].setdefault("code", "4099")
    elif (m := _TRUNK.match(msg)) is not None:
        event["uc"] = {"call": {"trunk": m["trunk"].strip()}}
        vendor["status"] = m["status"].strip()
        _set(event, "diagnostic", types=("info",))
        event["event"].setdefault("code", "4100")
    else:
        raise ParseError("unsupported_variant", f"not a documented 3CX message: {msg[:96]!r}")
