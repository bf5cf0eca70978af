"""Event assembly: the only place that writes the event."""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import Kind, ParsedEvent, jsonvalues, kind_fields, prune, split_upn

from .body import Body
from .header import Header

SHOWN = 80


def _message(header: Header, body: Body) -> str:
    parts = [header.operation]
    if header.user_id:
        parts.append(f"by {header.user_id[:SHOWN]}")
    if body.team:
        parts.append(f"team {body.team[:SHOWN]!r}")
    if body.channel:
        parts.append(f"channel {body.channel[:SHOWN]!r}")
    if body.logon_error:
        parts.append(f"error {body.logon_error[:SHOWN]}")
    return " ".join(parts)


def _target(body: Body) -> dict[str, Any] | None:
    if body.target_upn is None and body.target_name is None:
        return None
    name, domain = split_upn(body.target_upn)
    return {"name": name, "domain": domain, "email": body.target_upn if domain else None,
            "full_name": body.target_name}


def assemble(header: Header, body: Body, found: Kind) -> ParsedEvent:
    user_name, user_domain = split_upn(header.user_id)
    client, meeting = header.client, body.meeting
    return prune({
        "@timestamp": header.time,
        "message": _message(header, body),
        "event": kind_fields(found) | {
            "code": header.operation, "provider": header.workload,
            "reason": body.logon_error if body.sign_in else None,
            "start": meeting.start if meeting else None, "end": meeting.end if meeting else None,
            "duration": jsonvalues.duration_ns(meeting.start, meeting.end) if meeting else None},
        "user": {"name": user_name, "domain": user_domain, "email": header.user_id if user_domain else None,
                 "id": header.user_key, "target": _target(body)},
        "organization": {"id": header.organization_id},  # the tenant
        "source": ({"address": client.address, "ip": client.ip, "port": client.port, "domain": client.domain}
                   if client else None),
        "user_agent": {"original": body.user_agent},
        "tags": header.tags,
        "url": {"original": meeting.url} if meeting else None,
        "uc": {
            "conference": ({"id": meeting.id, "name": meeting.name, "participant": meeting.participant,
                            "role": meeting.role} if meeting else None),
            "vendor": body.vendor,
        },
    })
