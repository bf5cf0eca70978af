"""Webex webhook deliveries: the envelope Webex POSTs to a `targetUrl` plus the changed resource in `data`:

    {"id", "name", "targetUrl", "resource", "event", "filter", "orgId", "createdBy", "appId", "ownedBy",
     "status", "created", "actorId", "data": {...}}

`created` is when the *webhook* was registered, not when the event happened: the event time comes from
`data` (per resource below), else the time the record was read. `resource` + `event` select the
mapping (table in README.md); `data` fields are the resource's own (Webex REST reference: meetings,
meetingParticipants, recordings, telephony_calls, messages, memberships, rooms).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ucsiem.parsing import ParseContext, ParsedEvent, jsonvalues

from .values import scalar

_SESSION = ("session",)
_CALL = ("network", "session")
_E164_DIGITS = frozenset("0123456789")
_ENVELOPE = ("name", "appId", "ownedBy", "createdBy", "status", "filter")
# Which data time dates the event, per resource and event.
_TIME_KEYS = {
    ("meetings", "started"): ("start",), ("meetings", "ended"): ("end",),
    ("meetingParticipants", "joined"): ("joinedTime",), ("meetingParticipants", "left"): ("leftTime",),
    ("recordings", None): ("createTime", "timeRecorded"), ("convergedRecordings", None): ("createTime",),
    ("telephony_calls", None): ("eventTimestamp",),
}
_CRUD_TYPES = {"created": "creation", "updated": "change", "deleted": "deletion"}
# telephony_calls `data.eventType`
_CALL_EVENTS: dict[str, tuple[str, list[str], str | None]] = {
    "alerting": ("call-attempt", ["connection", "start"], None),
    "received": ("call-attempt", ["connection", "start"], None),
    "answered": ("call-start", ["connection", "start"], "success"),
    "connected": ("call-start", ["connection", "start"], "success"),
    "held": ("call-update", ["connection", "info"], None),
    "remoteHeld": ("call-update", ["connection", "info"], None),
    "resumed": ("call-update", ["connection", "info"], None),
    "recording": ("call-update", ["connection", "info"], None),
    "forwarded": ("call-redirect", ["connection", "info"], None),
    "disconnected": ("call-end", ["connection", "end"], None),
}


def is_webhook(doc: dict[str, Any]) -> bool:
    return isinstance(doc.get("resource"), str) and isinstance(doc.get("event"), str)


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != "":
        target[key] = value


def webhook_event(doc: dict[str, Any], ctx: ParseContext) -> ParsedEvent:
    resource = (jsonvalues.text(doc, "resource") or "").strip()
    verb = (jsonvalues.text(doc, "event") or "").strip()
    data = jsonvalues.sub(doc, "data")
    event: ParsedEvent = {"event": {"kind": "event", "code": f"{resource}.{verb}"[:128], "provider": "webhook"}}
    vendor: dict[str, Any] = {}
    _put(vendor, "webhookId", jsonvalues.text(doc, "id"))
    for key in _ENVELOPE:
        _put(vendor, key, scalar(doc, key))
    user: dict[str, Any] = {}
    _put(user, "id", jsonvalues.text(doc, "actorId"))
    event["user"] = user
    # the organisation the webhook is registered in (data.orgId of a few resources when it is absent)
    event["organization"] = {"id": jsonvalues.text(doc, "orgId") or jsonvalues.text(data, "orgId")}
    handler = _HANDLERS.get(resource, _other)
    handler(verb, data, event, vendor)
    when = _time(resource, verb, data)
    event["@timestamp"] = when or ctx.reference_time
    if when is None:
        event["tags"] = ["time_from_reference"]
    event["uc"] = {**event.get("uc", {}), "vendor": vendor}
    return event


def _time(resource: str, verb: str, data: dict[str, Any]) -> datetime | None:
    keys = _TIME_KEYS.get((resource, verb)) or _TIME_KEYS.get((resource, None)) or ()
    for key in (*keys, "created"):
        when = jsonvalues.zoned_time(data, key)
        if when is not None:
            return when
    return None


def _set(event: ParsedEvent, action: str, category: tuple[str, ...] | list[str], type_: list[str],
         outcome: str | None) -> None:
    event["event"].update({"action": action, "category": list(category), "type": type_, "outcome": outcome})


def _copy(data: dict[str, Any], vendor: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        _put(vendor, key, scalar(data, key))


def _span(event: ParsedEvent, start: datetime | None, end: datetime | None) -> None:
    """`event.start` / `event.end`: when the meeting, attendance, call or recording the event is about
    began and ended (never a scheduled time); `@timestamp` stays the time of the event itself."""
    _put(event["event"], "start", start)
    _put(event["event"], "end", end)


# -- meetings ----------------------------------------------------------------------------------

def _meeting(verb: str, data: dict[str, Any], event: ParsedEvent, vendor: dict[str, Any]) -> None:
    if verb == "started":
        _set(event, "conference-start", _SESSION, ["start"], "success")
    elif verb == "ended":
        _set(event, "conference-end", _SESSION, ["end"], "success")
    elif verb in _CRUD_TYPES:
        _set(event, "config-change", ("configuration",), [_CRUD_TYPES[verb]], "success")
    else:
        _set(event, "diagnostic", (), ["info"], None)
    conf: dict[str, Any] = {}
    _put(conf, "id", jsonvalues.text(data, "meetingNumber") or jsonvalues.text(data, "id"))
    _put(conf, "name", jsonvalues.text(data, "title"))
    event["uc"] = {"conference": conf}
    _put(event["user"], "email", jsonvalues.text(data, "hostEmail"))
    _put(event["user"], "name", jsonvalues.text(data, "hostEmail"))
    _put(event["user"], "full_name", jsonvalues.text(data, "hostDisplayName"))
    _copy(data, vendor, ("id", "meetingSeriesId", "scheduledMeetingId", "meetingType", "state", "siteUrl",
                         "hostUserId", "timezone"))
    # `start` / `end` of a started or ended meeting happened; otherwise (the `end` of a started meeting,
    # both of created/updated/deleted) they are the schedule and stay in uc.vendor as logged
    start = jsonvalues.zoned_time(data, "start") if verb in ("started", "ended") else None
    end = jsonvalues.zoned_time(data, "end") if verb == "ended" else None
    _span(event, start, end)
    for key, used in (("start", start), ("end", end)):
        if used is None:
            _put(vendor, key, scalar(data, key))
    event["message"] = f"meeting {verb}: {conf.get('name') or conf.get('id') or '?'}"


def _participant(verb: str, data: dict[str, Any], event: ParsedEvent, vendor: dict[str, Any]) -> None:
    if verb == "joined":
        _set(event, "conference-join", _SESSION, ["start"], "success")
    elif verb == "left":
        _set(event, "conference-leave", _SESSION, ["end"], "success")
    else:
        _set(event, "diagnostic", (), ["info"], None)
    conf: dict[str, Any] = {}
    _put(conf, "id", jsonvalues.text(data, "meetingId"))
    who = jsonvalues.text(data, "displayName") or jsonvalues.text(data, "email")
    _put(conf, "participant", who)
    if data.get("host") is True:
        conf["role"] = "host"
    elif data.get("coHost") is True:
        conf["role"] = "cohost"
    elif who:
        conf["role"] = "attendee"
    event["uc"] = {"conference": conf}
    # the participant is the subject; the webhook actor stays in uc.vendor
    _put(vendor, "actorId", event["user"].pop("id", None))
    _put(event["user"], "email", jsonvalues.text(data, "email"))
    _put(event["user"], "name", jsonvalues.text(data, "email"))
    _put(event["user"], "full_name", jsonvalues.text(data, "displayName"))
    _copy(data, vendor, ("id", "hostEmail", "siteUrl", "state", "invitee", "spaceModerator", "muted", "video",
                         "meetingStartTime"))
    if verb in ("joined", "left"):
        # this participant's attendance
        _span(event, jsonvalues.zoned_time(data, "joinedTime"), jsonvalues.zoned_time(data, "leftTime"))
    devices = jsonvalues.objects(data, "devices", 16)
    if devices:
        first = devices[0]
        model = jsonvalues.text(first, "deviceType")
        if model:
            event["uc"]["device"] = {"model": model}
        _copy(first, vendor, ("audioType", "callType", "phoneNumber", "correlationId"))
    event["message"] = f"participant {verb}: {who or '?'} in meeting {conf.get('id') or '?'}"


# -- recordings and transcripts ----------------------------------------------------------------

def _recording(verb: str, data: dict[str, Any], event: ParsedEvent, vendor: dict[str, Any]) -> None:
    _set(event, "recording", ("file",), [_CRUD_TYPES.get(verb, "info")], "success")
    conf: dict[str, Any] = {}
    _put(conf, "id", jsonvalues.text(data, "meetingId"))
    _put(conf, "name", jsonvalues.text(data, "topic"))
    if conf:
        event["uc"] = {"conference": conf}
    host = jsonvalues.text(data, "hostEmail") or jsonvalues.text(data, "ownerEmail")
    _put(event["user"], "email", host)
    _put(event["user"], "name", host)
    _copy(data, vendor, ("id", "meetingSeriesId", "scheduledMeetingId", "format", "serviceType", "status",
                         "durationSeconds", "sizeBytes", "siteUrl", "ownerId", "ownerType", "callSessionId",
                         "shareToMe", "storageRegion"))
    # when recording began; its length is durationSeconds
    _span(event, jsonvalues.zoned_time(data, "timeRecorded"), None)
    event["message"] = f"recording {verb}: {conf.get('name') or jsonvalues.text(data, 'id') or '?'}"


# -- Webex Calling -----------------------------------------------------------------------------

def _e164(number: str | None) -> str | None:
    if number and number.startswith("+") and 4 <= len(number) <= 16 and set(number[1:]) <= _E164_DIGITS:
        return number
    return None


def _telephony(verb: str, data: dict[str, Any], event: ParsedEvent, vendor: dict[str, Any]) -> None:
    kind = jsonvalues.text(data, "eventType") or ""
    action, type_, outcome = _CALL_EVENTS.get(kind, ("diagnostic", ["info"], None))
    call: dict[str, Any] = {}
    _put(call, "id", jsonvalues.text(data, "callSessionId"))
    _put(call, "leg_id", jsonvalues.text(data, "callId"))
    remote = jsonvalues.sub(data, "remoteParty")
    number = jsonvalues.text(remote, "number")
    personality = jsonvalues.text(data, "personality")
    if personality in ("originator", "clickToDial"):
        call["direction"] = "outbound"
        _put(call, "callee", number)
        _put(call, "callee_number", _e164(number))
    elif personality == "terminator":
        call["direction"] = "inbound"
        _put(call, "caller", number)
        _put(call, "caller_number", _e164(number))
    created, answered = jsonvalues.zoned_time(data, "created"), jsonvalues.zoned_time(data, "answered")
    ended = jsonvalues.zoned_time(data, "disconnected")
    _put(call, "setup_time", created)
    _put(call, "connect_time", answered)
    _put(call, "end_time", ended)
    if answered is not None and ended is not None and ended >= answered:
        call["duration"] = (ended - answered).total_seconds()
    _span(event, created, ended)
    if action == "call-end":
        # Webex gives no cause: a call that ends without having been answered was not connected
        outcome = "success" if answered is not None else "failure"
        if answered is None:
            call["disconnect_cause"] = "not answered"
    if action == "diagnostic":
        _set(event, action, (), type_, outcome)
    else:
        _set(event, action, _CALL, type_, outcome)
    event["uc"] = {"call": call}
    _put(event["user"], "id", jsonvalues.text(data, "actorPersonId") or event["user"].get("id"))
    _copy(data, vendor, ("eventType", "personality", "state", "recordingState", "appearance"))
    for key in ("name", "callType", "privacyEnabled", "personId", "placeId"):
        _put(vendor, f"remoteParty.{key}", scalar(remote, key))
    event["message"] = f"call {kind or verb}: {personality or '?'} remote {number or '?'}"


# -- messaging ---------------------------------------------------------------------------------

def _message(verb: str, data: dict[str, Any], event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """Message metadata only (webhooks carry no text)."""
    _set(event, "chat-message", ("network",), ["info"], "success")
    _put(event["user"], "email", jsonvalues.text(data, "personEmail"))
    _put(event["user"], "name", jsonvalues.text(data, "personEmail"))
    _put(event["user"], "id", jsonvalues.text(data, "personId") or event["user"].get("id"))
    _copy(data, vendor, ("id", "roomId", "roomType", "parentId"))
    event["message"] = (f"message {verb} by {jsonvalues.text(data, 'personEmail') or '?'} "
                        f"in {jsonvalues.text(data, 'roomType') or 'room'}")


def _membership(verb: str, data: dict[str, Any], event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """A person added to / removed from a space: a group membership change."""
    _set(event, "account-change", ("iam",), ["group", _CRUD_TYPES.get(verb, "change")], "success")
    # the actor (who added or removed) is user.id; the member is the account the change acted on
    target: dict[str, Any] = {}
    _put(target, "id", jsonvalues.text(data, "personId"))
    _put(target, "name", jsonvalues.text(data, "personEmail"))
    _put(target, "email", jsonvalues.text(data, "personEmail"))
    _put(target, "full_name", jsonvalues.text(data, "personDisplayName"))
    if target:
        event["user"]["target"] = target
    _copy(data, vendor, ("id", "roomId", "roomType", "personOrgId", "isModerator", "isMonitor"))
    event["message"] = (f"membership {verb}: {jsonvalues.text(data, 'personEmail') or '?'} "
                        f"in {jsonvalues.text(data, 'roomId') or '?'}")


def _service_app(verb: str, data: dict[str, Any], event: ParsedEvent, vendor: dict[str, Any]) -> None:
    _set(event, "config-change", ("configuration",), ["creation" if verb == "authorized" else "deletion"],
         "success")
    _copy(data, vendor, ("id", "appId"))
    if jsonvalues.text(data, "orgId") != event["organization"]["id"]:
        _put(vendor, "data.orgId", jsonvalues.text(data, "orgId"))
    event["message"] = f"service app {verb}"


def _other(verb: str, data: dict[str, Any], event: ParsedEvent, vendor: dict[str, Any]) -> None:
    _set(event, "diagnostic", (), ["info"], None)
    _put(vendor, "data.id", jsonvalues.text(data, "id"))
    event["message"] = f"webhook {event['event']['code']}"


_HANDLERS = {
    "meetings": _meeting,
    "meetingParticipants": _participant,
    "recordings": _recording,
    "convergedRecordings": _recording,
    "meetingTranscripts": _recording,
    "telephony_calls": _telephony,
    "messages": _message,
    "memberships": _membership,
    "serviceApp": _service_app,
}
