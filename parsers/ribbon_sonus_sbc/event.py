"""Event assembly: the only place that writes the event."""

from __future__ import annotations

from ucsiem.parsing import Kind, ParsedEvent, kind_fields, prune

from .body import Body
from .header import Header
from .values import REASONS

TICK_NS = 10_000_000  # Ribbon "ticks" and Call Service Duration are 10 ms units


def assemble(header: Header, body: Body, found: Kind) -> ParsedEvent:
    """START: @timestamp the connect time (else the start); STOP and ATTEMPT: the disconnect time."""
    reason, duration = body.disconnect_reason, body.duration
    return prune({
        "@timestamp": body.end or body.connect or body.start,
        "event": kind_fields(found) | {
            "code": body.record_type,
            "reason": REASONS.get(reason) if reason is not None else None,
            "duration": duration * TICK_NS if duration is not None else None,
        },
        "observer": {"hostname": body.gateway},
        "network": {"protocol": "sip"} if body.signalled else None,
        "source": {"ip": body.ingress_ip, "user": {"name": body.calling_number}},
        "destination": {"ip": body.egress_ip, "user": {"name": body.called_number}},
        "uc": {
            "call": {
                "id": body.gcid, "leg_id": body.accounting_id, "caller": body.calling_number or None,
                "callee": body.called_number or None, "trunk": body.ingress_trunk_group, "route": body.route_label,
                "setup_time": body.start, "connect_time": body.connect, "end_time": body.end,
                "disconnect_cause": str(reason) if reason is not None else None,
                "disconnect_side": body.disconnect_side,
                "duration": duration / 100 if duration is not None else None,
            },
            "sip": body.sip,
            "vendor": body.vendor,
        },
        "tags": body.tags,
    })


def assemble_unmapped(header: Header, found: Kind) -> ParsedEvent:
    """A record type kept as a diagnostic, stamped with the reference time."""
    return prune({
        "@timestamp": header.reference,
        "event": kind_fields(found) | {"code": header.record_type},
        "message": f"Ribbon {header.record_type} accounting record (fields not mapped)",
        "tags": ["timestamp_from_reference", "ribbon_record_not_mapped"],
    })
