"""The workload's own fields: Teams members and meetings, the Azure AD sign-in, and every other value
as the vendor names it (`uc.vendor`).

`Members` (`[{"UPN", "Role", "DisplayName"}]`) are the targets of membership operations. Role numbers
follow the Purview Teams activities table (1 Member, 2 Owner, 3 Guest), which the Elastic fixtures
bear out (the team's creator is added with Role 2); the Management Activity API schema page numbers
them differently (0/1/2), so the number is also kept as written.

Azure AD sign-ins (RecordType 15, AzureActiveDirectoryStsLogon): `ResultStatus` of an STS logon says
whether the HTTP exchange worked, not the sign-in: the schema says to read `LogonError` (empty or absent
when the sign-in succeeded). `ExtendedProperties` and `DeviceProperties` are `[{"Name", "Value"}]`
lists (UserAgent, RequestType, ResultStatusDetail, OS...).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from ucsiem.parsing import jsonvalues

from .header import Header
from .values import code, name_value_pairs

MAX_MEMBERS = 200
MAX_VENDOR_KEYS = 64
ROLES = {1: "Member", 2: "Owner", 3: "Guest"}
MEETING_OPS = ("MeetingDetail", "MeetingParticipantDetail")
AAD_LOGONS = ("UserLoggedIn", "UserLoginFailed")
# Mapped to schema fields (or read whole below): not repeated in uc.vendor.
MAPPED = frozenset({
    "CreationTime", "Operation", "Workload", "UserId", "UserKey", "ClientIP", "ClientIPAddress",
    "LogonError", "ExtendedProperties", "DeviceProperties", "Actor", "Target", "Members", "Attendees",
    "ExtraProperties", "AppAccessContext", "MeetingURL", "StartTime", "EndTime", "JoinTime", "LeaveTime",
    "MeetingDetailId", "OrganizationId",
})


class Meeting(NamedTuple):
    """MeetingDetail (a meeting ended) or MeetingParticipantDetail (someone attended it)."""

    start: datetime | None
    end: datetime | None
    id: str | None
    name: str | None
    participant: str | None
    role: str | None
    url: str | None


class Body(NamedTuple):
    operation: str
    status: str | None  # ResultStatus
    sign_in: bool  # an Azure AD sign-in: its LogonError decides the outcome
    logon_error: str | None
    target_upn: str | None  # the single member of a membership operation
    target_name: str | None
    meeting: Meeting | None
    user_agent: str | None
    team: str | None
    channel: str | None
    vendor: dict[str, Any]


def _label(person: dict[str, Any]) -> str | None:
    return (jsonvalues.text(person, "UPN") or jsonvalues.text(person, "DisplayName")
            or jsonvalues.text(person, "UserObjectId"))


def _role(person: dict[str, Any]) -> str | None:
    number = code(person, "Role")
    if number is None:
        return jsonvalues.text(person, "Role")
    return ROLES.get(number, str(number))


def _meeting(operation: str, record: dict[str, Any], vendor: dict[str, Any]) -> Meeting:
    if operation == "MeetingDetail":
        start, end = jsonvalues.utc_time(record, "StartTime"), jsonvalues.utc_time(record, "EndTime")
        conference_id = jsonvalues.text(record, "Id")
        participant = role = None
    else:
        start, end = jsonvalues.utc_time(record, "JoinTime"), jsonvalues.utc_time(record, "LeaveTime")
        conference_id = jsonvalues.text(record, "MeetingDetailId")  # the Id of the meeting's MeetingDetail record
        attendees = jsonvalues.objects(record, "Attendees", MAX_MEMBERS)
        participant = _label(attendees[0]) if attendees else None
        role = _role(attendees[0]) if attendees else None
        if len(attendees) > 1:
            vendor["Attendees"] = [label for a in attendees if (label := _label(a))]
    return Meeting(start, end, conference_id, jsonvalues.text(record, "ItemName"), participant, role,
                   jsonvalues.text(record, "MeetingURL"))


def _sign_in(record: dict[str, Any], vendor: dict[str, Any]) -> str | None:
    """The sign-in's values into `vendor`; its user agent."""
    extended = name_value_pairs(record, "ExtendedProperties", "Name", "Value")
    for name, value in extended.items():
        vendor[f"ExtendedProperties.{name}"] = value
    for name, value in name_value_pairs(record, "DeviceProperties", "Name", "Value").items():
        vendor[f"DeviceProperties.{name}"] = value
    for key in ("Actor", "Target"):
        ids = [i for item in jsonvalues.objects(record, key, 32) if (i := jsonvalues.text(item, "ID"))]
        if ids:
            vendor[key] = ids
    return extended.get("UserAgent") or None


def read_body(header: Header, record: dict[str, Any]) -> Body:
    operation = header.operation
    vendor: dict[str, Any] = {}
    # targets of MemberAdded/Removed/RoleChanged: all in uc.vendor (the schema has no list of target
    # users, nor a target's role), a single one also in user.target
    people = jsonvalues.objects(record, "Members", MAX_MEMBERS)
    target_upn = target_name = None
    if people:
        vendor["Members"] = [label for p in people if (label := _label(p))]
        vendor["Members.Role"] = [role for p in people if (role := _role(p))]
        vendor["Members.DisplayName"] = [name for p in people if (name := jsonvalues.text(p, "DisplayName"))]
        if len(people) == 1:
            target_upn, target_name = jsonvalues.text(people[0], "UPN"), jsonvalues.text(people[0], "DisplayName")
    meeting = _meeting(operation, record, vendor) if operation in MEETING_OPS else None
    sign_in = operation in AAD_LOGONS or header.record_type == 15
    agent = _sign_in(record, vendor) if sign_in else None
    for name, value in name_value_pairs(record, "ExtraProperties", "Key", "Value").items():
        vendor[f"ExtraProperties.{name}"] = value
    context = record.get("AppAccessContext")
    if isinstance(context, dict):
        for key in list(context)[:16]:
            if (item := jsonvalues.scalar(context, key)) is not None:
                vendor[f"AppAccessContext.{key[:64]}"] = item
    _remaining(record, vendor)
    return Body(operation, header.status, sign_in, jsonvalues.text(record, "LogonError"), target_upn, target_name,
                meeting, agent, jsonvalues.text(record, "TeamName"), jsonvalues.text(record, "ChannelName"), vendor)


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
