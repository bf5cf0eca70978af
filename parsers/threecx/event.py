"""Event assembly: the only place that writes the event."""

from __future__ import annotations

from ucsiem.parsing import Kind, ParsedEvent, kind_fields, prune

from .body import LINE_REGISTERED, SERVICE_STARTED, SERVICE_STOP, Body
from .header import Header

NOT_SIP = {SERVICE_STARTED, SERVICE_STOP}  # the service's own events: no SIP network


def assemble(header: Header, body: Body, found: Kind) -> ParsedEvent:
    """The message has no time: `@timestamp` is the read time, tagged `timestamp_from_reference`."""
    return prune({
        "@timestamp": header.reference,
        "message": body.message,
        "event": kind_fields(found) | {"code": body.code, "reason": body.reason},
        "network": None if body.family in NOT_SIP else {
            "protocol": "sip", "direction": "outbound" if body.family == LINE_REGISTERED else None},
        "source": {"ip": body.source_ip, "port": body.source_port} if body.source_ip is not None else None,
        "user": {"name": body.user} if body.user is not None else None,
        "uc": {"registration": {"contact": body.contact} if body.contact is not None else None, "sip": body.sip,
               "call": body.call, "vendor": body.vendor or None},
        "tags": ["timestamp_from_reference", *body.tags],
    })
