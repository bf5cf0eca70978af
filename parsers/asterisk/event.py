"""Event assembly: the only place that writes the event, for free-text messages and security events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ucsiem.parsing import Kind, ParsedEvent, add_envelope_groups, add_group, kind_fields, present

from .body import Body
from .header import Header
from .security import SecurityEvent
from .values import PLAIN_TRANSPORTS, SERVICE_PROTOCOL, TRANSPORTS, security_reason


def assemble(header: Header, body: Body, found: Kind) -> ParsedEvent:
    """A free-text message (any other text as a diagnostic event). Written group by group with the values
    present (`present`, `add_group`): a `prune` walk of the whole event was a fifth of this parser's time."""
    event = _common(header, found, header.time)
    if body.reason:
        event["event"]["reason"] = body.reason
    if header.dialplan:
        event["event"]["provider"] = "dialplan"
    source = present(body.source) if body.source else {}
    if body.caller:
        source["user"] = {"name": body.caller}
    add_group(event, "source", source)
    if body.dialled:
        event["destination"] = {"user": {"name": body.dialled}}
    if body.user:
        event["user"] = present({"name": body.user, "domain": body.domain})
    if body.protocol:
        event["network"] = present({"protocol": body.protocol, "application": body.application})
    uc: dict[str, Any] = {}
    if header.leg_id or body.callee or body.caller or body.direction:
        add_group(uc, "call", present({"leg_id": header.leg_id, "caller": body.caller, "callee": body.callee,
                                       "callee_number": body.callee_number, "direction": body.direction}))
    if body.aor:
        uc["registration"] = {"aor": body.aor}
    if body.method or body.from_uri or body.from_tag or body.call_id:
        add_group(uc, "sip", present({"method": body.method, "from_uri": body.from_uri, "from_tag": body.from_tag,
                                      "call_id": body.call_id}))
    add_group(uc, "vendor", present(header.vendor | body.vendor if body.vendor else header.vendor))
    add_group(event, "uc", uc)
    if body.tags:
        event["tags"] = body.tags
    return event


def _common(header: Header, found: Kind, time: datetime) -> ParsedEvent:
    """What every event of this parser has: time, message, classification and the envelope's groups."""
    ev = kind_fields(found)
    if header.created is not None:
        ev["created"] = header.created
    event: ParsedEvent = {"@timestamp": time, "event": ev}
    if header.message:
        event["message"] = header.message
    add_envelope_groups(event, level=header.level, logger=header.logger, syslog=header.syslog,
                        observer=header.observer, process=header.process)
    return event


def _security_vendor(header: Header, sec: SecurityEvent) -> dict[str, Any]:
    """uc.vendor of a security event: the elements as written, under the header's members and those the
    parser sets itself (an element cannot replace them)."""
    vendor = sec.elements | header.vendor if sec.elements else dict(header.vendor)
    if sec.unparsed:
        vendor["unparsed"] = sec.unparsed
    if sec.severity:
        vendor["Severity"] = sec.severity
    if sec.version:
        vendor["EventVersion"] = sec.version
    if sec.account is not None:
        vendor["AccountID"] = sec.account
    if sec.session:
        vendor["SessionID"] = sec.session
    if sec.event_tv and sec.time is None:
        vendor["EventTV"] = sec.event_tv
    if sec.transport and sec.transport not in PLAIN_TRANSPORTS:
        vendor["transport"] = sec.transport
    if sec.candidates:
        vendor["address_candidates"] = sec.candidates
    return vendor


def assemble_security(header: Header, sec: SecurityEvent, found: Kind) -> ParsedEvent:
    """A `SecurityEvent=` message."""
    service = sec.service
    transport = sec.transport
    event = _common(header, found, sec.time or header.time)
    ev = event["event"]
    if sec.name:
        ev["code"] = sec.name
    if reason := security_reason(sec.name, sec.elements):
        ev["reason"] = reason
    if header.dialplan:
        ev["provider"] = "dialplan"
    add_group(event, "source", present(sec.remote) if sec.remote else {})
    add_group(event, "destination", present(sec.local) if sec.local else {})
    if sec.account and sec.account != "<unknown>":
        event["user"] = {"name": sec.account}
    add_group(event, "network", present({
        "application": service or None,
        "protocol": SERVICE_PROTOCOL.get(service.upper(), service.lower()) if service else None,
        "transport": TRANSPORTS.get(transport, transport.lower()) if transport else None,
    }))
    uc: dict[str, Any] = {}
    if header.leg_id:
        uc["call"] = {"leg_id": header.leg_id}
    add_group(uc, "vendor", present(_security_vendor(header, sec)))
    add_group(event, "uc", uc)
    if sec.tags:
        event["tags"] = sec.tags
    return event
