"""Event assembly: the only place that writes the event, for free-text messages and security events."""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import Kind, ParsedEvent, kind_fields, prune

from .body import Body
from .header import Header
from .security import SecurityEvent
from .values import PLAIN_TRANSPORTS, SERVICE_PROTOCOL, TRANSPORTS, security_reason


def assemble(header: Header, body: Body, found: Kind) -> ParsedEvent:
    """A free-text message (any other text as a diagnostic event)."""
    source = body.source
    if body.caller:
        source = {**(source or {}), "user": {"name": body.caller}}
    return prune({
        "@timestamp": header.time,
        "message": header.message,
        "event": kind_fields(found) | {"created": header.created, "reason": body.reason,
                                       "provider": "dialplan" if header.dialplan else None},
        "log": {"level": header.level, "logger": header.logger, "syslog": header.syslog},
        "observer": header.observer,
        "process": header.process,
        "source": source,
        # (a member left None rather than an empty dict when the message has none: less for prune)
        "destination": {"user": {"name": body.dialled}} if body.dialled else None,
        "user": {"name": body.user, "domain": body.domain} if body.user else None,
        "network": {"protocol": body.protocol, "application": body.application} if body.protocol else None,
        "uc": {
            "call": {"leg_id": header.leg_id, "caller": body.caller, "callee": body.callee,
                     "callee_number": body.callee_number, "direction": body.direction}
            if header.leg_id or body.callee or body.caller or body.direction else None,
            "registration": {"aor": body.aor} if body.aor else None,
            "sip": {"method": body.method, "from_uri": body.from_uri, "from_tag": body.from_tag,
                    "call_id": body.call_id} if body.method or body.from_uri or body.from_tag or body.call_id else None,
            "vendor": header.vendor | body.vendor if body.vendor else header.vendor,
        },
        "tags": body.tags,
    })


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
    return prune({
        "@timestamp": sec.time or header.time,
        "message": header.message,
        "event": kind_fields(found) | {"code": sec.name, "created": header.created,
                                       "reason": security_reason(sec.name, sec.elements),
                                       "provider": "dialplan" if header.dialplan else None},
        "log": {"level": header.level, "logger": header.logger, "syslog": header.syslog},
        "observer": header.observer,
        "process": header.process,
        "source": sec.remote,
        "destination": sec.local,
        "user": {"name": sec.account} if sec.account and sec.account != "<unknown>" else None,
        "network": {"application": service or None,
                    "protocol": SERVICE_PROTOCOL.get(service.upper(), service.lower()) if service else None,
                    "transport": TRANSPORTS.get(transport, transport.lower()) if transport else None},
        "uc": {"call": {"leg_id": header.leg_id} if header.leg_id else None,
               "vendor": _security_vendor(header, sec)},
        "tags": sec.tags,
    })
