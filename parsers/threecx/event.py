"""Event assembly: the only place that writes the event."""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import Kind, ParsedEvent, add_group, kind_fields, present

from .body import LINE_REGISTERED, SERVICE_STARTED, SERVICE_STOP, Body
from .header import Header

NOT_SIP = {SERVICE_STARTED, SERVICE_STOP}  # the service's own events: no SIP network


def assemble(header: Header, body: Body, found: Kind) -> ParsedEvent:
    """The message has no time: `@timestamp` is the read time, tagged `timestamp_from_reference`. Written
    group by group with the values present: a `prune` walk of the whole event was a third of this parser's
    time."""
    event: ParsedEvent = {
        "@timestamp": header.reference,
        "event": kind_fields(found) | present({"code": body.code, "reason": body.reason}),
    }
    if body.message:
        event["message"] = body.message
    if body.family not in NOT_SIP:
        event["network"] = {"protocol": "sip", "direction": "outbound"} if body.family == LINE_REGISTERED \
            else {"protocol": "sip"}
    if body.source_ip is not None:
        event["source"] = present({"ip": body.source_ip, "port": body.source_port})
    if body.user:
        event["user"] = {"name": body.user}
    uc: dict[str, Any] = {}
    if body.contact:
        uc["registration"] = {"contact": body.contact}
    add_group(uc, "sip", present(body.sip) if body.sip else {})
    add_group(uc, "call", present(body.call) if body.call else {})
    add_group(uc, "vendor", present(body.vendor) if body.vendor else {})
    add_group(event, "uc", uc)
    event["tags"] = ["timestamp_from_reference", *body.tags]
    return event
