"""Event assembly: the only place that writes the event."""

from __future__ import annotations

from ucsiem.parsing import Kind, ParsedEvent, kind_fields, prune

from .body import Body
from .header import Header


def assemble(header: Header, body: Body, found: Kind) -> ParsedEvent:
    observer = header.observer
    if body.version:
        observer = {**(observer or {}), "version": body.version}
    # (a member left None rather than an empty dict when the message has none: less for prune)
    return prune({
        "@timestamp": header.time,
        "message": header.message,
        "event": kind_fields(found) | {"provider": header.provider, "code": body.code, "reason": body.reason},
        "log": {"level": header.level.lower() if header.level else None, "logger": header.logger,
                "syslog": header.syslog},
        "observer": observer,
        "process": header.process,
        "network": {"protocol": "xmpp", "application": body.application},
        "source": {"ip": body.source_ip} if body.source_ip else None,
        "user": {"name": body.user, "domain": body.domain} if body.user else None,
        "tls": {"established": True, "version": body.tls_version} if body.encrypted else None,
        "uc": {
            "conference": {"name": body.room, "participant": body.participant} if body.room else None,
            "vendor": header.vendor | body.vendor if body.vendor else header.vendor,
        },
    })
