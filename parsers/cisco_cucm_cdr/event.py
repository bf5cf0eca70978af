"""Event assembly: the only place that writes the event (`assemble_cdr`, `assemble_cmr`)."""

from __future__ import annotations

from ucsiem.parsing import Kind, ParsedEvent, kind_fields, prune

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
    # sections a row does not fill are None rather than dicts of None: fewer keys for prune (hot path)
    return prune({
        "@timestamp": body.time,
        "event": kind_fields(found) | {
            "code": NAMES[header.family],
            "duration": None if body.duration is None else body.duration * _NS,
            "reason": _reason(body, found),
        },
        "source": {"ip": body.source_ip, "user": {"name": body.caller} if body.caller else None},
        "destination": {"ip": body.destination_ip, "user": {"name": body.callee} if body.callee else None},
        "user": {"name": body.login} if body.login else None,
        "uc": {
            "device": {"name": body.device} if body.device else None,
            "sip": {"status_code": body.sip_status} if body.sip_status is not None else None,
            "call": {
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
            },
            "media": {"codec": body.codec} if body.codec else None,
            "vendor": body.vendor,
        },
    })


def assemble_cmr(header: Header, body: CmrBody, found: Kind) -> ParsedEvent:
    return prune({
        "@timestamp": body.time,
        "event": kind_fields(found) | {
            "code": NAMES[header.family],
            "duration": None if body.duration is None else body.duration * _NS,
        },
        "uc": {
            "device": {"name": body.device} if body.device else None,
            "call": {
                "id": body.call_id,
                "leg_id": body.leg_id,
                "duration": None if body.duration is None else float(body.duration),
            },
            "media": {
                "type": body.media_type,
                "packets_out": body.packets_out,
                "packets_in": body.packets_in,
                "packets_lost_local": body.packets_lost,
                "jitter_ms": body.jitter_ms,
                "delay_ms": body.delay_ms,
                "mos": body.mos,
                "codec": body.codec,
            },
            "vendor": body.vendor,
        },
    })
