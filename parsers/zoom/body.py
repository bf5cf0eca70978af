"""The payload of each event family read into its typed body: meetings/webinars, users/accounts, phone
calls and call-log rows, recordings, chat, and anything else.

Each reader takes `payload.object` (and `old_object`, `operator`) of one webhook body; `time` is the
time the object itself gives for the event, used when the envelope has no `event_ts`. Nothing here
trusts a field's JSON type (see ucsiem.parsing.jsonvalues and values.py); `vendor` holds the values
kept as Zoom typed them (`uc.vendor`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from ucsiem.parsing import jsonvalues

from .changes import changed_fields, describe
from .header import Header
from .values import ident, number, scalar

MAX_CALL_LOGS = 500  # rows of one call-log event turned into events
CALL_LOG_EVENTS = frozenset(("caller_call_log_completed", "callee_call_log_completed", "call_log_completed"))


class Operator(NamedTuple):
    """Who performed a management action (`operator`, `operator_id`)."""

    email: str | None
    id: str | None


class Changes(NamedTuple):
    paths: list[str]  # uc.vendor.changed
    text: str  # `path: old -> new; ...` for the message


class Participant(NamedTuple):
    user_name: str | None
    email: str | None
    id: str | None
    leave_reason: str | None
    join_time: datetime | None
    leave_time: datetime | None


class Conference(NamedTuple):
    family: str
    verb: str
    id: str | None
    topic: str | None
    participant: Participant | None
    operator: Operator | None
    host_id: str | None
    issues: str | None
    start: datetime | None  # object.start_time, read on started/ended only (else it is the schedule)
    end: datetime | None  # object.end_time, on ended only
    time: datetime | None
    changes: Changes
    vendor: dict[str, Any]


class Person(NamedTuple):
    """The user or (sub-)account owner a user/account event is about."""

    email: str | None
    id: str | None
    full_name: str | None


class UserAccount(NamedTuple):
    family: str
    verb: str
    subject: Person
    operator: Operator | None
    organization_name: str | None  # account_name of the payload's own account
    message_subject: str | None
    time: datetime | None
    changes: Changes
    vendor: dict[str, Any]


class Phone(NamedTuple):
    family: str
    verb: str
    call_id: str | None
    caller: str | None
    callee: str | None
    setup: datetime | None
    connect: datetime | None
    end: datetime | None
    disconnect_cause: str | None
    direction: str | None
    user_id: str | None
    user_full_name: str | None
    device_model: str | None
    time: datetime | None
    vendor: dict[str, Any]


class CallLog(NamedTuple):
    """One row of `phone.*_call_log_completed`."""

    family: str
    verb: str
    call_id: str | None
    caller: str | None
    callee: str | None
    direction: str | None
    duration: float | None
    started: datetime | None
    result: str | None
    user_id: str | None
    vendor: dict[str, Any]


class Recording(NamedTuple):
    family: str
    verb: str
    id: str | None
    topic: str | None
    operator: Operator | None
    host_email: str | None
    host_id: str | None
    start: datetime | None  # earliest recording_start
    end: datetime | None  # latest recording_end
    time: datetime | None
    changes: Changes
    vendor: dict[str, Any]


class Chat(NamedTuple):
    """Chat message metadata only: the message text is never read."""

    family: str
    verb: str
    operator: Operator | None
    channel_name: str | None
    contact_email: str | None
    time: datetime | None
    vendor: dict[str, Any]


class Other(NamedTuple):
    """An event this parser has no mapping for: who did it and the object's id."""

    family: str
    verb: str
    operator: Operator | None
    time: datetime | None
    vendor: dict[str, Any]


Body = Conference | UserAccount | Phone | CallLog | Recording | Chat | Other


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != "":
        target[key] = value


def _operator(payload: dict[str, Any]) -> Operator | None:
    email = jsonvalues.text(payload, "operator")
    op_id = jsonvalues.text(payload, "operator_id")
    return None if email is None and op_id is None else Operator(email, op_id)


def _changes(payload: dict[str, Any], obj: dict[str, Any]) -> Changes:
    old = jsonvalues.sub(payload, "old_object")
    if not old:
        return Changes([], "")
    found = changed_fields(obj, old)
    return Changes([path for path, _, _ in found], describe(found))


# -- meetings and webinars ---------------------------------------------------------------------

def read_conference(header: Header) -> Conference:
    payload, verb = header.payload, header.verb
    obj = jsonvalues.sub(payload, "object")
    vendor: dict[str, Any] = {}
    for key in ("uuid", "host_id", "type", "timezone", "duration", "issues"):
        _put(vendor, key, scalar(obj, key))
    part = jsonvalues.sub(obj, "participant")
    participant: Participant | None = None
    when: datetime | None = None
    if part:
        for key in ("user_id", "participant_user_id", "participant_uuid", "registrant_id", "customer_key",
                    "phone_number"):
            _put(vendor, f"participant.{key}", scalar(part, key))
        sharing = jsonvalues.sub(part, "sharing_details")
        for key in ("content", "source", "link_source", "file_link"):
            _put(vendor, f"sharing_details.{key}", scalar(sharing, key))
        join, leave = jsonvalues.zoned_time(part, "join_time"), jsonvalues.zoned_time(part, "leave_time")
        when = (leave if "left" in verb else join) or jsonvalues.zoned_time(sharing, "date_time")
        participant = Participant(jsonvalues.text(part, "user_name"), jsonvalues.text(part, "email"),
                                  jsonvalues.text(part, "id"), jsonvalues.text(part, "leave_reason"), join, leave)
    registrant = jsonvalues.sub(obj, "registrant")
    for key in ("id", "email", "status"):
        _put(vendor, f"registrant.{key}", scalar(registrant, key))
    changes = _changes(payload, obj)
    if changes.paths:
        vendor["changed"] = changes.paths
    # start_time of a started/ended meeting is when it began; of other events it may be the schedule
    start = jsonvalues.zoned_time(obj, "start_time") if verb in ("started", "ended") else None
    end = jsonvalues.zoned_time(obj, "end_time") if verb == "ended" else None
    if when is None:
        when = start if verb == "started" else end if verb == "ended" else None
    return Conference(header.family, verb, ident(obj, "id"), jsonvalues.text(obj, "topic"), participant,
                      _operator(payload), jsonvalues.text(obj, "host_id"), jsonvalues.text(obj, "issues"),
                      start, end, when, changes, vendor)


# -- users and accounts ------------------------------------------------------------------------

def read_user_account(header: Header) -> UserAccount:
    payload, family = header.payload, header.family
    obj = jsonvalues.sub(payload, "object")
    email = jsonvalues.text(obj, "email") or jsonvalues.text(obj, "owner_email")
    full = " ".join(p for p in (jsonvalues.text(obj, "first_name"), jsonvalues.text(obj, "last_name")) if p) or None
    # a user object's id is the user; an account object's id is a (sub-)account, its owner the person
    person_id = jsonvalues.text(obj, "id") if family == "user" else jsonvalues.text(obj, "owner_id")
    vendor: dict[str, Any] = {}
    for key in ("client_type", "version", "login_type", "type", "presence_status"):
        _put(vendor, key, scalar(obj, key))
    organization_name = None
    if family == "account":
        # an account object is the payload's own account (settings, name) or a sub-account of it
        account_id = ident(obj, "id")
        if header.account is not None and account_id in (None, header.account):
            organization_name = jsonvalues.text(obj, "account_name")
        else:  # a sub-account (account.created, disassociated), or no payload account to compare with
            prefix = "sub_account" if header.account is not None else "account"
            _put(vendor, f"{prefix}.id", account_id)
            _put(vendor, f"{prefix}.name", scalar(obj, "account_name"))
    _put(vendor, "creation_type", scalar(payload, "creation_type"))
    changes = _changes(payload, obj)
    if changes.paths:
        vendor["changed"] = changes.paths
    return UserAccount(family, header.verb, Person(email, person_id, full), _operator(payload), organization_name,
                       email or jsonvalues.text(obj, "id"), jsonvalues.zoned_time(obj, "date_time"), changes, vendor)


# -- phone -------------------------------------------------------------------------------------

def _number(obj: dict[str, Any]) -> str | None:
    """A `caller` / `callee` object's number as dialled: phone number, else extension."""
    return ident(obj, "phone_number") or ident(obj, "extension_number")


def read_phone(header: Header) -> Phone:
    verb = header.verb
    obj = jsonvalues.sub(header.payload, "object")
    caller_obj, callee_obj = jsonvalues.sub(obj, "caller"), jsonvalues.sub(obj, "callee")
    # flat form (voicemail_received, older payloads): caller_number / callee_number
    caller = _number(caller_obj) or ident(obj, "caller_number")
    callee = _number(callee_obj) or ident(obj, "callee_number")
    setup = jsonvalues.zoned_time(obj, "ringing_start_time")
    connect = jsonvalues.zoned_time(obj, "answer_start_time") or jsonvalues.zoned_time(obj, "connected_start_time")
    end = jsonvalues.zoned_time(obj, "call_end_time")
    cause = "missed" if verb == "callee_missed" else "rejected" if verb == "callee_rejected" else None
    # The side the event is about is a Zoom Phone user: caller_* events are its outgoing calls.
    outgoing = verb.startswith("caller_")
    side = caller_obj if outgoing else callee_obj
    direction = "outbound" if outgoing else "inbound" if verb.startswith("callee_") else None
    vendor: dict[str, Any] = {}
    for key in ("caller_name", "callee_name", "id", "download_url"):
        _put(vendor, key, scalar(obj, key))
    _put(vendor, "voicemail_duration", scalar(obj, "duration") if verb == "voicemail_received" else None)
    return Phone(header.family, verb, ident(obj, "call_id"), caller, callee, setup, connect, end, cause, direction,
                 jsonvalues.text(side, "user_id") or jsonvalues.text(obj, "user_id")
                 or jsonvalues.text(obj, "callee_user_id"),
                 jsonvalues.text(side, "name") or jsonvalues.text(side, "user_name"),
                 jsonvalues.text(side, "device_type"),
                 end or connect or setup or jsonvalues.zoned_time(obj, "date_time"), vendor)


def read_call_logs(header: Header) -> list[CallLog]:
    """The rows of `phone.*_call_log_completed` (none: the event is read as any phone event)."""
    obj = jsonvalues.sub(header.payload, "object")
    user_id = jsonvalues.text(obj, "user_id")
    out = []
    for row in jsonvalues.objects(obj, "call_logs", MAX_CALL_LOGS):
        direction = jsonvalues.text(row, "direction")
        duration = number(row, "duration")
        vendor: dict[str, Any] = {}
        for key in ("id", "caller_name", "callee_name", "caller_number_type", "callee_number_type", "path"):
            _put(vendor, f"call_log.{key}", scalar(row, key))
        out.append(CallLog(header.family, header.verb, ident(row, "call_id"), ident(row, "caller_number"),
                           ident(row, "callee_number"), direction if direction in ("inbound", "outbound") else None,
                           duration if duration is not None and duration >= 0 else None,
                           jsonvalues.zoned_time(row, "date_time"), jsonvalues.text(row, "result"), user_id, vendor))
    return out


# -- recordings --------------------------------------------------------------------------------

def read_recording(header: Header) -> Recording:
    payload = header.payload
    obj = jsonvalues.sub(payload, "object")
    vendor: dict[str, Any] = {}
    for key in ("uuid", "host_id", "host_email", "type", "recording_count", "total_size", "share_url"):
        _put(vendor, key, scalar(obj, key))
    files = jsonvalues.objects(obj, "recording_files", 64)
    types = [t for t in (jsonvalues.text(f, "file_type") for f in files) if t]
    if types:
        vendor["file_types"] = types
    changes = _changes(payload, obj)
    if changes.paths:
        vendor["changed"] = changes.paths
    single = jsonvalues.sub(obj, "recording_file")
    starts = [t for t in (jsonvalues.zoned_time(f, "recording_start") for f in (single, *files)) if t]
    ends = [t for t in (jsonvalues.zoned_time(f, "recording_end") for f in (single, *files)) if t]
    when = (jsonvalues.zoned_time(single, "recording_end") or jsonvalues.zoned_time(single, "recording_start")
            or next((t for t in (jsonvalues.zoned_time(f, "recording_end") for f in files) if t), None))
    return Recording(header.family, header.verb, ident(obj, "id"), jsonvalues.text(obj, "topic"), _operator(payload),
                     jsonvalues.text(obj, "host_email"), jsonvalues.text(obj, "host_id"),
                     min(starts, default=None), max(ends, default=None), when, changes, vendor)


# -- chat and anything else --------------------------------------------------------------------

def read_chat(header: Header) -> Chat:
    obj = jsonvalues.sub(header.payload, "object")
    vendor: dict[str, Any] = {}
    for key in ("id", "type", "session_id", "channel_id", "channel_name", "contact_id", "contact_email"):
        _put(vendor, key, scalar(obj, key))
    return Chat(header.family, header.verb, _operator(header.payload), jsonvalues.text(obj, "channel_name"),
                jsonvalues.text(obj, "contact_email"), jsonvalues.zoned_time(obj, "date_time"), vendor)


def read_body(header: Header) -> Other:
    """An event without a mapping (`endpoint.url_validation`, `zoomroom.*`...)."""
    obj = jsonvalues.sub(header.payload, "object")
    vendor: dict[str, Any] = {}
    _put(vendor, "object.id", ident(obj, "id"))
    return Other(header.family, header.verb, _operator(header.payload), jsonvalues.zoned_time(obj, "date_time"),
                 vendor)
