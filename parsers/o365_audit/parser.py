"""Office 365 unified audit log records (Management Activity API): entry point `parse`, common schema.

A record (framed by `JSON_FRAMING`) is what a collector saved: one audit record per line, the JSON
array a content blob of `/activity/feed/subscriptions/content` returns, or a pretty-printed record.
Every audit record shares the common schema (CreationTime, Id, Operation, OrganizationId, RecordType,
ResultStatus, UserKey, UserType, Version, Workload, ClientIP, ObjectId, UserId); Teams (Workload
`MicrosoftTeams`, RecordType 25), Azure AD sign-ins (RecordType 15) and Exchange add their own fields.
"""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import (
    ParseContext,
    ParsedEvent,
    ParseError,
    RawRecord,
    json_documents,
    jsonvalues,
    prune,
    split_upn,
)

from .aad import sign_in
from .clientip import client_endpoint
from .operations import RESULT_OUTCOME, mapping
from .teams import MEETING_OPS, meeting, members
from .values import code, name_value_pairs

SHOWN = 80
MAX_VENDOR_KEYS = 64
# Mapped to schema fields (or read whole below): not repeated in uc.vendor.
MAPPED = frozenset({
    "CreationTime", "Operation", "Workload", "UserId", "UserKey", "ClientIP", "ClientIPAddress",
    "LogonError", "ExtendedProperties", "DeviceProperties", "Actor", "Target", "Members", "Attendees",
    "ExtraProperties", "AppAccessContext", "MeetingURL", "StartTime", "EndTime", "JoinTime", "LeaveTime",
    "MeetingDetailId", "OrganizationId",
})
AAD_LOGONS = ("UserLoggedIn", "UserLoginFailed")
# Where the client address is, by workload: ClientIP (common schema), ClientIPAddress (Exchange
# mailbox audit), ActorIpAddress (Azure AD, whose ClientIP may be null).
ADDRESS_FIELDS = ("ClientIP", "ClientIPAddress", "ActorIpAddress")


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One framed JSON record -> one event per audit record it holds."""
    return [_event(doc) for doc in json_documents(record.text)]


def _event(record: dict[str, Any]) -> ParsedEvent:
    operation = jsonvalues.text(record, "Operation")
    if operation is None or "CreationTime" not in record:
        keys = ", ".join(list(record)[:6])
        raise ParseError("no_match",
                         f"not an Office 365 audit record, no Operation/CreationTime (keys: {keys[:SHOWN]})")
    when = jsonvalues.utc_time(record, "CreationTime")
    if when is None:
        raise ParseError("bad_timestamp", "CreationTime is empty or not a string")
    operation = operation[:128]
    rule = mapping(operation)
    status = jsonvalues.text(record, "ResultStatus")
    outcome = RESULT_OUTCOME.get((status or "").lower()) if operation not in AAD_LOGONS else None
    vendor: dict[str, Any] = {}
    event: ParsedEvent = {
        "@timestamp": when,
        "event": {"kind": "event", "action": rule.action, "category": list(rule.category) or None,
                  "type": list(rule.type), "outcome": outcome or rule.outcome, "code": operation,
                  "provider": jsonvalues.text(record, "Workload")},
        "user": _user(record),
        "organization": {"id": jsonvalues.text(record, "OrganizationId")},  # the tenant
        "uc": {},
    }
    for key in ADDRESS_FIELDS:
        if (raw := jsonvalues.text(record, key)) is not None and raw.lower() != "null":
            event["source"] = client_endpoint(raw)
            break

    members(record, event, vendor)
    if operation in MEETING_OPS:
        meeting(operation, record, event, vendor)
    if operation in AAD_LOGONS or code(record, "RecordType") == 15:
        sign_in(record, event, vendor)
    for name, value in name_value_pairs(record, "ExtraProperties", "Key", "Value").items():
        vendor[f"ExtraProperties.{name}"] = value
    context = record.get("AppAccessContext")
    if isinstance(context, dict):
        for key in list(context)[:16]:
            if (item := jsonvalues.scalar(context, key)) is not None:
                vendor[f"AppAccessContext.{key[:64]}"] = item
    _remaining(record, vendor)
    event["uc"]["vendor"] = vendor
    event["message"] = _message(operation, record)
    return prune(event)


def _user(record: dict[str, Any]) -> dict[str, Any]:
    """UserId is a UPN for people (`bob@example.com`), a word for services (`Application`)."""
    user_id = jsonvalues.text(record, "UserId")
    name, domain = split_upn(user_id)
    return {"name": name, "domain": domain, "email": user_id if domain else None,
            "id": jsonvalues.text(record, "UserKey")}


def _remaining(record: dict[str, Any], vendor: dict[str, Any]) -> None:
    """Every other top-level value (scalar, or list of strings), named as the vendor names it."""
    kept = 0
    for key, value in record.items():
        if kept >= MAX_VENDOR_KEYS:
            vendor["_truncated"] = True
            return
        if key in MAPPED or key in vendor:
            continue
        if isinstance(value, list):
            items = [v.strip()[:256] for v in value[:32] if isinstance(v, str) and v.strip()]
            if items:
                vendor[key[:64]] = items
                kept += 1
        elif (item := jsonvalues.scalar(record, key)) is not None:
            vendor[key[:64]] = item
            kept += 1


def _message(operation: str, record: dict[str, Any]) -> str:
    parts = [operation]
    if user := jsonvalues.text(record, "UserId"):
        parts.append(f"by {user[:SHOWN]}")
    if team := jsonvalues.text(record, "TeamName"):
        parts.append(f"team {team[:SHOWN]!r}")
    if channel := jsonvalues.text(record, "ChannelName"):
        parts.append(f"channel {channel[:SHOWN]!r}")
    if error := jsonvalues.text(record, "LogonError"):
        parts.append(f"error {error[:SHOWN]}")
    return " ".join(parts)
