"""Graph documents read into typed bodies: a callRecord with its legs, a session leg, a Direct Routing
row, a PSTN row.

`GET /communications/callRecords/{id}?$expand=sessions($expand=segments)` returns the call (type,
modalities, times, organizer, participants) with its sessions (one per pair of endpoints) and their
segments (one per leg between two endpoints, with media and quality). A leg is a segment, or a session
when segments were not expanded. `getDirectRoutingCalls` / `getPstnCalls` return flat rows, one per
PSTN call. Identities are read by identity.py, media and networks by media.py.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, NamedTuple

from ucsiem.parsing import ParseError, jsonvalues

from .header import Header
from .identity import NOBODY, Party, from_endpoint, from_identity_set, from_participant, user_agent
from .media import NO_QUALITY, Address, Quality, endpoint_address, network_vendor, quality, transport
from .values import timestamp

MAX_SESSIONS = 2000
MAX_SEGMENTS = 2000
MAX_LEGS = 2000  # media-end events per record; a larger record is cut and tagged `legs_capped`
MAX_PARTICIPANTS = 130  # Graph's own limit on `participants`
SHOWN = 80
_E164 = re.compile(r"\+[1-9][0-9]{5,14}")
DR_VENDOR = ("correlationId", "mediaPathLocation", "signalingLocation", "mediaBypassEnabled", "callEndSubReason",
             "finalSipCode", "successfulCall")
PSTN_VENDOR = ("charge", "connectionCharge", "currency", "destinationContext", "destinationName",
               "usageCountryCode", "tenantCountryCode", "licenseCapability", "inventoryType", "operator",
               "callDurationSource")
_NO_ADDRESS = Address(None, None, None)


class Leg(NamedTuple):
    """One segment of a session, or a session whose segments were not expanded (`media-end`)."""

    call_id: str
    kind: str  # segment / session
    id: str | None
    caller: Party
    callee: Party
    device_name: str | None  # the caller endpoint's name
    user_agent: str | None  # the caller's User-Agent header
    quality: Quality
    source: Address
    destination: Address
    transport: str | None
    reason: str | None  # failureInfo
    stage: str | None
    start: datetime | None
    end: datetime | None
    fallback: datetime  # @timestamp of a leg without times
    fallback_tag: str | None  # the tag such a leg gets
    tags: list[str]  # bad_port
    vendor: dict[str, Any]


class Record(NamedTuple):
    """A callRecord: the call (or meeting) and its legs."""

    id: str
    type: str  # groupCall, peerToPeer, unknown
    start: datetime | None
    end: datetime | None
    modified: datetime | None
    time: datetime  # end, else start, else the modification time
    has_sessions: bool  # the document carries `sessions` (expanded)
    sessions: int
    legs: list[Leg]
    legs_capped: bool
    reason: str | None  # the first failureInfo of its legs and sessions
    stage: str | None
    organizer: Party
    participants: list[str]
    caller: Party  # of the first session
    callee: Party
    version: int | None
    modalities: list[str]
    modalities_shown: list[str]  # of the first 8 items, for the message
    join_url: str | None


class Row(NamedTuple):
    """A directRoutingLogRow or a pstnCallLogRow."""

    id: str
    type: str | None  # callType
    time: datetime
    invite: datetime | None
    start: datetime | None
    end: datetime | None
    failed: datetime | None
    success: bool | None  # successfulCall (Direct Routing)
    direction: str | None
    trunk: str | None
    sip_code: int | None
    sip_phrase: str | None
    seconds: float | None
    ns: int | None
    caller: str | None
    callee: str | None
    user_id: str | None
    user_display_name: str | None
    upn: str | None
    sip_call_id: str | None  # callId (PSTN)
    conference_id: str | None  # conferenceId (PSTN)
    vendor: dict[str, Any]


def _failure(leg: dict[str, Any]) -> tuple[str | None, str | None]:
    """(reason, stage) of a failureInfo, (None, None) when the leg did not fail."""
    info = jsonvalues.sub(leg, "failureInfo")
    return jsonvalues.text(info, "reason"), jsonvalues.text(info, "stage")


def e164(value: str | None) -> str | None:
    """The number when it is a full E.164 number (Direct Routing masks the last digits with `***`)."""
    return value if value is not None and _E164.fullmatch(value) else None


# -- callRecords ---------------------------------------------------------------------------------

def read_record(doc: dict[str, Any]) -> Record:
    call_id = jsonvalues.text(doc, "id")
    if call_id is None:
        raise ParseError("bad_field", "callRecord without an id")
    start, end = timestamp(doc, "startDateTime"), timestamp(doc, "endDateTime")
    modified = timestamp(doc, "lastModifiedDateTime")
    when = end or start or modified
    if when is None:
        raise ParseError("bad_timestamp", f"callRecord {call_id[:SHOWN]!r} has no start, end or modification time")
    sessions = jsonvalues.objects(doc, "sessions", MAX_SESSIONS)
    capped = False
    legs: list[Leg] = []
    failures: list[tuple[str | None, str | None]] = []
    for session in sessions:
        segments = jsonvalues.objects(session, "segments", MAX_SEGMENTS)
        for leg in segments or [session]:
            failures.append(_failure(leg))
            if len(legs) < MAX_LEGS:
                legs.append(read_leg(call_id, session, leg if segments else None, when))
            else:
                capped = True
        if segments:
            failures.append(_failure(session))  # a session can fail without a failed segment
    reason, stage = next(((r, s) for r, s in failures if r or s), (None, None))

    organizer = from_participant(jsonvalues.sub(doc, "organizer_v2")) if jsonvalues.sub(doc, "organizer_v2") else NOBODY
    if organizer is NOBODY:
        organizer = from_identity_set(jsonvalues.sub(doc, "organizer"))
    parties = [from_participant(item) for item in jsonvalues.objects(doc, "participants_v2", MAX_PARTICIPANTS)]
    if not parties:
        parties = [from_identity_set(item) for item in jsonvalues.objects(doc, "participants", MAX_PARTICIPANTS)]
    if organizer.upn is None and organizer.id:  # organizer_v2 leaves out the sign-in name participants carry
        same = next((p for p in parties if p.id == organizer.id and p.upn), None)
        organizer = organizer._replace(upn=same.upn) if same else organizer
    first = sessions[0] if sessions else {}
    return Record(call_id, jsonvalues.text(doc, "type") or "unknown", start, end, modified, when,
                  "sessions" in doc, len(sessions), legs, capped, reason, stage, organizer,
                  [p.label for p in parties if p.label],
                  from_endpoint(jsonvalues.sub(first, "caller")), from_endpoint(jsonvalues.sub(first, "callee")),
                  jsonvalues.integer(doc, "version"), jsonvalues.strings(doc, "modalities"),
                  jsonvalues.strings(doc, "modalities", 8), jsonvalues.text(doc, "joinWebUrl"))


def read_leg(call_id: str, session: dict[str, Any], segment: dict[str, Any] | None,
             fallback: datetime, fallback_tag: str | None = None) -> Leg:
    """A segment, or a session when segments were not expanded."""
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
    figures, source, destination, proto = NO_QUALITY, _NO_ADDRESS, _NO_ADDRESS, None
    tags: list[str] = []
    if segment is not None:
        figures, caller_net, callee_net = quality(segment, vendor)
        network_vendor(caller_net, "callerNetwork", vendor)
        network_vendor(callee_net, "calleeNetwork", vendor)
        source, destination = endpoint_address(caller_net, tags), endpoint_address(callee_net, tags)
        proto = transport(caller_net) or transport(callee_net)
    reason, stage = _failure(leg)
    return Leg(call_id, kind, jsonvalues.text(leg, "id"), caller, callee, jsonvalues.text(caller_ep, "name"), agent,
               figures, source, destination, proto, reason, stage, timestamp(leg, "startDateTime"),
               timestamp(leg, "endDateTime"), fallback, fallback_tag, tags, vendor)


def read_sessions(header: Header, call_id: str) -> list[Leg]:
    """`GET /communications/callRecords/{id}/sessions[?$expand=segments]` page: legs only (the call
    itself is not in the page); the call id comes from the page's `@odata.context`."""
    legs: list[Leg] = []
    for session in header.documents[:MAX_SESSIONS]:
        segments = jsonvalues.objects(session, "segments", MAX_SEGMENTS)
        for leg in segments or [session]:
            if len(legs) >= MAX_LEGS:
                return legs
            legs.append(read_leg(call_id, session, leg if segments else None, header.received,
                                 "timestamp_from_reference"))
    return legs


# -- call log rows -------------------------------------------------------------------------------

def _duration(row: dict[str, Any]) -> tuple[float | None, int | None]:
    seconds = jsonvalues.integer(row, "duration")
    if seconds is None or not 0 <= seconds < 10**9:
        return None, None
    return float(seconds), seconds * 1_000_000_000


def _row_id(row: dict[str, Any], what: str) -> str:
    row_id = jsonvalues.text(row, "id")
    if row_id is None:
        raise ParseError("bad_field", f"{what} without an id")
    return row_id


def _row(row: dict[str, Any], row_id: str, when: datetime, invite: datetime | None, start: datetime | None,
         end: datetime | None, failed: datetime | None, direction: str | None, vendor_keys: tuple[str, ...]) -> Row:
    seconds, ns = _duration(row)
    code = jsonvalues.integer(row, "finalSipCode")
    return Row(row_id, jsonvalues.text(row, "callType"), when, invite, start, end, failed,
               jsonvalues.flag(row, "successfulCall"), direction, jsonvalues.text(row, "trunkFullyQualifiedDomainName"),
               code, jsonvalues.text(row, "finalSipCodePhrase"), seconds, ns,
               jsonvalues.text(row, "callerNumber"), jsonvalues.text(row, "calleeNumber"),
               jsonvalues.text(row, "userId"), jsonvalues.text(row, "userDisplayName"),
               jsonvalues.text(row, "userPrincipalName"), jsonvalues.text(row, "callId"),
               jsonvalues.text(row, "conferenceId"), {key: jsonvalues.scalar(row, key) for key in vendor_keys})


def read_direct_routing(row: dict[str, Any]) -> Row:
    """A directRoutingLogRow: a call through the tenant's own SBC."""
    row_id = _row_id(row, "directRoutingLogRow")
    success = jsonvalues.flag(row, "successfulCall")
    invite, start = timestamp(row, "inviteDateTime"), timestamp(row, "startDateTime")
    end, failed = timestamp(row, "endDateTime"), timestamp(row, "failureDateTime")
    when = (end if success else failed) or end or failed or start or invite
    if when is None:
        raise ParseError("bad_timestamp", f"directRoutingLogRow {row_id[:SHOWN]!r} has no time")
    low = (jsonvalues.text(row, "callType") or "").lower()
    direction = "inbound" if low.startswith("byotin") else "outbound" if low.startswith("byotout") else None
    return _row(row, row_id, when, invite, start, end, failed, direction, DR_VENDOR)


def read_pstn(row: dict[str, Any]) -> Row:
    """A pstnCallLogRow: a call through Calling Plans / Operator Connect."""
    row_id = _row_id(row, "pstnCallLogRow")
    start, end = timestamp(row, "startDateTime"), timestamp(row, "endDateTime")
    when = end or start
    if when is None:
        raise ParseError("bad_timestamp", f"pstnCallLogRow {row_id[:SHOWN]!r} has no time")
    low = (jsonvalues.text(row, "callType") or "").lower()
    direction = "inbound" if low.endswith("_in") else "outbound" if low.endswith("_out") else None
    return _row(row, row_id, when, None, start, end, None, direction, PSTN_VENDOR)
