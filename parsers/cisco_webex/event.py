"""Event assembly: the only place that writes the event, one function per document family and webhook
resource.

Audit items are dated by their `created`. A webhook is dated by the time `data` gives for the event
(`body.time`), else the time the record was read, tagged `time_from_reference`. `event.start` /
`event.end` say when the meeting, attendance, call or recording the event is about began and ended
(never a scheduled time).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ucsiem.parsing import Kind, ParsedEvent, kind_fields, prune

from .body import Audit, Call, Meeting, Membership, Message, Other, Participant, Person, Recording, ServiceApp
from .header import AuditHeader, WebhookHeader
from .values import e164

AUDIT = "audit"
WEBHOOK = "webhook"
_OUTBOUND = ("originator", "clickToDial")  # personality of the calling side


def _person(person: Person | None) -> dict[str, Any] | None:
    if person is None:
        return None
    return {"id": person.id, "name": person.name, "email": person.email, "full_name": person.full_name}


def assemble_audit(header: AuditHeader, body: Audit, found: Kind) -> ParsedEvent:
    email = body.actor_email
    return prune({
        "@timestamp": header.created,
        "message": body.action_text,
        "event": kind_fields(found) | {"code": body.description or body.category or None, "provider": AUDIT,
                                       "reason": body.reason if found.outcome == "failure" else None},
        "user": {"name": email or body.actor_name, "email": email if email and "@" in email else None,
                 "full_name": body.actor_name, "id": header.actor_id, "roles": body.roles,
                 "target": _person(body.target)},
        "organization": {"id": header.actor_org_id, "name": body.org_name},
        "source": {"ip": body.source_ip, "address": body.source_address},
        "user_agent": {"original": body.user_agent},
        "uc": {"vendor": body.vendor},
    })


# -- webhooks ----------------------------------------------------------------------------------

def _tags(when: datetime | None) -> list[str] | None:
    return ["time_from_reference"] if when is None else None


def assemble_meeting(header: WebhookHeader, body: Meeting, found: Kind) -> ParsedEvent:
    return prune({
        "@timestamp": body.time or header.received,
        "tags": _tags(body.time),
        "message": f"meeting {body.verb}: {body.title or body.id or '?'}",
        "event": kind_fields(found) | {"code": header.code, "provider": WEBHOOK, "start": body.start,
                                       "end": body.end},
        "organization": {"id": header.org_id},
        "user": {"id": header.actor_id, "email": body.host_email, "name": body.host_email,
                 "full_name": body.host_name},
        "uc": {"conference": {"id": body.id, "name": body.title}, "vendor": body.vendor},
    })


def assemble_participant(header: WebhookHeader, body: Participant, found: Kind) -> ParsedEvent:
    return prune({
        "@timestamp": body.time or header.received,
        "tags": _tags(body.time),
        "message": f"participant {body.verb}: {body.who or '?'} in meeting {body.meeting_id or '?'}",
        "event": kind_fields(found) | {"code": header.code, "provider": WEBHOOK, "start": body.start,
                                       "end": body.end},
        "organization": {"id": header.org_id},
        # the participant is the subject (the webhook actor is uc.vendor.actorId)
        "user": {"email": body.email, "name": body.email, "full_name": body.display_name},
        "uc": {"conference": {"id": body.meeting_id, "participant": body.who, "role": body.role},
               "device": {"model": body.device_model}, "vendor": body.vendor},
    })


def assemble_recording(header: WebhookHeader, body: Recording, found: Kind) -> ParsedEvent:
    return prune({
        "@timestamp": body.time or header.received,
        "tags": _tags(body.time),
        "message": f"recording {body.verb}: {body.topic or body.id or '?'}",
        "event": kind_fields(found) | {"code": header.code, "provider": WEBHOOK, "start": body.start},
        "organization": {"id": header.org_id},
        "user": {"id": header.actor_id, "email": body.host, "name": body.host},
        # a Webex Calling recording's call session: the uc.call.id of that call's telephony_calls events
        "uc": {"conference": {"id": body.meeting_id, "name": body.topic}, "call": {"id": body.call_session_id},
               "vendor": body.vendor},
    })


def assemble_call(header: WebhookHeader, body: Call, found: Kind) -> ParsedEvent:
    outbound = body.personality in _OUTBOUND
    inbound = body.personality == "terminator"
    answered, ended = body.answered, body.ended
    return prune({
        "@timestamp": body.time or header.received,
        "tags": _tags(body.time),
        "message": f"call {body.event_type or body.verb}: {body.personality or '?'} remote {body.number or '?'}",
        "event": kind_fields(found) | {"code": header.code, "provider": WEBHOOK, "start": body.created,
                                       "end": ended},
        "organization": {"id": header.org_id},
        "user": {"id": body.person_id or header.actor_id},
        "uc": {
            "call": {"id": body.session_id, "leg_id": body.call_id,
                     "direction": "outbound" if outbound else "inbound" if inbound else None,
                     "callee": body.number if outbound else None,
                     "callee_number": e164(body.number) if outbound else None,
                     "caller": body.number if inbound else None,
                     "caller_number": e164(body.number) if inbound else None,
                     "setup_time": body.created, "connect_time": answered, "end_time": ended,
                     "duration": (ended - answered).total_seconds()
                     if answered is not None and ended is not None and ended >= answered else None,
                     "disconnect_cause": "not answered" if found.action == "call-end" and answered is None
                     else None},
            "vendor": body.vendor,
        },
    })


def assemble_message(header: WebhookHeader, body: Message, found: Kind) -> ParsedEvent:
    return prune({
        "@timestamp": body.time or header.received,
        "tags": _tags(body.time),
        "message": f"message {body.verb} by {body.person_email or '?'} in {body.room_type or 'room'}",
        "event": kind_fields(found) | {"code": header.code, "provider": WEBHOOK},
        "organization": {"id": header.org_id},
        "user": {"id": body.person_id or header.actor_id, "email": body.person_email, "name": body.person_email},
        "uc": {"vendor": body.vendor},
    })


def assemble_membership(header: WebhookHeader, body: Membership, found: Kind) -> ParsedEvent:
    return prune({
        "@timestamp": body.time or header.received,
        "tags": _tags(body.time),
        "message": f"membership {body.verb}: {body.member.email or '?'} in {body.room_id or '?'}",
        "event": kind_fields(found) | {"code": header.code, "provider": WEBHOOK},
        "organization": {"id": header.org_id},
        # the actor (who added or removed) is user.id; the member is the account the change acted on
        "user": {"id": header.actor_id, "target": _person(body.member)},
        "uc": {"vendor": body.vendor},
    })


def assemble_service_app(header: WebhookHeader, body: ServiceApp, found: Kind) -> ParsedEvent:
    return prune({
        "@timestamp": body.time or header.received,
        "tags": _tags(body.time),
        "message": f"service app {body.verb}",
        "event": kind_fields(found) | {"code": header.code, "provider": WEBHOOK},
        "organization": {"id": header.org_id},
        "user": {"id": header.actor_id},
        "uc": {"vendor": body.vendor},
    })


def assemble(header: WebhookHeader, body: Other, found: Kind) -> ParsedEvent:
    """A webhook resource without a mapping: who did it and the object's id."""
    return prune({
        "@timestamp": body.time or header.received,
        "tags": _tags(body.time),
        "message": f"webhook {header.code}",
        "event": kind_fields(found) | {"code": header.code, "provider": WEBHOOK},
        "organization": {"id": header.org_id},
        "user": {"id": header.actor_id},
        "uc": {"vendor": body.vendor},
    })
