"""The `data` of each document family read into its typed body: audit items, and the webhook resources
(meetings, meeting participants, recordings and transcripts, Webex Calling calls, messages, memberships,
service apps, anything else).

Nothing here trusts a field's JSON type (see ucsiem.parsing.jsonvalues and values.py); `vendor` holds
the values kept as Webex typed them (`uc.vendor`). A webhook body's vendor starts from the envelope's
values (header.py), so a resource member of the same name (`status`, `appId`) replaces it when present.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from ucsiem.parsing import canonical_ip, jsonvalues

from .header import AuditHeader, WebhookHeader
from .values import put, scalar

MAX_LIST = 32
MAX_KEY = 64
MAX_DEVICES = 16

# -- audit items -------------------------------------------------------------------------------

# Read into schema fields, not copied to uc.vendor.
_MAPPED = frozenset(("actorName", "actorEmail", "actorIp", "actorUserAgent", "actionText", "eventDescription",
                     "actorOrgName", "adminRoles"))
# `targetType` values naming a person (the API also writes them `TargetResourceType.PERSON`).
_PERSON_TARGETS = frozenset(("PERSON", "USER", "PEOPLE"))
# Webex fills the target of some admin operations (token revocation) with the acting admin, labelled so.
_ADMIN_PLACEHOLDER = "using admin"


class Person(NamedTuple):
    """The account an admin or a webhook actor acted on (`user.target`)."""

    id: str | None
    name: str | None
    email: str | None
    full_name: str | None


class Audit(NamedTuple):
    """One admin or security audit item: `data` with the envelope's ids (header.py)."""

    category: str  # eventCategory upper-cased, without `EventCategory.` ("" when absent)
    description: str | None  # eventDescription, the vendor's event name
    action_text: str | None  # actionText
    status: str  # eventStatus upper-cased ("" when absent)
    error: bool  # an errorCode or errorMessage is given
    reason: str | None  # failedReason, else errorMessage
    operation_type: str | None  # operationType
    config_operation_type: str | None  # configOperationType
    role_names: tuple[str, ...]  # adminRoles as listed (every string, untrimmed)
    roles: list[str] | None  # adminRoles trimmed, for user.roles
    client: str  # actionClientName, else actorClientName, lower-cased ("" when absent)
    actor_email: str | None
    actor_name: str | None
    org_name: str | None  # actorOrgName
    source_ip: str | None  # actorIp when it is an address
    source_address: str | None  # actorIp when it is not
    user_agent: str | None
    target: Person | None  # the person an admin acted on
    vendor: dict[str, Any]


def _category(data: dict[str, Any]) -> str:
    """`LOGINS`; the OpenAPI examples write `EventCategory.LOGINS`."""
    value = (jsonvalues.text(data, "eventCategory") or "").upper()
    return value.removeprefix("EVENTCATEGORY.")


def _roles(raw: Any) -> list[str] | None:
    """`adminRoles` of the actor (`["User", "Full_Admin", "id_full_admin"]`), as Webex names them."""
    if not isinstance(raw, list):
        return None
    return [r.strip()[:128] for r in raw[:MAX_LIST] if isinstance(r, str) and r.strip()] or None


def _target_person(header: AuditHeader, data: dict[str, Any]) -> Person | None:
    """The person an admin acted on (`targetType` PERSON); None for any other target.

    Not a target: the actor's own record (sign-in/out audit items name the actor as target, with the
    organisation's name as `targetName`) and Webex's `Using Admin Id: ...` placeholders.
    """
    kind = (jsonvalues.text(data, "targetType") or "").upper().removeprefix("TARGETRESOURCETYPE.")
    if kind not in _PERSON_TARGETS:
        return None
    target_id, name = jsonvalues.text(data, "targetId"), jsonvalues.text(data, "targetName")
    if target_id is None or target_id == header.actor_id:
        return None
    if any(_ADMIN_PLACEHOLDER in (v or "").lower() for v in (target_id, name)):
        return None
    if name in (jsonvalues.text(data, "targetOrgName"), jsonvalues.text(data, "actorOrgName")):
        name = None  # the organisation's name, not the person's
    is_email = name is not None and "@" in name
    return Person(target_id, name, name if is_email else None, None if is_email else name)


def _audit_vendor(header: AuditHeader, data: dict[str, Any], skip: tuple[str, ...]) -> dict[str, Any]:
    """The item's id and every other non-null scalar or string list of `data`, under its own name."""
    vendor: dict[str, Any] = {}
    if header.id:
        vendor["id"] = header.id
    for key, raw in data.items():
        if key in _MAPPED or key in skip or not isinstance(key, str) or len(key) > MAX_KEY:
            continue
        if isinstance(raw, list):
            items = [i.strip() for i in raw[:MAX_LIST] if isinstance(i, str) and i.strip()]
            if items:
                vendor[key] = items
            continue
        kept = scalar(data, key)
        if kept is not None:
            vendor[key] = kept
    return vendor


def read_audit(header: AuditHeader) -> Audit:
    data = header.data
    raw_roles = data.get("adminRoles")
    raw_ip = jsonvalues.text(data, "actorIp")
    ip = canonical_ip(raw_ip) if raw_ip else None
    target = _target_person(header, data)
    return Audit(_category(data), jsonvalues.text(data, "eventDescription"), jsonvalues.text(data, "actionText"),
                 (jsonvalues.text(data, "eventStatus") or "").upper(),
                 bool(jsonvalues.text(data, "errorCode") or jsonvalues.text(data, "errorMessage")),
                 jsonvalues.text(data, "failedReason") or jsonvalues.text(data, "errorMessage"),
                 jsonvalues.text(data, "operationType"), jsonvalues.text(data, "configOperationType"),
                 tuple(r for r in raw_roles if isinstance(r, str)) if isinstance(raw_roles, list) else (),
                 _roles(raw_roles),
                 (jsonvalues.text(data, "actionClientName") or jsonvalues.text(data, "actorClientName") or "").lower(),
                 jsonvalues.text(data, "actorEmail"), jsonvalues.text(data, "actorName"),
                 jsonvalues.text(data, "actorOrgName"), ip, raw_ip if raw_ip and not ip else None,
                 jsonvalues.text(data, "actorUserAgent"), target,
                 _audit_vendor(header, data, skip=("targetId", "targetName") if target else ()))


# -- webhooks ----------------------------------------------------------------------------------

# Which data time dates the event, per resource and event; `data.created` after them.
_TIME_KEYS: dict[tuple[str, str | None], tuple[str, ...]] = {
    ("meetings", "started"): ("start",), ("meetings", "ended"): ("end",),
    ("meetingParticipants", "joined"): ("joinedTime",), ("meetingParticipants", "left"): ("leftTime",),
    ("recordings", None): ("createTime", "timeRecorded"), ("convergedRecordings", None): ("createTime",),
    ("telephony_calls", None): ("eventTimestamp",),
}


def _time(header: WebhookHeader) -> datetime | None:
    keys = _TIME_KEYS.get((header.resource, header.verb)) or _TIME_KEYS.get((header.resource, None)) or ()
    for key in (*keys, "created"):
        when = jsonvalues.zoned_time(header.data, key)
        if when is not None:
            return when
    return None


def _vendor(header: WebhookHeader, obj: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The envelope's vendor values, then those of `keys` in `obj`."""
    vendor = dict(header.vendor)
    for key in keys:
        put(vendor, key, scalar(obj, key))
    return vendor


class Meeting(NamedTuple):
    resource: str
    verb: str
    id: str | None  # meetingNumber, else id
    title: str | None
    host_email: str | None
    host_name: str | None  # hostDisplayName
    start: datetime | None  # `start` of a started or ended meeting (else it is the schedule)
    end: datetime | None  # `end` of an ended meeting
    time: datetime | None
    vendor: dict[str, Any]


def read_meeting(header: WebhookHeader) -> Meeting:
    data, verb = header.data, header.verb
    vendor = _vendor(header, data, ("id", "meetingSeriesId", "scheduledMeetingId", "meetingType", "state",
                                    "siteUrl", "hostUserId", "timezone"))
    # `start` / `end` of a started or ended meeting happened; otherwise (the `end` of a started meeting,
    # both of created/updated/deleted) they are the schedule and stay in uc.vendor as logged
    start = jsonvalues.zoned_time(data, "start") if verb in ("started", "ended") else None
    end = jsonvalues.zoned_time(data, "end") if verb == "ended" else None
    for key, used in (("start", start), ("end", end)):
        if used is None:
            put(vendor, key, scalar(data, key))
    return Meeting(header.resource, verb, jsonvalues.text(data, "meetingNumber") or jsonvalues.text(data, "id"),
                   jsonvalues.text(data, "title"), jsonvalues.text(data, "hostEmail"),
                   jsonvalues.text(data, "hostDisplayName"), start, end, _time(header), vendor)


class Participant(NamedTuple):
    resource: str
    verb: str
    meeting_id: str | None
    who: str | None  # displayName, else email
    role: str | None  # host, cohost, attendee
    email: str | None
    display_name: str | None
    start: datetime | None  # joinedTime of a joined/left participant: this attendance
    end: datetime | None  # leftTime, likewise
    device_model: str | None  # deviceType of the first device
    time: datetime | None
    vendor: dict[str, Any]


def read_participant(header: WebhookHeader) -> Participant:
    data, verb = header.data, header.verb
    who = jsonvalues.text(data, "displayName") or jsonvalues.text(data, "email")
    role = ("host" if data.get("host") is True else "cohost" if data.get("coHost") is True
            else "attendee" if who else None)
    vendor = dict(header.vendor)
    # the participant is the subject; the webhook actor stays in uc.vendor
    put(vendor, "actorId", header.actor_id)
    for key in ("id", "hostEmail", "siteUrl", "state", "invitee", "spaceModerator", "muted", "video",
                "meetingStartTime"):
        put(vendor, key, scalar(data, key))
    attended = verb in ("joined", "left")
    devices = jsonvalues.objects(data, "devices", MAX_DEVICES)
    model = None
    if devices:
        first = devices[0]
        model = jsonvalues.text(first, "deviceType")
        for key in ("audioType", "callType", "phoneNumber", "correlationId"):
            put(vendor, key, scalar(first, key))
    return Participant(header.resource, verb, jsonvalues.text(data, "meetingId"), who, role,
                       jsonvalues.text(data, "email"), jsonvalues.text(data, "displayName"),
                       jsonvalues.zoned_time(data, "joinedTime") if attended else None,
                       jsonvalues.zoned_time(data, "leftTime") if attended else None,
                       model, _time(header), vendor)


class Recording(NamedTuple):
    """A recording, converged (Webex Calling) recording or meeting transcript."""

    resource: str
    verb: str
    id: str | None
    meeting_id: str | None
    topic: str | None
    host: str | None  # hostEmail, else ownerEmail
    call_session_id: str | None  # a call recording's callSessionId (serviceData.callSessionId): its call
    start: datetime | None  # timeRecorded: when recording began (its length is durationSeconds)
    time: datetime | None
    vendor: dict[str, Any]


def read_recording(header: WebhookHeader) -> Recording:
    data = header.data
    vendor = _vendor(header, data, ("id", "meetingSeriesId", "scheduledMeetingId", "format", "serviceType",
                                    "status", "durationSeconds", "sizeBytes", "siteUrl", "ownerId", "ownerType",
                                    "shareToMe", "storageRegion"))
    return Recording(header.resource, header.verb, jsonvalues.text(data, "id"), jsonvalues.text(data, "meetingId"),
                     jsonvalues.text(data, "topic"),
                     jsonvalues.text(data, "hostEmail") or jsonvalues.text(data, "ownerEmail"),
                     jsonvalues.text(data, "callSessionId")
                     or jsonvalues.text(jsonvalues.sub(data, "serviceData"), "callSessionId"),
                     jsonvalues.zoned_time(data, "timeRecorded"), _time(header), vendor)


class Call(NamedTuple):
    """A Webex Calling call event (`telephony_calls`)."""

    resource: str
    verb: str
    event_type: str  # data.eventType: alerting, answered, disconnected... ("" when absent)
    session_id: str | None  # callSessionId
    call_id: str | None  # callId
    personality: str | None  # originator, clickToDial, terminator
    number: str | None  # remoteParty.number
    created: datetime | None
    answered: datetime | None
    ended: datetime | None  # disconnected
    person_id: str | None  # actorPersonId
    time: datetime | None
    vendor: dict[str, Any]


def read_call(header: WebhookHeader) -> Call:
    data = header.data
    remote = jsonvalues.sub(data, "remoteParty")
    vendor = _vendor(header, data, ("eventType", "personality", "state", "recordingState", "appearance"))
    for key in ("name", "callType", "privacyEnabled", "personId", "placeId"):
        put(vendor, f"remoteParty.{key}", scalar(remote, key))
    return Call(header.resource, header.verb, jsonvalues.text(data, "eventType") or "",
                jsonvalues.text(data, "callSessionId"), jsonvalues.text(data, "callId"),
                jsonvalues.text(data, "personality"), jsonvalues.text(remote, "number"),
                jsonvalues.zoned_time(data, "created"), jsonvalues.zoned_time(data, "answered"),
                jsonvalues.zoned_time(data, "disconnected"), jsonvalues.text(data, "actorPersonId"),
                _time(header), vendor)


class Message(NamedTuple):
    """Message metadata only (webhooks carry no text)."""

    resource: str
    verb: str
    person_email: str | None
    person_id: str | None
    room_type: str | None
    time: datetime | None
    vendor: dict[str, Any]


def read_message(header: WebhookHeader) -> Message:
    data = header.data
    return Message(header.resource, header.verb, jsonvalues.text(data, "personEmail"),
                   jsonvalues.text(data, "personId"), jsonvalues.text(data, "roomType"), _time(header),
                   _vendor(header, data, ("id", "roomId", "roomType", "parentId")))


class Membership(NamedTuple):
    """A person added to / removed from a space: the member is `member`, the actor the envelope's."""

    resource: str
    verb: str
    member: Person
    room_id: str | None
    time: datetime | None
    vendor: dict[str, Any]


def read_membership(header: WebhookHeader) -> Membership:
    data = header.data
    email = jsonvalues.text(data, "personEmail")
    member = Person(jsonvalues.text(data, "personId"), email, email, jsonvalues.text(data, "personDisplayName"))
    return Membership(header.resource, header.verb, member, jsonvalues.text(data, "roomId"), _time(header),
                      _vendor(header, data, ("id", "roomId", "roomType", "personOrgId", "isModerator",
                                             "isMonitor")))


class ServiceApp(NamedTuple):
    resource: str
    verb: str  # authorized, deauthorized
    time: datetime | None
    vendor: dict[str, Any]


def read_service_app(header: WebhookHeader) -> ServiceApp:
    data = header.data
    vendor = _vendor(header, data, ("id", "appId"))
    if jsonvalues.text(data, "orgId") != header.org_id:
        put(vendor, "data.orgId", jsonvalues.text(data, "orgId"))
    return ServiceApp(header.resource, header.verb, _time(header), vendor)


class Other(NamedTuple):
    """A resource without a mapping (`rooms`, `attachmentActions`...): the object's id."""

    resource: str
    verb: str
    time: datetime | None
    vendor: dict[str, Any]


def read_other(header: WebhookHeader) -> Other:
    vendor = dict(header.vendor)
    put(vendor, "data.id", jsonvalues.text(header.data, "id"))
    return Other(header.resource, header.verb, _time(header), vendor)


Webhook = Meeting | Participant | Recording | Call | Message | Membership | ServiceApp | Other
