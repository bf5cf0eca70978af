"""Call log rows: `getDirectRoutingCalls` (directRoutingLogRow) and `getPstnCalls` (pstnCallLogRow).

Both functions of `/communications/callRecords` return a page of flat rows, one per PSTN call (the
calls that go through the tenant's own SBC with Direct Routing, or through Microsoft's Calling Plans /
Operator Connect). One row is one event: `call-end` for a call that was established, `call-reject`
for a Direct Routing attempt that failed (`successfulCall: false`, with its final SIP code).
"""

from __future__ import annotations

import re
from typing import Any

from ucsiem.parsing import ParsedEvent, ParseError, jsonvalues, prune, split_upn

from .values import timestamp

_E164 = re.compile(r"\+[1-9][0-9]{5,14}")
DR_VENDOR = ("correlationId", "mediaPathLocation", "signalingLocation", "mediaBypassEnabled", "callEndSubReason",
             "finalSipCode", "successfulCall")
PSTN_VENDOR = ("charge", "connectionCharge", "currency", "destinationContext", "destinationName",
               "usageCountryCode", "tenantCountryCode", "licenseCapability", "inventoryType", "operator",
               "callDurationSource")
SHOWN = 80


def _number(value: str | None) -> str | None:
    """The number when it is a full E.164 number (Direct Routing masks the last digits with `***`)."""
    return value if value is not None and _E164.fullmatch(value) else None


def _user(row: dict[str, Any]) -> dict[str, Any]:
    upn = jsonvalues.text(row, "userPrincipalName")
    name, domain = split_upn(upn)
    return {"id": jsonvalues.text(row, "userId"), "full_name": jsonvalues.text(row, "userDisplayName"),
            "email": upn if domain else None, "name": name, "domain": domain}


def _duration(row: dict[str, Any]) -> tuple[float | None, int | None]:
    seconds = jsonvalues.integer(row, "duration")
    if seconds is None or not 0 <= seconds < 10**9:
        return None, None
    return float(seconds), seconds * 1_000_000_000


def _vendor(row: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: jsonvalues.scalar(row, key) for key in keys}


def _row_id(row: dict[str, Any], what: str) -> str:
    row_id = jsonvalues.text(row, "id")
    if row_id is None:
        raise ParseError("bad_field", f"{what} without an id")
    return row_id


def direct_routing_event(row: dict[str, Any]) -> ParsedEvent:
    row_id = _row_id(row, "directRoutingLogRow")
    success = jsonvalues.flag(row, "successfulCall")
    invite, start = timestamp(row, "inviteDateTime"), timestamp(row, "startDateTime")
    end, failed = timestamp(row, "endDateTime"), timestamp(row, "failureDateTime")
    when = (end if success else failed) or end or failed or start or invite
    if when is None:
        raise ParseError("bad_timestamp", f"directRoutingLogRow {row_id[:SHOWN]!r} has no time")
    call_type = jsonvalues.text(row, "callType")
    low = (call_type or "").lower()
    direction = "inbound" if low.startswith("byotin") else "outbound" if low.startswith("byotout") else None
    trunk = jsonvalues.text(row, "trunkFullyQualifiedDomainName")
    code = jsonvalues.integer(row, "finalSipCode")
    phrase = jsonvalues.text(row, "finalSipCodePhrase")
    seconds, ns = _duration(row)
    caller, callee = jsonvalues.text(row, "callerNumber"), jsonvalues.text(row, "calleeNumber")
    categories = ["network", "session"]
    outcome: str | None
    if success is False:
        action, types, outcome = "call-reject", ["connection", "denied"], "failure"
    else:
        action, types, outcome = "call-end", ["connection", "end"], "success" if success else None
    event: ParsedEvent = {
        "@timestamp": when,
        "message": f"Teams Direct Routing {call_type or 'call'} {(caller or '?')[:SHOWN]} -> "
                   f"{(callee or '?')[:SHOWN]} via {(trunk or '?')[:SHOWN]}: "
                   f"{'established' if success else 'failed' if success is False else 'unknown result'}"
                   + (f", final SIP {code} {phrase or ''}".rstrip() if code is not None else ""),
        "event": {"kind": "event", "action": action, "category": categories, "type": types, "outcome": outcome,
                  "code": call_type, "provider": "directRouting", "duration": ns,
                  "reason": phrase if success is False else None,
                  # Graph's call start (for a failed attempt: its invite or failure time); a failed
                  # attempt has no end, only its failure time
                  "start": start or invite, "end": end or failed},
        "network": {"protocol": "sip", "direction": direction},
        "source": {"domain": trunk} if direction == "inbound" else None,
        "destination": {"domain": trunk} if direction == "outbound" else None,
        "user": _user(row),
        "uc": {
            "sip": {"status_code": code if code is not None and 100 <= code <= 699 else None,
                    "reason_phrase": phrase},
            "call": {"id": row_id, "direction": direction, "caller": caller, "callee": callee,
                     "caller_number": _number(caller), "callee_number": _number(callee),
                     "setup_time": invite, "connect_time": start if success else None,
                     "duration": seconds, "disconnect_cause": phrase, "trunk": trunk},
            "vendor": _vendor(row, DR_VENDOR),
        },
    }
    return prune(event)


def pstn_event(row: dict[str, Any]) -> ParsedEvent:
    row_id = _row_id(row, "pstnCallLogRow")
    start, end = timestamp(row, "startDateTime"), timestamp(row, "endDateTime")
    when = end or start
    if when is None:
        raise ParseError("bad_timestamp", f"pstnCallLogRow {row_id[:SHOWN]!r} has no time")
    call_type = jsonvalues.text(row, "callType")
    low = (call_type or "").lower()
    direction = "inbound" if low.endswith("_in") else "outbound" if low.endswith("_out") else None
    seconds, ns = _duration(row)
    caller, callee = jsonvalues.text(row, "callerNumber"), jsonvalues.text(row, "calleeNumber")
    event: ParsedEvent = {
        "@timestamp": when,
        "message": f"Teams PSTN {call_type or 'call'} {(caller or '?')[:SHOWN]} -> {(callee or '?')[:SHOWN]}"
                   + (f", {int(seconds)} s" if seconds is not None else ""),
        "event": {"kind": "event", "action": "call-end", "category": ["network", "session"],
                  "type": ["connection", "end"], "outcome": "success" if seconds else None,
                  "code": call_type, "provider": "pstn", "duration": ns, "start": start, "end": end},
        "network": {"direction": direction},
        "user": _user(row),
        "uc": {
            "sip": {"call_id": jsonvalues.text(row, "callId")},
            "call": {"id": row_id, "direction": direction, "caller": caller, "callee": callee,
                     "caller_number": _number(caller), "callee_number": _number(callee),
                     "connect_time": start if seconds else None, "duration": seconds},
            "conference": {"id": jsonvalues.text(row, "conferenceId")},
            "vendor": _vendor(row, PSTN_VENDOR),
        },
    }
    return prune(event)
