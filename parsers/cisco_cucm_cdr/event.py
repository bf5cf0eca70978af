"""Event assembly: the only place that writes the event (`assemble_cdr`, `assemble_cmr`), group by group with
the values present (`present`, `add_group`) instead of a `prune` walk of the whole event afterwards."""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import Kind, ParsedEvent, add_group, kind_fields, present

from .body import Body, CdrBody, CmrBody
from .codes import cause_text
from .header import NAMES, Header

_NS = 1_000_000_000


def assemble(header: Header, body: Body, found: Kind) -> ParsedEvent:
    if isinstance(body, CdrBody):
        return assemble_cdr(header, body, found)
    return assemble_cmr(header, body, found)


def _reason(body: CdrBody, found: Kind) -> str | None:
    """Why a call failed: `not connected[: <cause>]` for an attempt, else the failure cause."""
    if found.action == "call-attempt":
        return "not connected" + (f": {cause_text(body.cause)}" if body.cause is not None else "")
    if found.outcome == "failure" and body.cause is not None:
        return cause_text(body.cause)
    return None


def assemble_cdr(header: Header, body: CdrBody, found: Kind) -> ParsedEvent:
    event: ParsedEvent = {"@timestamp": body.time, "event": kind_fields(found) | present({
        "code": NAMES[header.family],
        "duration": None if body.duration is None else body.duration * _NS,
        "reason": _reason(body, found),
    })}
    add_group(event, "source", present({"ip": body.source_ip, "user": {"name": body.caller} if body.caller else None}))
    add_group(event, "destination", present({"ip": body.destination_ip,
                                             "user": {"name": body.callee} if body.callee else None}))
    if body.login:
        event["user"] = {"name": body.login}
    uc: dict[str, Any] = {}
    if body.device:
        uc["device"] = {"name": body.device}
    if body.sip_status is not None:
        uc["sip"] = {"status_code": body.sip_status}
    add_group(uc, "call", present({
        "id": body.call_id,
        "leg_id": body.leg_id,
        "setup_time": body.setup_time,
        "connect_time": body.connect_time,
        "end_time": body.end_time,
        "caller": body.caller,
        "caller_number": body.caller_number,
        "callee": body.callee,
        "callee_number": body.callee_number,
        "duration": None if body.duration is None else float(body.duration),
        "authenticated": True if body.authenticated else None,
        "disconnect_cause": None if body.cause is None else cause_text(body.cause),
        "disconnect_side": body.side,
    }))
    if body.codec:
        uc["media"] = {"codec": body.codec}
    add_group(uc, "vendor", present(body.vendor))
    add_group(event, "uc", uc)
    return event


def assemble_cmr(header: Header, body: CmrBody, found: Kind) -> ParsedEvent:
    event: ParsedEvent = {"@timestamp": body.time, "event": kind_fields(found) | present({
        "code": NAMES[header.family],
        "duration": None if body.duration is None else body.duration * _NS,
    })}
    uc: dict[str, Any] = {}
    if body.device:
        uc["device"] = {"name": body.device}
    add_group(uc, "call", present({
        "id": body.call_id,
        "leg_id": body.leg_id,
        "duration": None if body.duration is None else float(body.duration),
    }))
    add_group(uc, "media", present({
        "type": body.media_type,
        "packets_out": body.packets_out,
        "packets_in": body.packets_in,
        "packets_lost_local": body.packets_lost,
        "jitter_ms": body.jitter_ms,
        "delay_ms": body.delay_ms,
        "mos": body.mos,
        "codec": body.codec,
    }))
    add_group(uc, "vendor", present(body.vendor))
    add_group(event, "uc", uc)
    return event
