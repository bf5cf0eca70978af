"""3CX Phone System messages, as 3CX documents them (Server status log, Event Log), read into a `Body`.

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
from typing import Any, NamedTuple

from ucsiem.parsing import ParseError, canonical_ip, split_uri_user, to_port

from .header import Header

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

# message families (Body.family) and the code 3CX documents for each
REGISTERED = "registered"  # CM504001
UNREGISTERED = "unregistered"  # CM504002
AUTH_FAILED = "auth_failed"  # CM102001
LINE_REGISTERED = "line_registered"
SERVICE_STARTED = "service_started"  # Event Log 4097
SERVICE_STOP = "service_stop"  # 4098
EMERGENCY_CALL = "emergency_call"  # 4099
TRUNK_STATUS = "trunk_status"  # 4100
CODES = {REGISTERED: "CM504001", UNREGISTERED: "CM504002", AUTH_FAILED: "CM102001", SERVICE_STARTED: "4097",
         SERVICE_STOP: "4098", EMERGENCY_CALL: "4099", TRUNK_STATUS: "4100"}


class Body(NamedTuple):
    message: str
    family: str  # REGISTERED, AUTH_FAILED... (module constants)
    code: str | None  # the printed code, else the family's documented one
    method: str | None = None  # the SIP request of an authentication failure
    user: str | None = None  # extension
    reason: str | None = None
    source_ip: str | None = None
    source_port: int | None = None
    contact: str | None = None  # the first registered contact
    sip: dict[str, Any] | None = None
    call: dict[str, Any] | None = None
    vendor: dict[str, Any] | None = None
    tags: tuple[str, ...] = ()  # bad_port


def _contact(contacts: str, vendor: dict[str, Any], tags: list[str]) -> tuple[str | None, str | None, int | None]:
    """(first contact, its IP, its port) of a `Contact(s): [...]` list; the whole list in uc.vendor when
    there are several. A port that is not one is left out and tags the event `bad_port`."""
    first = contacts.split(",", 1)[0].strip()
    if not first:
        return None, None, None
    _, host = split_uri_user(first)
    ip = canonical_ip(host) if host else None
    if len(contacts) > len(first):
        vendor["contacts"] = contacts
    if ip is None:
        return first, None, None
    return first, ip, to_port(_port_text(first), tags)


def _port_text(uri: str) -> str | None:
    """The port written after the host of `sip:100@192.0.2.27:50386;rinstance=...` (`[v6]:port` too)."""
    address = uri.split(";", 1)[0]
    hostport = address.partition("@")[2] or address.partition(":")[2]
    if hostport.startswith("["):
        after = hostport.partition("]")[2]
        return after[1:] if after.startswith(":") else None
    _, colon, port = hostport.rpartition(":")
    return port if colon else None


def read_body(header: Header) -> Body:
    """The family and values of one message body; ParseError when it is no documented 3CX message."""
    msg, code = header.message, header.code
    vendor: dict[str, Any] = {}
    tags: list[str] = []
    if msg.startswith("Ext.") and (m := _REGISTERED.match(msg)) is not None:
        contact, ip, port = _contact(m["contacts"], vendor, tags)
        return Body(msg, REGISTERED, code or CODES[REGISTERED], user=m["ext"], source_ip=ip, source_port=port,
                    contact=contact, vendor=vendor, tags=tuple(tags))
    if msg.startswith("Ext.") and (m := _UNREGISTERED.match(msg)) is not None:
        contact, ip, port = _contact(m["contacts"], vendor, tags)
        return Body(msg, UNREGISTERED, code or CODES[UNREGISTERED], user=m["ext"], source_ip=ip,
                    source_port=port, contact=contact, vendor=vendor, tags=tuple(tags))
    if msg.startswith("Authentication failed") and (m := _AUTH_FAILED.match(msg)) is not None:
        ip = canonical_ip(m["ip"])
        if ip is None:
            raise ParseError("bad_field", f"source of the failed request is not an IP address: {m['ip'][:64]!r}")
        user, host = split_uri_user(m["contact"])
        vendor.update(tid=m["tid"], contact=m["contact"], origin=m["origin"])
        if host and (contact_ip := canonical_ip(host)) is not None and contact_ip != ip:
            vendor["contact_ip"] = contact_ip
        return Body(msg, AUTH_FAILED, code or CODES[AUTH_FAILED], method=m["method"], user=user or None,
                    reason=m["reason"] or None, source_ip=ip,
                    sip={"method": m["method"], "cseq": f"{m['cseq']} {m['cseqm']}"}, vendor=vendor)
    if msg.startswith("Registered line: ") and (m := _LINE_REGISTERED.match(msg)) is not None:
        return Body(msg, LINE_REGISTERED, code, call={"trunk": m["name"] or m["line"]}, vendor={"line": m["line"]})
    if msg == "Service started":
        return Body(msg, SERVICE_STARTED, code or CODES[SERVICE_STARTED])
    if (m := _STOP.match(msg)) is not None:
        return Body(msg, SERVICE_STOP, code or CODES[SERVICE_STOP], reason=m["what"].strip() or None)
    if (m := _EMERGENCY.match(msg)) is not None:
        return Body(msg, EMERGENCY_CALL, code or CODES[EMERGENCY_CALL],
                    call={"callee": m["number"].strip(), "caller": m["from"].strip()})
    if (m := _TRUNK.match(msg)) is not None:
        return Body(msg, TRUNK_STATUS, code or CODES[TRUNK_STATUS], call={"trunk": m["trunk"].strip()},
                    vendor={"status": m["status"].strip()})
    raise ParseError("unsupported_variant", f"not a documented 3CX message: {msg[:96]!r}")
