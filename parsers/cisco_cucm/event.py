"""Event assembly: the only place that writes the event."""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import SYSLOG_SEVERITIES, Kind, ParsedEvent, kind_fields, prune

from .body import Body
from .header import Header

NONE: dict[str, Any] = {}


def assemble(header: Header, body: Body, found: Kind) -> ParsedEvent:
    severity, facility = body.severity, header.facility
    # a failed administrator login of the audit log says why in its details
    reason = body.details if found.action == "admin-login" and found.outcome == "failure" and body.details \
        else body.reason
    tags = []
    if not body.complete:
        tags.append("truncated_tags")
    if header.zone_assumed:
        tags.append("timezone_assumed")
    hostname = header.host or body.node
    return prune({
        "@timestamp": header.timestamp,
        "message": body.message,
        "event": kind_fields(found) | {"code": body.code, "severity": severity, "provider": body.provider,
                                       "reason": reason},
        "log": {"level": SYSLOG_SEVERITIES[severity], "syslog": {
            "severity": {"name": SYSLOG_SEVERITIES[severity], "code": severity},
            "priority": header.pri,
            "facility": {"name": facility[0], "code": facility[1]} if facility is not None else None,
            "hostname": header.host,
        }},
        **({"observer": {"hostname": hostname}} if hostname else NONE),
        **({"source": {"ip": body.source_ip}} if body.source_ip else NONE),
        **({"user": {"name": body.user}} if body.user else NONE),
        **({"network": {"protocol": body.protocol, "application": body.application}}
           if body.protocol or body.application else NONE),
        **({"process": {"name": body.app}} if body.app else NONE),
        **({"rule": {"name": body.alert_name}} if body.rtmt and body.alert_name else NONE),
        "uc": {
            "device": {"name": body.device_name, "mac": body.mac} if body.device_name or body.mac else None,
            "vendor": body.vendor | {"sequence": header.seq} if header.seq is not None else body.vendor,
        },
        "tags": tags,
    })
