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


def _vendor(header: Header, body: Body) -> dict[str, Any]:
    """The message's leftovers, then where the product logged it (these win over an xlog key of that name)."""
    vendor = body.vendor
    if header.process_no is None and body.file is None and body.function is None:
        return vendor
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
    tag = header.tag
    handshake = found.action == "tls-handshake" and found.outcome in ("success", "failure")
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
            "syslog": (priority_fields(header.pri) if header.pri is not None else {})
            | {"hostname": header.host, "appname": tag},
        },
        "process": {"name": None if tag is None else (tag.rsplit("/", 1)[-1] or tag), "pid": header.pid},
        "observer": {"hostname": header.host, "version": body.version},
        "source": body.source,
        "destination": body.destination,
        "user": body.user,
        "network": body.network | {
            "protocol": "sip" if body.sip or found.action.startswith(_SIP_PREFIXES) else None,
            "direction": body.direction,
        },
        "tls": body.tls | {"established": found.outcome == "success"} if handshake else body.tls,
        "user_agent": {"original": body.user_agent},
        "uc": {
            "sip": body.sip,
            "call": body.call if body.duration is None else body.call | {"duration": body.duration},
            "registration": body.registration,
            "vendor": _vendor(header, body),
        },
        "tags": header.tags,
    })
