"""Event assembly: the only place that writes the event, one function per record format."""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import Kind, ParsedEvent, kind_fields, prune

from .body import ACTIVITY, SIP_FRAGMENT, Body, CdrBody, LegacyBody
from .header import Header, Prefix

FROM_REFERENCE = ["timestamp_from_reference"]


def _log(prefix: Prefix, logger: str | None = None) -> dict[str, Any]:
    """`log.syslog` from the receiver's tokens (priority as written, else facility x 8 + severity), `log.level`
    (the severity's name) and `log.logger`."""
    facility, severity, priority = prefix.facility, prefix.severity, prefix.pri
    if priority is None and facility is not None and severity is not None:
        priority = facility[1] * 8 + severity[1]
    return {"syslog": {"facility": {"name": facility[0], "code": facility[1]} if facility is not None else None,
                       "severity": {"name": severity[0], "code": severity[1]} if severity is not None else None,
                       "priority": priority, "hostname": prefix.hostname},
            "level": severity[0] if severity is not None else None, "logger": logger}


def _observer(prefix: Prefix) -> dict[str, Any] | None:
    if prefix.observer_ip is None:
        return {"hostname": prefix.hostname} if prefix.hostname is not None else None
    return {"ip": [prefix.observer_ip], "hostname": prefix.hostname}


def assemble(header: Header, body: Body, found: Kind) -> ParsedEvent:
    """A free-text message: `@timestamp` the device time, else the receiver's, else the reference time."""
    prefix = header.prefix
    timestamp = header.device or header.received
    tags = FROM_REFERENCE if timestamp is None else []
    if body.family == SIP_FRAGMENT:
        tags = [*tags, "sip_fragment"]
    if body.tags:
        tags = [*tags, *body.tags]
    return prune({
        "@timestamp": header.reference if timestamp is None else timestamp,
        "message": body.message,
        "event": kind_fields(found) | {
            "created": header.received, "code": body.code, "reason": body.reason,
            "provider": "activity_log" if body.family == ACTIVITY else None,
        },
        "log": _log(prefix, body.logger),
        "observer": _observer(prefix),
        "source": body.source,
        "destination": body.destination,
        "network": body.network,
        "user": {"name": body.user} if body.user is not None else None,
        "uc": {"vendor": {"seq": prefix.seq} | body.vendor, "sip": body.sip or None, "call": body.call or None},
        "tags": list(tags),
    })


def assemble_legacy(header: Header, body: LegacyBody, found: Kind) -> ParsedEvent:
    """The older event form: the receiver's time stamp (the device's is a time of day only)."""
    prefix = header.prefix
    return prune({
        "@timestamp": header.reference if header.received is None else header.received,
        "message": body.message,
        "event": kind_fields(found) | {"created": header.received, "code": body.name, "reason": body.label},
        "log": _log(prefix),
        "observer": _observer(prefix),
        "uc": {"vendor": body.vendor},
        "tags": list(FROM_REFERENCE) if header.received is None else None,
    })


def assemble_cdr(header: Header, body: CdrBody, found: Kind) -> ParsedEvent:
    """A CDR row: `@timestamp` the report's own time (none on media rows), else the receiver's, else the
    reference time."""
    prefix = header.prefix
    sig = body.signalling
    timestamp = (sig.time if sig is not None else None) or header.received
    duration = sig.duration if sig is not None else None
    return prune({
        "@timestamp": header.reference if timestamp is None else timestamp,
        "event": kind_fields(found) | {
            "created": header.received, "code": body.report,
            "duration": duration * 1_000_000_000 if duration is not None else None,
            "reason": sig.reason if sig is not None else None,
        },
        "log": _log(prefix),
        "observer": _observer(prefix),
        "source": body.source,
        "destination": body.destination,
        "network": body.network,
        "uc": {"sip": body.sip or None, "call": body.call or None, "media": body.media or None,
               "vendor": body.vendor if prefix.seq is None else body.vendor | {"seq": prefix.seq}},
        "tags": [*body.tags, *FROM_REFERENCE] if timestamp is None else body.tags,
    })
