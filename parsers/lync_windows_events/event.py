"""Event assembly: the only place that writes the event."""

from __future__ import annotations

from ucsiem.parsing import Kind, ParsedEvent, kind_fields, prune

from .body import Body
from .header import Header


def assemble(header: Header, body: Body, found: Kind) -> ParsedEvent:
    subject = body.certificate_subject
    return prune({
        "@timestamp": header.timestamp,
        "message": header.message,
        "event": kind_fields(found) | {"code": str(header.event_id), "provider": header.provider,
                                       "created": header.created, "reason": body.reason},
        "log": {"level": header.level},
        "observer": {"hostname": header.computer},
        "process": {"pid": header.pid},
        # the rate-limited partner is the one sending: its edge is the first name of its certificate
        "source": {"domain": subject[0].lower()} if found.action == "flood-block" and subject else None,
        # outgoing connection: the certificate is the remote server's
        "tls": ({"established": False, "server": {"x509": {"subject": {"common_name": subject[:1]}}}}
                if found.action == "tls-handshake" and subject else None),
        "tags": ["not_lync_provider"] if body.component is None else None,
        "uc": {"vendor": {"collector": header.collector, "channel": header.channel, "record_id": header.record_id,
                          **{f"data_{key}": value for key, value in header.data.items()},
                          "certificate_subject": subject, "partner_edges": body.partner_edges,
                          "partner_domains": body.partner_domains}},
    })
