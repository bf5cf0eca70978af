"""CDR rows (cdrRecordType 1, "End call detail record"): one per call leg when it ends.

Outcome rules (README.md, "Choices"): a leg with a connect time is a `call-end` (success when the
clearing cause is a normal one, failure otherwise); a leg never connected is a `call-reject` when a
party refused or failed it (busy, unallocated number, SIP 4xx-6xx...), else a `call-attempt` with outcome
failure (abandoned or not answered).
"""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import CATEGORISATION, ParsedEvent

from .codes import CAUSES, CODECS, NORMAL_CAUSES, ON_BEHALF_OF, REDIRECT_REASONS, UNANSWERED_CAUSES, cause_text
from .flatfile import Row
from .values import epoch, int_ip, integer, text_ip, unsigned

# Columns whose integer code gets a `<column>_text` companion with Cisco's description.
_DECODED: dict[str, dict[int, str]] = {
    "origCalledPartyRedirectReason": REDIRECT_REASONS,
    "lastRedirectRedirectReason": REDIRECT_REASONS,
    "origCallTerminationOnBehalfOf": ON_BEHALF_OF,
    "destCallTerminationOnBehalfOf": ON_BEHALF_OF,
    "origCalledPartyRedirectOnBehalfOf": ON_BEHALF_OF,
    "lastRedirectRedirectOnBehalfOf": ON_BEHALF_OF,
    "joinOnBehalfOf": ON_BEHALF_OF,
}


def call_id(row: Row) -> str | None:
    """Global call id: callManagerId and callId (Cisco: "All records that are associated with a standard
    call have the same Global Call ID"), prefixed by the cluster id when the file has one."""
    manager, call = row.take("globalCallID_callManagerId"), row.take("globalCallID_callId")
    if not call:
        return None
    cluster = row.take("globalCallId_ClusterID")
    base = f"{manager}-{call}" if manager else call
    return f"{cluster}/{base}" if cluster else base


def _e164(number: str) -> str | None:
    digits = number[1:]
    return number if number.startswith("+") and digits.isascii() and digits.isdecimal() and 6 <= len(digits) <= 15 \
        else None


def _endpoint(row: Row, side: str, number_column: str) -> dict[str, Any]:
    """`orig`/`dest` signalling address (text column first, else the integer one) and party number."""
    endpoint: dict[str, Any] = {}
    ip = text_ip(row.take(f"{side}Ipv4v6Addr"), f"{side}Ipv4v6Addr")
    integer_ip = int_ip(row.take(f"{side}IpAddr"), f"{side}IpAddr")
    if ip or integer_ip:
        endpoint["ip"] = ip or integer_ip
    number = row.get(number_column)
    if number:
        endpoint["user"] = {"name": number}
    return endpoint


def _clearing(row: Row) -> tuple[int | None, str | None]:
    """(cause, side) of the clearing: a failure cause wins over a normal one, the destination's over
    the originator's (Cisco: each side's cause is set when that side cleared the call)."""
    orig = unsigned(row.get("origCause_value"), "origCause_value")
    dest = unsigned(row.get("destCause_value"), "destCause_value")
    for code, side in ((dest, "destination"), (orig, "originator")):
        if code and code not in NORMAL_CAUSES:
            return code, side
    for code, side in ((orig, "originator"), (dest, "destination")):
        if code:
            return code, side
    return None, None


def _sip_status(cause: int) -> int | None:
    """`CCM_SIP_503_SERVICE_UNAVAILABLE` -> 503."""
    name = CAUSES.get(cause, "")
    if not name.startswith("CCM_SIP_"):
        return None
    digits = name[8:].lstrip("_")[:3]
    return int(digits) if digits.isdecimal() else None


def map_cdr(row: Row, event: ParsedEvent) -> None:
    """Fill `event` (already holding `event.kind`/`code`) from a CDR row."""
    call: dict[str, Any] = {}
    vendor: dict[str, Any] = {}
    ev: dict[str, Any] = event["event"]

    if (cid := call_id(row)) is not None:
        call["id"] = cid
    if (leg := row.take("origLegCallIdentifier")) and leg != "0":
        call["leg_id"] = leg

    setup = epoch(row.take("dateTimeOrigination"), "dateTimeOrigination")
    connect = epoch(row.take("dateTimeConnect"), "dateTimeConnect")
    end = epoch(row.take("dateTimeDisconnect"), "dateTimeDisconnect")
    for key, value in (("setup_time", setup), ("connect_time", connect), ("end_time", end)):
        if value is not None:
            call[key] = value
    event["@timestamp"] = end or connect or setup

    source = _endpoint(row, "orig", "callingPartyNumber")
    destination = _endpoint(row, "dest", "finalCalledPartyNumber")
    if source:
        event["source"] = source
    if destination:
        event["destination"] = destination
    if caller := row.take("callingPartyNumber"):
        call["caller"] = caller
        if number := _e164(caller):
            call["caller_number"] = number
    if callee := row.take("finalCalledPartyNumber"):
        call["callee"] = callee
        if number := _e164(callee):
            call["callee_number"] = number
    if login := row.take("callingPartyUnicodeLoginUserID"):
        event["user"] = {"name": login}
    if device := row.take("origDeviceName"):
        event.setdefault("uc", {})["device"] = {"name": device}
        vendor["origDeviceName"] = device

    duration = integer(row.take("duration"), "duration")
    if connect is not None and duration is not None and duration >= 0:
        call["duration"] = float(duration)
        ev["duration"] = duration * 1_000_000_000

    # Forced authorization / client matter codes: who authorised a toll call. The code value itself is
    # a credential and is not copied; its description and level identify it.
    level_text = row.take("authorizationLevel")
    level = integer(level_text, "authorizationLevel")
    description = row.take("authCodeDescription")
    if row.take("authorizationCodeValue") or description or level:
        call["authenticated"] = True
        if description:
            vendor["authCodeDescription"] = description
        if level:
            vendor["authorizationLevel"] = level_text
    if cmc := row.take("clientMatterCode"):
        vendor["clientMatterCode"] = cmc

    media: dict[str, Any] = {}
    codec = integer(row.get("origMediaCap_payloadCapability"), "origMediaCap_payloadCapability")
    if codec:
        media["codec"] = CODECS.get(codec, str(codec))

    cause, side = _clearing(row)
    _classify(ev, call, cause, side, connect is not None)
    if cause is not None and (status := _sip_status(cause)) is not None:
        event.setdefault("uc", {})["sip"] = {"status_code": status}

    for name in row.header.names:  # media/video addresses, integer-encoded like the signalling ones
        if "TransportAddress_IP" in name and name not in row.taken \
                and (ip := int_ip(row.take(name), name)) is not None:
            vendor[name] = ip
    rest = row.rest()
    for name, table in _DECODED.items():
        if name in rest and (code := integer(rest[name], name)) is not None and code in table:
            rest[f"{name}_text"] = table[code]
    vendor = {**rest, **vendor}

    uc = event.setdefault("uc", {})
    uc["call"] = call
    if media:
        uc["media"] = media
    if vendor:
        uc["vendor"] = vendor


def _classify(ev: dict[str, Any], call: dict[str, Any], cause: int | None, side: str | None,
              connected: bool) -> None:
    if cause is not None:
        call["disconnect_cause"] = cause_text(cause)
        if side is not None:
            call["disconnect_side"] = side
    normal = cause is None or cause in NORMAL_CAUSES
    if connected:
        action, outcome = "call-end", "success" if normal else "failure"
    elif normal or cause in UNANSWERED_CAUSES:
        action, outcome = "call-attempt", "failure"
    else:
        action, outcome = "call-reject", "failure"
    spec = CATEGORISATION[action]
    ev.update(action=action, outcome=outcome, category=list(spec.category), type=list(spec.type))
    if action == "call-attempt":
        ev["reason"] = "not connected" + (f": {cause_text(cause)}" if cause is not None else "")
    elif outcome == "failure" and cause is not None:
        ev["reason"] = cause_text(cause)
