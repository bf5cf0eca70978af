"""Event assembly: the only place that writes the event, one function per document kind.

Every event made from one callRecord carries the record id in `uc.call.id`, so a SIEM can regroup
them; the events come out in document order, so the pipeline's id (record offset + index) is stable
across replays.
"""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import Kind, ParsedEvent, jsonvalues, kind_fields, prune, split_upn

from .body import Leg, Record, Row, e164
from .header import Header
from .identity import NOBODY, Party
from .media import Address

PROVIDER = "callRecords"
SHOWN = 80


def _seconds(ns: int | None) -> float | None:
    return None if ns is None else ns / 1e9


def _user(party: Party) -> dict[str, Any]:
    """ECS `user.*` of a person (phone numbers and bare ids are not accounts: only their id)."""
    if party.kind in ("phone", "service"):
        return {}
    name, domain = split_upn(party.upn)
    return {"id": party.id, "full_name": party.display_name, "email": party.upn if domain else None,
            "name": name, "domain": domain}


def _endpoint(address: Address, party: Party) -> dict[str, Any]:
    """`source`/`destination`: the address, and the sign-in name (or phone number) and its domain; a
    display name is not an account name, it stays in `uc.call.caller`/`callee` and `user.full_name`."""
    name, domain = split_upn(party.upn)
    return {"ip": address.ip, "port": address.port, "nat": {"ip": address.nat_ip},
            "user": {"name": name or party.number, "domain": domain}}


def _record_message(body: Record) -> str:
    parts = [f"Teams {body.type} call record {body.id[:SHOWN]}"]
    if body.modalities_shown:
        parts.append("modalities " + ",".join(m[:32] for m in body.modalities_shown))
    if body.organizer.label:
        parts.append(f"organizer {body.organizer.label[:SHOWN]}")
    if body.has_sessions:
        parts.append(f"{body.sessions} session(s)")
    return "; ".join(parts)


def assemble(header: Header, body: Record, found: Kind) -> ParsedEvent:
    """The call (or meeting) of a callRecord: call-end or conference-end."""
    del header
    conference = body.type == "groupCall"
    ns = jsonvalues.duration_ns(body.start, body.end)
    caller, callee = (NOBODY, NOBODY) if conference else (body.caller, body.callee)  # a meeting has no two ends
    return prune({
        "@timestamp": body.time,
        "message": _record_message(body),
        "event": kind_fields(found) | {
            "code": body.type, "provider": PROVIDER, "reason": body.reason, "duration": ns, "created": body.modified,
            # first join to last leave: a meeting's span, not a connect time (uc.call has none here)
            "start": body.start, "end": body.end,
        },
        "user": _user(body.organizer),
        "organization": {"id": body.organizer.tenant_id},  # the organizer's tenant owns the record
        "url": {"original": body.join_url},
        "uc": {
            "call": {"id": body.id, "duration": _seconds(ns), "caller": caller.label, "callee": callee.label,
                     "caller_number": caller.number, "callee_number": callee.number,
                     "disconnect_cause": body.reason, "disconnect_category": body.stage},
            "conference": {"id": body.id} if conference else None,
            "vendor": {"type": body.type, "version": body.version, "modalities": body.modalities,
                       "participants": body.participants, "sessions": body.sessions if body.has_sessions else None},
        },
        "tags": ["legs_capped"] if body.legs_capped else None,
    })


def assemble_leg(header: Header, body: Leg, found: Kind) -> ParsedEvent:
    """One `media-end` event for a segment, or for a session when segments were not expanded."""
    del header
    caller, callee, reason, stage = body.caller, body.callee, body.reason, body.stage
    ns = jsonvalues.duration_ns(body.start, body.end)
    figures = body.quality
    return prune({
        "@timestamp": body.end or body.start or body.fallback,
        "message": f"Teams {body.kind} {(body.id or '?')[:SHOWN]} of call {body.call_id[:SHOWN]}: "
                   f"{(caller.label or '?')[:SHOWN]} -> {(callee.label or '?')[:SHOWN]}"
                   + (f" failed at {stage or 'unknown stage'}: {reason or 'no reason given'}"[:200]
                      if reason or stage else ""),
        "event": kind_fields(found) | {"code": body.kind, "provider": PROVIDER, "reason": reason, "duration": ns,
                                       "start": body.start, "end": body.end},
        "source": _endpoint(body.source, caller),
        "destination": _endpoint(body.destination, callee),
        "network": {"transport": body.transport},
        "user": _user(caller),
        # the tenant of `user` (the caller); a phone or service caller has none: the callee's
        "organization": {"id": caller.tenant_id or callee.tenant_id},
        "user_agent": {"original": body.user_agent},
        "uc": {
            "call": {
                "id": body.call_id, "leg_id": body.id, "caller": caller.label, "callee": callee.label,
                "caller_number": caller.number, "callee_number": callee.number,
                # a leg that failed at call setup never connected: its start is the setup time
                "setup_time": body.start if stage == "callSetup" else None,
                "duration": None if stage == "callSetup" else _seconds(ns),
                "disconnect_cause": reason, "disconnect_category": stage,
            },
            "media": {"type": figures.type, "jitter_ms": figures.jitter_ms, "delay_ms": figures.delay_ms,
                      "packet_loss_rate": figures.packet_loss_rate, "mos_degradation": figures.mos_degradation,
                      "codec": figures.codec},
            "device": {"name": body.device_name},
            "vendor": body.vendor,
        },
        "tags": [*body.tags, *([body.fallback_tag] if body.fallback_tag and not (body.start or body.end) else [])],
    })


def _row_user(body: Row) -> dict[str, Any]:
    name, domain = split_upn(body.upn)
    return {"id": body.user_id, "full_name": body.user_display_name, "email": body.upn if domain else None,
            "name": name, "domain": domain}


def assemble_direct_routing(header: Header, body: Row, found: Kind) -> ParsedEvent:
    """A directRoutingLogRow: call-end for an established call, call-reject with its final SIP code."""
    del header
    success, code, phrase, trunk = body.success, body.sip_code, body.sip_phrase, body.trunk
    return prune({
        "@timestamp": body.time,
        "message": f"Teams Direct Routing {body.type or 'call'} {(body.caller or '?')[:SHOWN]} -> "
                   f"{(body.callee or '?')[:SHOWN]} via {(trunk or '?')[:SHOWN]}: "
                   f"{'established' if success else 'failed' if success is False else 'unknown result'}"
                   + (f", final SIP {code} {phrase or ''}".rstrip() if code is not None else ""),
        "event": kind_fields(found) | {
            "code": body.type, "provider": "directRouting", "duration": body.ns,
            "reason": phrase if success is False else None,
            # Graph's call start (for a failed attempt: its invite or failure time); a failed
            # attempt has no end, only its failure time
            "start": body.start or body.invite, "end": body.end or body.failed},
        "network": {"protocol": "sip", "direction": body.direction},
        "source": {"domain": trunk} if body.direction == "inbound" else None,
        "destination": {"domain": trunk} if body.direction == "outbound" else None,
        "user": _row_user(body),
        "uc": {
            "sip": {"status_code": code if code is not None and 100 <= code <= 699 else None,
                    "reason_phrase": phrase},
            "call": {"id": body.id, "direction": body.direction, "caller": body.caller, "callee": body.callee,
                     "caller_number": e164(body.caller), "callee_number": e164(body.callee),
                     "setup_time": body.invite, "connect_time": body.start if success else None,
                     "duration": body.seconds, "disconnect_cause": phrase, "trunk": trunk},
            "vendor": body.vendor,
        },
    })


def assemble_pstn(header: Header, body: Row, found: Kind) -> ParsedEvent:
    """A pstnCallLogRow: call-end."""
    del header
    seconds = body.seconds
    return prune({
        "@timestamp": body.time,
        "message": f"Teams PSTN {body.type or 'call'} {(body.caller or '?')[:SHOWN]} -> {(body.callee or '?')[:SHOWN]}"
                   + (f", {int(seconds)} s" if seconds is not None else ""),
        "event": kind_fields(found) | {"code": body.type, "provider": "pstn", "duration": body.ns,
                                       "start": body.start, "end": body.end},
        "network": {"direction": body.direction},
        "user": _row_user(body),
        "uc": {
            "sip": {"call_id": body.sip_call_id},
            "call": {"id": body.id, "direction": body.direction, "caller": body.caller, "callee": body.callee,
                     "caller_number": e164(body.caller), "callee_number": e164(body.callee),
                     "connect_time": body.start if seconds else None, "duration": seconds},
            "conference": {"id": body.conference_id},
            "vendor": body.vendor,
        },
    })
