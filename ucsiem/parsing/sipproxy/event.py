"""Event assembly: the only place that writes the event of a Kamailio or OpenSIPS line."""

from __future__ import annotations

from typing import Any

from ucsiem.parsing.contract import ParsedEvent
from ucsiem.parsing.helpers import add_group, present, prune
from ucsiem.parsing.kinds import Kind, kind_fields
from ucsiem.parsing.syslog import priority_fields

from .body import Body
from .header import Header

_SIP_PREFIXES = ("sip-", "call-", "dialog-")
_NS = 1_000_000_000


def _vendor(header: Header, body: Body) -> dict[str, Any] | None:
    """The message's leftovers, then where the product logged it (these win over an xlog key of that name)."""
    vendor = body.vendor
    if header.process_no is None and body.file is None and body.function is None:
        return vendor or None
    vendor = dict(vendor)
    if header.process_no is not None:
        vendor["process_no"] = header.process_no
    if body.file is not None:
        vendor["file"] = body.file
        if body.line is not None:
            vendor["line"] = body.line
    if body.function is not None:
        vendor["function"] = body.function
    return vendor


def assemble(header: Header, body: Body, found: Kind) -> ParsedEvent:
    """The event with only the values present: the sections read from the header are written member by
    member, the body's sections (which may nest: `source.user`, `tls.client`) are pruned on their own. A
    `prune` walk over the whole event was a fifth of these parsers' time."""
    tag = header.tag
    handshake = found.action == "tls-handshake" and found.outcome in ("success", "failure")
    sip = body.sip or found.action.startswith(_SIP_PREFIXES)
    ev = kind_fields(found)
    if body.code:
        ev["code"] = body.code[:256]
    if body.reason:
        ev["reason"] = body.reason
    if body.duration is not None:
        ev["duration"] = int(body.duration * _NS)
    event: ParsedEvent = {"@timestamp": header.time, "event": ev}
    if body.message:
        event["message"] = body.message
    log = present({"level": body.level, "logger": body.module})
    names = present({"hostname": header.host, "appname": tag})
    if header.pri is not None:
        log["syslog"] = priority_fields(header.pri) | names
    elif names:
        log["syslog"] = names
    add_group(event, "log", log)
    if tag is not None:
        add_group(event, "process", present({"name": tag.rsplit("/", 1)[-1] or tag, "pid": header.pid}))
    elif header.pid is not None:
        event["process"] = {"pid": header.pid}
    add_group(event, "observer", present({"hostname": header.host, "version": body.version}))
    add_group(event, "source", prune(body.source) if body.source else {})
    add_group(event, "destination", prune(body.destination) if body.destination else {})
    add_group(event, "user", prune(body.user) if body.user else {})
    if body.network or sip or body.direction:
        network = body.network | {"protocol": "sip" if sip else None, "direction": body.direction}
        add_group(event, "network", prune(network))
    if handshake:
        event["tls"] = prune(body.tls | {"established": found.outcome == "success"})
    elif body.tls:
        add_group(event, "tls", prune(body.tls))
    if body.user_agent:
        event["user_agent"] = {"original": body.user_agent}
    uc: dict[str, Any] = {}
    if body.sip:
        add_group(uc, "sip", prune(body.sip))
    call = body.call if body.duration is None else body.call | {"duration": body.duration}
    if call:
        add_group(uc, "call", prune(call))
    if body.registration:
        add_group(uc, "registration", prune(body.registration))
    if vendor := _vendor(header, body):
        add_group(uc, "vendor", prune(vendor))
    add_group(event, "uc", uc)
    if tags := header.tags + body.tags if body.tags else header.tags:
        event["tags"] = tags
    return event
