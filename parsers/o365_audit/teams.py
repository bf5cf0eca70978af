"""Microsoft Teams fields of the audit schema: members, meetings, extra properties.

`Members` (`[{"UPN", "Role", "DisplayName"}]`) are the targets of membership operations. Role numbers
follow the Purview Teams activities table (1 Member, 2 Owner, 3 Guest), which the Elastic fixtures
bear out (the team's creator is added with Role 2); the Management Activity API schema page numbers
them differently (0/1/2), so the number is also kept as written.
"""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import jsonvalues, split_upn

from .values import code

MAX_MEMBERS = 200
ROLES = {1: "Member", 2: "Owner", 3: "Guest"}
MEETING_OPS = ("MeetingDetail", "MeetingParticipantDetail")


def _label(person: dict[str, Any]) -> str | None:
    return (jsonvalues.text(person, "UPN") or jsonvalues.text(person, "DisplayName")
            or jsonvalues.text(person, "UserObjectId"))


def _role(person: dict[str, Any]) -> str | None:
    number = code(person, "Role")
    if number is None:
        return jsonvalues.text(person, "Role")
    return ROLES.get(number, str(number))


def members(record: dict[str, Any], event: dict[str, Any], vendor: dict[str, Any]) -> None:
    """Targets of MemberAdded/Removed/RoleChanged: all in `uc.vendor` (the schema has no list of
    target users, nor a target's role), a single one also in `user.target`."""
    people = jsonvalues.objects(record, "Members", MAX_MEMBERS)
    if not people:
        return
    vendor["Members"] = [label for p in people if (label := _label(p))]
    vendor["Members.Role"] = [role for p in people if (role := _role(p))]
    vendor["Members.DisplayName"] = [name for p in people if (name := jsonvalues.text(p, "DisplayName"))]
    if len(people) == 1:
        upn = jsonvalues.text(people[0], "UPN")
        name, domain = split_upn(upn)
        event["user"]["target"] = {"name": name, "domain": domain, "email": upn if domain else None,
                                   "full_name": jsonvalues.text(people[0], "DisplayName")}


def meeting(operation: str, record: dict[str, Any], event: dict[str, Any], vendor: dict[str, Any]) -> None:
    """MeetingDetail (a meeting ended) and MeetingParticipantDetail (someone attended it)."""
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
    event["event"].update(start=start, end=end, duration=jsonvalues.duration_ns(start, end))
    event["uc"]["conference"] = {"id": conference_id, "name": jsonvalues.text(record, "ItemName"),
                                 "participant": participant, "role": role}
    event["url"] = {"original": jsonvalues.text(record, "MeetingURL")}
