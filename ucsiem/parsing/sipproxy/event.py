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
    # Sections a line does not fill are None, not {}: prune then has fewer dicts to walk (hot path).
    tag = header.tag
    handshake = found.action == "tls-handshake" and found.outcome in ("success", "failure")
    sip = body.sip or found.action.startswith(_SIP_PREFIXES)
    return prune({
        "@timestamp": header.time,
        "message": body.message,
        "event": kind_fields(found) | {
            "code": body.code[:256] if body.code else None,
            "reason": body.reason,
            "duration": None if body.duration is None else int(body.duration * _NS),
        },
        "log": {
            "level": body.level,
            "logger": body.module,
            "syslog": (priority_fields(header.pri) | {"hostname": header.host, "appname": tag}
                       if header.pri is not None else
                       {"hostname": header.host, "appname": tag} if header.host or tag else None),
        },
        "process": {"name": tag.rsplit("/", 1)[-1] or tag, "pid": header.pid} if tag is not None
        else {"pid": header.pid} if header.pid is not None else None,
        "observer": {"hostname": header.host, "version": body.version}
        if header.host is not None or body.version is not None else None,
        "source": body.source or None,
        "destination": body.destination or None,
        "user": body.user or None,
        "network": body.network | {"protocol": "sip" if sip else None, "direction": body.direction}
        if body.network or sip or body.direction else None,
        "tls": body.tls | {"established": found.outcome == "success"} if handshake else body.tls or None,
        "user_agent": {"original": body.user_agent} if body.user_agent else None,
        "uc": {
            "sip": body.sip or None,
            "call": (body.call or None) if body.duration is None else body.call | {"duration": body.duration},
            "registration": body.registration or None,
            "vendor": _vendor(header, body),
        },
        "tags": header.tags + body.tags if body.tags else header.tags,
    })
