"""Event assembly: the only place that writes the event of a Kamailio or OpenSIPS line."""

from __future__ import annotations

from typing import Any

from ucsiem.parsing.contract import ParsedEvent
from ucsiem.parsing.helpers import prune
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
    ev = _present(kind_fields(found))  # a diagnostic's category is empty
    if body.code:
        ev["code"] = body.code[:256]
    if body.reason:
        ev["reason"] = body.reason
    if body.duration is not None:
        ev["duration"] = int(body.duration * _NS)
    event: ParsedEvent = {"@timestamp": header.time, "event": ev}
    if body.message:
        event["message"] = body.message
    log = _present({"level": body.level, "logger": body.module})
    names = _present({"hostname": header.host, "appname": tag})
    if header.pri is not None:
        log["syslog"] = priority_fields(header.pri) | names
    elif names:
        log["syslog"] = names
    _add(event, "log", log)
    if tag is not None:
        _add(event, "process", _present({"name": tag.rsplit("/", 1)[-1] or tag, "pid": header.pid}))
    elif header.pid is not None:
        event["process"] = {"pid": header.pid}
    _add(event, "observer", _present({"hostname": header.host, "version": body.version}))
    _add(event, "source", prune(body.source) if body.source else {})
    _add(event, "destination", prune(body.destination) if body.destination else {})
    _add(event, "user", prune(body.user) if body.user else {})
    if body.network or sip or body.direction:
        _add(event, "network", prune(body.network | {"protocol": "sip" if sip else None, "direction": body.direction}))
    if handshake:
        event["tls"] = prune(body.tls | {"established": found.outcome == "success"})
    elif body.tls:
        _add(event, "tls", prune(body.tls))
    if body.user_agent:
        event["user_agent"] = {"original": body.user_agent}
    uc: dict[str, Any] = {}
    if body.sip:
        _add(uc, "sip", prune(body.sip))
    call = body.call if body.duration is None else body.call | {"duration": body.duration}
    if call:
        _add(uc, "call", prune(call))
    if body.registration:
        _add(uc, "registration", prune(body.registration))
    if vendor := _vendor(header, body):
        _add(uc, "vendor", prune(vendor))
    _add(event, "uc", uc)
    if tags := header.tags + body.tags if body.tags else header.tags:
        event["tags"] = tags
    return event


def _present(members: dict[str, Any]) -> dict[str, Any]:
    """The members that hold a value: None, "", [] and {} left out, as `prune` leaves them (one level)."""
    return {k: v for k, v in members.items() if v is not None and v != "" and v != [] and v != {}}


def _add(parent: dict[str, Any], key: str, child: dict[str, Any]) -> None:
    if child:
        parent[key] = child
