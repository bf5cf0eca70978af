"""callRecord resources: one event for the call, one `media-end` event per segment (or per session).

`GET /communications/callRecords/{id}?$expand=sessions($expand=segments)` returns the call
(type, modalities, times, organizer, participants) with its sessions (one per pair of endpoints) and
their segments (one per leg between two endpoints, with media and quality). Every event made from one
record carries the record id in `uc.call.id`, so a SIEM can regroup them; the events come out in
document order, so the pipeline's id (record offset + index) is stable across replays.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ucsiem.parsing import ParsedEvent, ParseError, jsonvalues, prune

from .identity import (
    NOBODY,
    Party,
    endpoint_user,
    from_endpoint,
    from_identity_set,
    from_participant,
    user_agent,
    user_fields,
)
from .media import endpoint_address, network_vendor, quality, transport
from .values import timestamp

PROVIDER = "callRecords"
MAX_SESSIONS = 2000
MAX_SEGMENTS = 2000
MAX_LEGS = 2000  # media-end events per record; a larger record is cut and tagged `legs_capped`
MAX_PARTICIPANTS = 130  # Graph's own limit on `participants`
SHOWN = 80


def _failure(leg: dict[str, Any]) -> tuple[str | None, str | None]:
    """(reason, stage) of a failureInfo, (None, None) when the leg did not fail."""
    info = jsonvalues.sub(leg, "failureInfo")
    return jsonvalues.text(info, "reason"), jsonvalues.text(info, "stage")


def _seconds(ns: int | None) -> float | None:
    return None if ns is None else ns / 1e9


def record_events(doc: dict[str, Any]) -> list[ParsedEvent]:
    """A callRecord -> [call-end or conference-end, media-end per segment/session...]."""
    call_id = jsonvalues.text(doc, "id")
    if call_id is None:
        raise ParseError("bad_field", "callRecord without an id")
    start, end = timestamp(doc, "startDateTime"), timestamp(doc, "endDateTime")
    modified = timestamp(doc, "lastModifiedDateTime")
    when = end or start or modified
    if when is None:
        raise ParseError("bad_timestamp", f"callRecord {call_id[:SHOWN]!r} has no start, end or modification time")
    call_type = jsonvalues.text(doc, "type") or "unknown"
    sessions = jsonvalues.objects(doc, "sessions", MAX_SESSIONS)
    tags: list[str] = []

    legs: list[ParsedEvent] = []
    failures: list[tuple[str | None, str | None]] = []
    for session in sessions:
        segments = jsonvalues.objects(session, "segments", MAX_SEGMENTS)
        for leg in segments or [session]:
            failures.append(_failure(leg))
            if len(legs) < MAX_LEGS:
                legs.append(leg_event(call_id, session, leg if segments else None, when))
            elif "legs_capped" not in tags:
                tags.append("legs_capped")
        if segments:
            failures.append(_failure(session))  # a session can fail without a failed segment
    reason, stage = next(((r, s) for r, s in failures if r or s), (None, None))

    organizer = from_participant(jsonvalues.sub(doc, "organizer_v2")) if jsonvalues.sub(doc, "organizer_v2") else NOBODY
    if organizer is NOBODY:
        organizer = from_identity_set(jsonvalues.sub(doc, "organizer"))
    parties = [from_participant(item) for item in jsonvalues.objects(doc, "participants_v2", MAX_PARTICIPANTS)]
    if not parties:
        parties = [from_identity_set(item) for item in jsonvalues.objects(doc, "participants", MAX_PARTICIPANTS)]
    participants = [p.label for p in parties if p.label]
    if organizer.upn is None and organizer.id:  # organizer_v2 leaves out the sign-in name participants carry
        same = next((p for p in parties if p.id == organizer.id and p.upn), None)
        organizer = organizer._replace(upn=same.upn) if same else organizer
    first = sessions[0] if sessions else {}
    caller, callee = from_endpoint(jsonvalues.sub(first, "caller")), from_endpoint(jsonvalues.sub(first, "callee"))

    conference = call_type == "groupCall"
    action = "conference-end" if conference else "call-end"
    outcome = "failure" if (reason or stage) else ("success" if sessions else None)
    ns = jsonvalues.duration_ns(start, end)
    vendor: dict[str, Any] = {
        "type": call_type, "version": jsonvalues.integer(doc, "version"),
        "modalities": jsonvalues.strings(doc, "modalities"),
        "participants": participants,
        "sessions": len(sessions) if "sessions" in doc else None,
    }
    event: ParsedEvent = {
        "@timestamp": when,
        "message": _record_message(call_type, call_id, doc, organizer, len(sessions)),
        "event": {
            "kind": "event", "action": action, "code": call_type, "provider": PROVIDER,
            "category": ["session"] if conference else ["network", "session"],
            "type": ["end"] if conference else ["connection", "end"],
            "outcome": outcome, "reason": reason, "duration": ns, "created": modified,
            # first join to last leave: a meeting's span, not a connect time (uc.call has none here)
            "start": start, "end": end,
        },
        "user": user_fields(organizer),
        "organization": {"id": organizer.tenant_id},  # the organizer's tenant owns the record
        "url": {"original": jsonvalues.text(doc, "joinWebUrl")},
        "uc": {
            "call": {
                "id": call_id, "duration": _seconds(ns),
                "caller": None if conference else caller.label, "callee": None if conference else callee.label,
                "caller_number": None if conference else caller.number,
                "callee_number": None if conference else callee.number,
                "disconnect_cause": reason, "disconnect_category": stage,
            },
            "conference": {"id": call_id} if conference else None,
            "vendor": vendor,
        },
        "tags": tags,
    }
    return [prune(event), *legs]


def _record_message(call_type: str, call_id: str, doc: dict[str, Any], organizer: Party, sessions: int) -> str:
    parts = [f"Teams {call_type} call record {call_id[:SHOWN]}"]
    if modalities := jsonvalues.strings(doc, "modalities", 8):
        parts.append("modalities " + ",".join(m[:32] for m in modalities))
    if organizer.label:
        parts.append(f"organizer {organizer.label[:SHOWN]}")
    if "sessions" in doc:
        parts.append(f"{sessions} session(s)")
    return "; ".join(parts)


def leg_event(call_id: str, session: dict[str, Any], segment: dict[str, Any] | None,
              fallback: datetime, fallback_tag: str | None = None) -> ParsedEvent:
    """One `media-end` event for a segment, or for a session when segments were not expanded."""
    leg = segment if segment is not None else session
    kind = "segment" if segment is not None else "session"
    caller_ep = jsonvalues.sub(leg, "caller") or jsonvalues.sub(session, "caller")
    callee_ep = jsonvalues.sub(leg, "callee") or jsonvalues.sub(session, "callee")
    caller, callee = from_endpoint(caller_ep), from_endpoint(callee_ep)
    vendor: dict[str, Any] = {"modalities": jsonvalues.strings(session, "modalities"),
                              "isTest": jsonvalues.flag(session, "isTest")}
    if kind == "segment":
        vendor["session.id"] = jsonvalues.text(session, "id")
    agent = user_agent(caller_ep, "caller", vendor)
    vendor["callee.userAgent.headerValue"] = user_agent(callee_ep, "callee", vendor)
    for side, party, endpoint in (("caller", caller, caller_ep), ("callee", callee, callee_ep)):
        vendor[f"{side}.identity"] = party.kind
        if side == "callee":  # the caller's tenant is organization.id, its device name uc.device.name
            vendor["callee.tenantId"] = party.tenant_id
            vendor["callee.name"] = jsonvalues.text(endpoint, "name")
        vendor[f"{side}.feedback.rating"] = jsonvalues.text(jsonvalues.sub(endpoint, "feedback"), "rating")

    figures: dict[str, Any] = {}
    caller_net: dict[str, Any] = {}
    callee_net: dict[str, Any] = {}
    if segment is not None:
        figures, caller_net, callee_net = quality(segment, vendor)
        network_vendor(caller_net, "callerNetwork", vendor)
        network_vendor(callee_net, "calleeNetwork", vendor)

    reason, stage = _failure(leg)
    start, end = timestamp(leg, "startDateTime"), timestamp(leg, "endDateTime")
    ns = jsonvalues.duration_ns(start, end)
    leg_id = jsonvalues.text(leg, "id")
    event: ParsedEvent = {
        "@timestamp": end or start or fallback,
        "message": f"Teams {kind} {(leg_id or '?')[:SHOWN]} of call {call_id[:SHOWN]}: "
                   f"{(caller.label or '?')[:SHOWN]} -> {(callee.label or '?')[:SHOWN]}"
                   + (f" failed at {stage or 'unknown stage'}: {reason or 'no reason given'}"[:200]
                      if reason or stage else ""),
        "event": {
            "kind": "event", "action": "media-end", "code": kind, "provider": PROVIDER,
            "category": ["network"], "type": ["end"],
            "outcome": "failure" if (reason or stage) else "success",
            "reason": reason, "duration": ns, "start": start, "end": end,
        },
        "source": {**endpoint_address(caller_net), "user": endpoint_user(caller)},
        "destination": {**endpoint_address(callee_net), "user": endpoint_user(callee)},
        "network": {"transport": transport(caller_net) or transport(callee_net)},
        "user": user_fields(caller),
        # the tenant of `user` (the caller); a phone or service caller has none: the callee's
        "organization": {"id": caller.tenant_id or callee.tenant_id},
        "user_agent": {"original": agent},
        "uc": {
            "call": {
                "id": call_id, "leg_id": leg_id, "caller": caller.label, "callee": callee.label,
                "caller_number": caller.number, "callee_number": callee.number,
                # a leg that failed at call setup never connected: its start is the setup time
                "setup_time": start if stage == "callSetup" else None,
                "duration": None if stage == "callSetup" else _seconds(ns),
                "disconnect_cause": reason, "disconnect_category": stage,
            },
            "media": figures,
            "device": {"name": jsonvalues.text(caller_ep, "name")},
            "vendor": vendor,
        },
        "tags": [fallback_tag] if fallback_tag and not (start or end) else None,
    }
    return prune(event)


def sessions_page_events(sessions: list[dict[str, Any]], call_id: str, fallback: datetime) -> list[ParsedEvent]:
    """`GET /communications/callRecords/{id}/sessions[?$expand=segments]` page: legs only (the call
    itself is not in the page); the call id comes from the page's `@odata.context`."""
    events: list[ParsedEvent] = []
    for session in sessions[:MAX_SESSIONS]:
        segments = jsonvalues.objects(session, "segments", MAX_SEGMENTS)
        for leg in segments or [session]:
            if len(events) >= MAX_LEGS:
                return events
            events.append(leg_event(call_id, session, leg if segments else None, fallback,
                                    "timestamp_from_reference"))
    return events
