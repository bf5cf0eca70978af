"""Event assembly: the only place that writes the event, one function per event family.

`@timestamp` is the envelope's time, else the time the object gives (`body.time`), else the time the
record was read, tagged `time_from_reference`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ucsiem.parsing import Kind, ParsedEvent, kind_fields, prune

from .body import CallLog, Chat, Conference, Operator, Other, Phone, Recording, UserAccount
from .header import Header
from .values import e164


def _time(header: Header, when: datetime | None) -> datetime:
    return header.stamp or when or header.received


def _tags(header: Header, when: datetime | None) -> list[str] | None:
    # No time in the body at all (some test payloads lack event_ts): the time the record was read.
    return ["time_from_reference"] if (header.stamp or when) is None else None


def _message(name: str, parts: list[tuple[str, str | None]], extra: str = "") -> str:
    shown = " ".join(f"{key}={value!r}" for key, value in parts if value)
    text_ = f"{name} {shown}".strip()
    return f"{text_}: {extra}" if extra else text_


def _operator(op: Operator | None) -> dict[str, Any]:
    """The operator (who performed a management action) as `user.*`."""
    if op is None:
        return {}
    return {"name": op.email, "email": op.email if op.email and "@" in op.email else None, "id": op.id}


def _conference_user(body: Conference) -> dict[str, Any]:
    # the participant is the subject of participant events; otherwise the operator, else the host
    part = body.participant
    if part is not None:
        return {"full_name": part.user_name, "name": part.email, "email": part.email, "id": part.id}
    return _operator(body.operator) if body.operator is not None else {"id": body.host_id}


def _conference_span(body: Conference, found: Kind) -> tuple[datetime | None, datetime | None]:
    part = body.participant
    start = end = None
    if part is not None and found.action in ("conference-join", "conference-leave"):
        start, end = part.join_time, part.leave_time  # this participant's attendance
    return body.start or start, body.end or end


def assemble_conference(header: Header, body: Conference, found: Kind) -> ParsedEvent:
    part = body.participant
    who = (part.user_name or part.email) if part is not None else None
    start, end = _conference_span(body, found)
    return prune({
        "@timestamp": _time(header, body.time),
        "tags": _tags(header, body.time),
        "message": _message(header.name, [("participant", who), ("meeting", body.id), ("topic", body.topic)],
                            body.changes.text),
        "event": kind_fields(found) | {"code": header.name, "provider": header.family, "start": start, "end": end,
                                       "reason": body.issues or (part.leave_reason if part is not None else None)},
        "organization": {"id": header.account},
        "user": _conference_user(body),
        "uc": {"conference": {"id": body.id, "name": body.topic, "participant": who}, "vendor": body.vendor},
    })


def _account_user(body: UserAccount, found: Kind) -> dict[str, Any]:
    person = body.subject
    if found.action in ("user-login", "user-logout") or body.operator is None:
        # the user signing in/out, or the subject of an event without an operator
        return {"name": person.email, "email": person.email, "id": person.id, "full_name": person.full_name}
    # an operator (admin) acted on this user, or on the sub-account of this owner
    return _operator(body.operator) | {"target": {
        "name": person.email, "email": person.email if person.email and "@" in person.email else None,
        "id": person.id, "full_name": person.full_name}}


def assemble_user_account(header: Header, body: UserAccount, found: Kind) -> ParsedEvent:
    operator = body.operator.email if body.operator is not None else None
    return prune({
        "@timestamp": _time(header, body.time),
        "tags": _tags(header, body.time),
        "message": _message(header.name, [(header.family, body.message_subject), ("by", operator)],
                            body.changes.text),
        "event": kind_fields(found) | {"code": header.name, "provider": header.family},
        "organization": {"id": header.account,
                         "name": body.organization_name if header.account is not None else None},
        "user": _account_user(body, found),
        "uc": {"vendor": body.vendor},
    })


def assemble_phone(header: Header, body: Phone, found: Kind) -> ParsedEvent:
    connect, end = body.connect, body.end
    return prune({
        "@timestamp": _time(header, body.time),
        "tags": _tags(header, body.time),
        "message": _message(header.name, [("call", body.call_id), ("from", body.caller), ("to", body.callee)]),
        "event": kind_fields(found) | {"code": header.name, "provider": header.family,
                                       "start": body.setup or connect, "end": end},
        "organization": {"id": header.account},
        "user": {"id": body.user_id, "full_name": body.user_full_name},
        "uc": {
            "call": {"id": body.call_id, "caller": body.caller, "callee": body.callee,
                     "caller_number": e164(body.caller), "callee_number": e164(body.callee),
                     "setup_time": body.setup, "connect_time": connect, "end_time": end,
                     "duration": (end - connect).total_seconds() if connect and end and end >= connect else None,
                     "disconnect_cause": body.disconnect_cause, "direction": body.direction},
            "device": {"model": body.device_model},
            "vendor": body.vendor,
        },
    })


def assemble_call_log(header: Header, body: CallLog, found: Kind) -> ParsedEvent:
    return prune({
        "@timestamp": _time(header, body.started),
        "tags": _tags(header, body.started),
        "message": _message(header.name, [("from", body.caller), ("to", body.callee), ("result", body.result)]),
        # `duration` is talk time, so the end is not derived from it
        "event": kind_fields(found) | {"code": header.name, "provider": header.family, "start": body.started},
        "organization": {"id": header.account},
        "user": {"id": body.user_id},
        "uc": {
            "call": {"id": body.call_id, "caller": body.caller, "callee": body.callee,
                     "caller_number": e164(body.caller), "callee_number": e164(body.callee),
                     "direction": body.direction, "duration": body.duration, "setup_time": body.started,
                     "disconnect_cause": body.result},
            "vendor": body.vendor,
        },
    })


def assemble_recording(header: Header, body: Recording, found: Kind) -> ParsedEvent:
    return prune({
        "@timestamp": _time(header, body.time),
        "tags": _tags(header, body.time),
        "message": _message(header.name, [("meeting", body.id), ("topic", body.topic)], body.changes.text),
        "event": kind_fields(found) | {"code": header.name, "provider": header.family, "start": body.start,
                                       "end": body.end},
        "organization": {"id": header.account},
        "user": (_operator(body.operator) if body.operator is not None
                 else {"name": body.host_email, "email": body.host_email, "id": body.host_id}),
        "uc": {"conference": {"id": body.id, "name": body.topic}, "vendor": body.vendor},
    })


def assemble_chat(header: Header, body: Chat, found: Kind) -> ParsedEvent:
    operator = body.operator.email if body.operator is not None else None
    return prune({
        "@timestamp": _time(header, body.time),
        "tags": _tags(header, body.time),
        "message": _message(header.name, [("by", operator), ("channel", body.channel_name),
                                          ("contact", body.contact_email)]),
        "event": kind_fields(found) | {"code": header.name, "provider": header.family},
        "organization": {"id": header.account},
        "user": _operator(body.operator),
        "uc": {"vendor": body.vendor},
    })


def assemble(header: Header, body: Other, found: Kind) -> ParsedEvent:
    """An event this parser has no mapping for: who did it and the object's id."""
    return prune({
        "@timestamp": _time(header, body.time),
        "tags": _tags(header, body.time),
        "message": header.name,
        "event": kind_fields(found) | {"code": header.name, "provider": header.family},
        "organization": {"id": header.account},
        "user": _operator(body.operator),
        "uc": {"vendor": body.vendor},
    })
