"""Field mapping per event family: meetings/webinars, users/accounts, phone, recordings, chat.

Each function reads `payload.object` (and `old_object`, `operator`) of one webhook body into the
event being built and returns the time the object itself gives for the event, used when the
envelope has no `event_ts`. Nothing here trusts a field's JSON type (see
ucsiem.parsing.jsonvalues and values.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ucsiem.parsing import jsonvalues

from .changes import changed_fields, describe
from .events import Kind
from .values import ident, number, scalar

Event = dict[str, Any]
MAX_CALL_LOGS = 500  # rows of one call-log event turned into events
_E164_DIGITS = frozenset("0123456789")


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != "":
        target[key] = value


def _span(event: Event, start: datetime | None, end: datetime | None) -> None:
    """`event.start` / `event.end`: when the meeting, attendance, call or recording the event is about
    began and ended (never a scheduled time); `@timestamp` stays the time of the event itself."""
    _put(event["event"], "start", start)
    _put(event["event"], "end", end)


def _user(event: Event) -> dict[str, Any]:
    user: dict[str, Any] = event.setdefault("user", {})
    return user


def operator(payload: dict[str, Any], event: Event) -> bool:
    """The operator (who performed a management action) as `user.*`; True when there is one."""
    email = jsonvalues.text(payload, "operator")
    op_id = jsonvalues.text(payload, "operator_id")
    if email is None and op_id is None:
        return False
    user = _user(event)
    _put(user, "name", email)
    _put(user, "email", email if email and "@" in email else None)
    _put(user, "id", op_id)
    return True


def _changes(payload: dict[str, Any], obj: dict[str, Any], event: Event, vendor: dict[str, Any]) -> str:
    old = jsonvalues.sub(payload, "old_object")
    if not old:
        return ""
    found = changed_fields(obj, old)
    if found:
        vendor["changed"] = [path for path, _, _ in found]
    return describe(found)


def _message(name: str, parts: list[tuple[str, str | None]], extra: str = "") -> str:
    shown = " ".join(f"{key}={value!r}" for key, value in parts if value)
    text_ = f"{name} {shown}".strip()
    return f"{text_}: {extra}" if extra else text_


# -- meetings and webinars ---------------------------------------------------------------------

def conference(name: str, verb: str, kind: Kind, payload: dict[str, Any], event: Event,
               vendor: dict[str, Any]) -> datetime | None:
    obj = jsonvalues.sub(payload, "object")
    conf: dict[str, Any] = {}
    _put(conf, "id", ident(obj, "id"))
    _put(conf, "name", jsonvalues.text(obj, "topic"))
    for key in ("uuid", "host_id", "type", "timezone", "duration", "issues"):
        _put(vendor, key, scalar(obj, key))
    part = jsonvalues.sub(obj, "participant")
    when: datetime | None = None
    if part:
        who = jsonvalues.text(part, "user_name") or jsonvalues.text(part, "email")
        _put(conf, "participant", who)
        user = _user(event)
        _put(user, "full_name", jsonvalues.text(part, "user_name"))
        email = jsonvalues.text(part, "email")
        _put(user, "name", email)
        _put(user, "email", email)
        _put(user, "id", jsonvalues.text(part, "id"))
        for key in ("user_id", "participant_user_id", "participant_uuid", "registrant_id", "customer_key",
                    "phone_number"):
            _put(vendor, f"participant.{key}", scalar(part, key))
        _put(event["event"], "reason", jsonvalues.text(part, "leave_reason"))
        sharing = jsonvalues.sub(part, "sharing_details")
        for key in ("content", "source", "link_source", "file_link"):
            _put(vendor, f"sharing_details.{key}", scalar(sharing, key))
        when = (jsonvalues.zoned_time(part, "leave_time" if "left" in verb else "join_time")
                or jsonvalues.zoned_time(sharing, "date_time"))
        if kind.action in ("conference-join", "conference-leave"):
            # this participant's attendance
            _span(event, jsonvalues.zoned_time(part, "join_time"), jsonvalues.zoned_time(part, "leave_time"))
    registrant = jsonvalues.sub(obj, "registrant")
    for key in ("id", "email", "status"):
        _put(vendor, f"registrant.{key}", scalar(registrant, key))
    # the participant is the subject of participant events; otherwise the operator, else the host
    if not part and not operator(payload, event):
        _put(_user(event), "id", jsonvalues.text(obj, "host_id"))
    if conf:
        event.setdefault("uc", {})["conference"] = conf
    _put(event["event"], "reason", jsonvalues.text(obj, "issues"))
    diff = _changes(payload, obj, event, vendor)
    event["message"] = _message(name, [("participant", conf.get("participant")), ("meeting", conf.get("id")),
                                       ("topic", conf.get("name"))], diff)
    if verb in ("started", "ended"):
        # start_time of a started/ended meeting is when it began; of other events it may be the schedule
        _span(event, jsonvalues.zoned_time(obj, "start_time"),
              jsonvalues.zoned_time(obj, "end_time") if verb == "ended" else None)
    if when is None:
        if verb == "started":
            when = jsonvalues.zoned_time(obj, "start_time")
        elif verb == "ended":
            when = jsonvalues.zoned_time(obj, "end_time")
    return when


# -- users and accounts ------------------------------------------------------------------------

def user_account(name: str, family: str, verb: str, kind: Kind, payload: dict[str, Any], event: Event,
                 vendor: dict[str, Any]) -> datetime | None:
    obj = jsonvalues.sub(payload, "object")
    email = jsonvalues.text(obj, "email") or jsonvalues.text(obj, "owner_email")
    full = " ".join(p for p in (jsonvalues.text(obj, "first_name"), jsonvalues.text(obj, "last_name")) if p) or None
    # a user object's id is the user; an account object's id is a (sub-)account, its owner the person
    person_id = jsonvalues.text(obj, "id") if family == "user" else jsonvalues.text(obj, "owner_id")
    if kind.action in ("user-login", "user-logout") or not operator(payload, event):
        # the user signing in/out, or the subject of an event without an operator
        user = _user(event)
        _put(user, "name", email)
        _put(user, "email", email)
        _put(user, "id", person_id)
        _put(user, "full_name", full)
    else:
        # an operator (admin) acted on this user, or on the sub-account of this owner
        target: dict[str, Any] = {}
        _put(target, "name", email)
        _put(target, "email", email if email and "@" in email else None)
        _put(target, "id", person_id)
        _put(target, "full_name", full)
        if target:
            _user(event)["target"] = target
    for key in ("client_type", "version", "login_type", "type", "presence_status"):
        _put(vendor, key, scalar(obj, key))
    if family == "account":
        _account(obj, event, vendor)
    _put(vendor, "creation_type", scalar(payload, "creation_type"))
    diff = _changes(payload, obj, event, vendor)
    subject = email or jsonvalues.text(obj, "id")
    event["message"] = _message(name, [(family, subject), ("by", jsonvalues.text(payload, "operator"))], diff)
    return jsonvalues.zoned_time(obj, "date_time")


def _account(obj: dict[str, Any], event: Event, vendor: dict[str, Any]) -> None:
    """An account object is the payload's own account (settings, name) or a sub-account of it."""
    org: dict[str, Any] = event.get("organization", {})
    account_id = ident(obj, "id")
    if org.get("id") is not None and account_id in (None, org["id"]):
        _put(org, "name", jsonvalues.text(obj, "account_name"))
    else:  # a sub-account (account.created, disassociated), or no payload account to compare with
        prefix = "sub_account" if org.get("id") is not None else "account"
        _put(vendor, f"{prefix}.id", account_id)
        _put(vendor, f"{prefix}.name", scalar(obj, "account_name"))


# -- phone -------------------------------------------------------------------------------------

def _e164(number_: str | None) -> str | None:
    if number_ and number_.startswith("+") and 4 <= len(number_) <= 16 and set(number_[1:]) <= _E164_DIGITS:
        return number_
    return None


def _party(obj: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """`caller` / `callee` object -> (number as dialled: phone number, else extension; the object)."""
    return (ident(obj, "phone_number") or ident(obj, "extension_number")), obj


def phone(name: str, verb: str, kind: Kind, payload: dict[str, Any], event: Event,
          vendor: dict[str, Any]) -> datetime | None:
    obj = jsonvalues.sub(payload, "object")
    call: dict[str, Any] = {}
    _put(call, "id", ident(obj, "call_id"))
    caller, caller_obj = _party(jsonvalues.sub(obj, "caller"))
    callee, callee_obj = _party(jsonvalues.sub(obj, "callee"))
    # flat form (voicemail_received, older payloads): caller_number / callee_number
    caller = caller or ident(obj, "caller_number")
    callee = callee or ident(obj, "callee_number")
    _put(call, "caller", caller)
    _put(call, "callee", callee)
    _put(call, "caller_number", _e164(caller))
    _put(call, "callee_number", _e164(callee))
    setup = jsonvalues.zoned_time(obj, "ringing_start_time")
    connect = jsonvalues.zoned_time(obj, "answer_start_time") or jsonvalues.zoned_time(obj, "connected_start_time")
    end = jsonvalues.zoned_time(obj, "call_end_time")
    _put(call, "setup_time", setup)
    _put(call, "connect_time", connect)
    _put(call, "end_time", end)
    if connect is not None and end is not None and end >= connect:
        call["duration"] = (end - connect).total_seconds()
    _span(event, setup or connect, end)
    if verb == "callee_missed":
        call["disconnect_cause"] = "missed"
    elif verb == "callee_rejected":
        call["disconnect_cause"] = "rejected"
    # The side the event is about is a Zoom Phone user: caller_* events are its outgoing calls.
    side = caller_obj if verb.startswith("caller_") else callee_obj
    if verb.startswith("caller_"):
        call["direction"] = "outbound"
    elif verb.startswith("callee_"):
        call["direction"] = "inbound"
    _put(_user(event), "id", jsonvalues.text(side, "user_id") or jsonvalues.text(obj, "user_id")
         or jsonvalues.text(obj, "callee_user_id"))
    _put(_user(event), "full_name", jsonvalues.text(side, "name") or jsonvalues.text(side, "user_name"))
    model = jsonvalues.text(side, "device_type")
    if model:
        event.setdefault("uc", {})["device"] = {"model": model}
    for key in ("caller_name", "callee_name", "id", "download_url"):
        _put(vendor, key, scalar(obj, key))
    _put(vendor, "voicemail_duration", scalar(obj, "duration") if verb == "voicemail_received" else None)
    if call:
        event.setdefault("uc", {})["call"] = call
    event["message"] = _message(name, [("call", call.get("id")), ("from", caller), ("to", callee)])
    return end or connect or setup or jsonvalues.zoned_time(obj, "date_time")


_LOG_SUCCESS = ("connected", "answered", "recorded")
_LOG_FAILURE = ("no answer", "missed", "reject", "block", "busy", "fail", "cancel", "abandon")


def call_log_rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return jsonvalues.objects(jsonvalues.sub(payload, "object"), "call_logs", MAX_CALL_LOGS)


def call_log(name: str, row: dict[str, Any], payload: dict[str, Any], event: Event,
             vendor: dict[str, Any]) -> datetime | None:
    """One row of `phone.*_call_log_completed` -> call-end with duration and result."""
    obj = jsonvalues.sub(payload, "object")
    call: dict[str, Any] = {}
    _put(call, "id", ident(row, "call_id"))
    caller = ident(row, "caller_number")
    callee = ident(row, "callee_number")
    _put(call, "caller", caller)
    _put(call, "callee", callee)
    _put(call, "caller_number", _e164(caller))
    _put(call, "callee_number", _e164(callee))
    direction = jsonvalues.text(row, "direction")
    if direction in ("inbound", "outbound"):
        call["direction"] = direction
    duration = number(row, "duration")
    if duration is not None and duration >= 0:
        call["duration"] = duration
    started = jsonvalues.zoned_time(row, "date_time")
    _put(call, "setup_time", started)
    _span(event, started, None)  # `duration` is talk time, so the end is not derived from it
    result = jsonvalues.text(row, "result")
    _put(call, "disconnect_cause", result)
    low = (result or "").lower()
    if any(word in low for word in _LOG_SUCCESS):
        event["event"]["outcome"] = "success"
    elif any(word in low for word in _LOG_FAILURE):
        event["event"]["outcome"] = "failure"
    else:
        event["event"]["outcome"] = "unknown"
    _put(_user(event), "id", jsonvalues.text(obj, "user_id"))
    for key in ("id", "caller_name", "callee_name", "caller_number_type", "callee_number_type", "path"):
        _put(vendor, f"call_log.{key}", scalar(row, key))
    event.setdefault("uc", {})["call"] = call
    event["message"] = _message(name, [("from", caller), ("to", callee), ("result", result)])
    return started


# -- recordings --------------------------------------------------------------------------------

def recording(name: str, verb: str, kind: Kind, payload: dict[str, Any], event: Event,
              vendor: dict[str, Any]) -> datetime | None:
    obj = jsonvalues.sub(payload, "object")
    conf: dict[str, Any] = {}
    _put(conf, "id", ident(obj, "id"))
    _put(conf, "name", jsonvalues.text(obj, "topic"))
    if conf:
        event.setdefault("uc", {})["conference"] = conf
    for key in ("uuid", "host_id", "host_email", "type", "recording_count", "total_size", "share_url"):
        _put(vendor, key, scalar(obj, key))
    if not operator(payload, event):
        user = _user(event)
        _put(user, "name", jsonvalues.text(obj, "host_email"))
        _put(user, "email", jsonvalues.text(obj, "host_email"))
        _put(user, "id", jsonvalues.text(obj, "host_id"))
    files = jsonvalues.objects(obj, "recording_files", 64)
    types = [t for t in (jsonvalues.text(f, "file_type") for f in files) if t]
    if types:
        vendor["file_types"] = types
    diff = _changes(payload, obj, event, vendor)
    event["message"] = _message(name, [("meeting", conf.get("id")), ("topic", conf.get("name"))], diff)
    single = jsonvalues.sub(obj, "recording_file")
    starts = [t for t in (jsonvalues.zoned_time(f, "recording_start") for f in (single, *files)) if t]
    ends = [t for t in (jsonvalues.zoned_time(f, "recording_end") for f in (single, *files)) if t]
    _span(event, min(starts, default=None), max(ends, default=None))
    return (jsonvalues.zoned_time(single, "recording_end") or jsonvalues.zoned_time(single, "recording_start")
            or next((t for t in (jsonvalues.zoned_time(f, "recording_end") for f in files) if t), None))


# -- chat and anything else --------------------------------------------------------------------

def chat(name: str, payload: dict[str, Any], event: Event, vendor: dict[str, Any]) -> datetime | None:
    """Chat message metadata only: the message text is never copied."""
    obj = jsonvalues.sub(payload, "object")
    operator(payload, event)
    for key in ("id", "type", "session_id", "channel_id", "channel_name", "contact_id", "contact_email"):
        _put(vendor, key, scalar(obj, key))
    event["message"] = _message(name, [("by", jsonvalues.text(payload, "operator")),
                                       ("channel", jsonvalues.text(obj, "channel_name")),
                                       ("contact", jsonvalues.text(obj, "contact_email"))])
    return jsonvalues.zoned_time(obj, "date_time")


def other(name: str, payload: dict[str, Any], event: Event, vendor: dict[str, Any]) -> datetime | None:
    """An event this parser has no mapping for: keep who did it and the object's id."""
    obj = jsonvalues.sub(payload, "object")
    operator(payload, event)
    _put(vendor, "object.id", ident(obj, "id"))
    event["message"] = name
    return jsonvalues.zoned_time(obj, "date_time")
