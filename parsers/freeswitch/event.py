"""Event assembly: the only place that writes the event."""

from __future__ import annotations

from ucsiem.parsing import Kind, ParsedEvent, kind_fields, prune

from .body import Body
from .header import Header


def assemble(header: Header, body: Body, found: Kind) -> ParsedEvent:
    # (a member left None rather than an empty dict when the message has none: less for prune)
    return prune({
        "@timestamp": header.time,
        "message": header.message,
        "event": kind_fields(found) | {"created": header.created, "reason": body.reason},
        "log": {"level": header.level, "logger": header.logger, "syslog": header.syslog},
        "observer": header.observer,
        "process": header.process,
        "source": {"ip": body.source_ip} if body.source_ip else None,
        "destination": {"user": {"name": body.callee_user, "domain": body.callee_domain}}
        if body.callee_user else None,
        "user": {"name": body.user, "domain": body.domain} if body.user else None,
        "network": {"protocol": body.protocol, "application": body.application}
        if body.protocol or body.application else None,
        "uc": {
            "call": {"leg_id": body.leg_id or header.leg_id, "callee": body.callee, "disconnect_cause": body.cause}
            if body.leg_id or header.leg_id or body.callee or body.cause else None,
            "registration": {"aor": body.aor, "expires": body.expires, "contact": body.contact}
            if body.aor or body.expires is not None else None,
            "sip": {"method": body.method} if body.method else None,
            "vendor": {"line": header.line, "subsystem": header.subsystem, "cpu_idle": header.cpu_idle,
                       "profile": body.profile, "acl": body.acl, "channel": body.channel,
                       "channel_state": body.channel_state},
        },
    })
