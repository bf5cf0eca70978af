"""Zoom webhook event names -> a `Kind` (table in README.md): category, type and the default outcome from
the shared CATEGORISATION table, refined where Zoom's event says more."""

from __future__ import annotations

from ucsiem.parsing import Kind, kind

from .body import Body, CallLog

DIAGNOSTIC = kind("diagnostic")

_JOIN = kind("conference-join", "success")
# A participant waits for the host or in the waiting room: a join attempt, not yet in.
_WAITING = kind("conference-join", "unknown", add_type=("info",))
_LEAVE = kind("conference-leave", "success")
_CONFIG_CHANGE = kind("config-change")
# Meeting and webinar events share their names after the prefix.
_CONFERENCE: dict[str, Kind] = {
    "started": kind("conference-start", "success"),
    "ended": kind("conference-end", "success"),
    "participant_joined": _JOIN,
    "participant_jbh_joined": _JOIN,
    "participant_admitted": kind("conference-join", "success", add_type=("allowed",)),
    "participant_jbh_waiting": _WAITING,
    "participant_joined_waiting_room": _WAITING,
    "participant_put_in_waiting_room": _WAITING,
    "participant_left": _LEAVE,
    "participant_left_waiting_room": _LEAVE,
    "participant_jbh_waiting_left": _LEAVE,
    "created": kind("config-change", type=("creation",)),
    "updated": _CONFIG_CHANGE,
    "deleted": kind("config-change", type=("deletion",)),
    "recovered": _CONFIG_CHANGE,
}

# Account management by an operator (admin) on a user or a (sub-)account.
_USER_CHANGE = kind("account-change")
_USER_DELETION = kind("account-change", type=("user", "deletion"))
_USER: dict[str, Kind] = {
    "signed_in": kind("user-login", "success"),
    "signed_out": kind("user-logout"),
    "created": kind("account-change", type=("user", "creation")),
    "invitation_accepted": _USER_CHANGE,
    "activated": _USER_CHANGE,
    "deactivated": _USER_CHANGE,
    "updated": _USER_CHANGE,
    "deleted": _USER_DELETION,
    "disassociated": _USER_DELETION,
    "settings_updated": _CONFIG_CHANGE,
}
_ACCOUNT: dict[str, Kind] = {
    "created": kind("account-change", type=("creation",)),
    "disassociated": kind("account-change", type=("deletion",)),
    "updated": _CONFIG_CHANGE,
    "settings_updated": _CONFIG_CHANGE,
    "lock_settings_updated": _CONFIG_CHANGE,
}

_RINGING = kind("call-attempt")
_ANSWERED = kind("call-start")
_ENDED = kind("call-end", "success")
_UPDATE = kind("call-update")
_PHONE: dict[str, Kind] = {
    "caller_ringing": _RINGING,
    "callee_ringing": _RINGING,
    "caller_connected": _ANSWERED,
    "callee_answered": _ANSWERED,
    "caller_ended": _ENDED,
    "callee_ended": _ENDED,
    # Never answered: the call ends unconnected (not refused, so not call-reject).
    "callee_missed": kind("call-end", "failure"),
    "callee_rejected": kind("call-reject"),
    **{f"{side}_{what}": _UPDATE for side in ("caller", "callee")
       for what in ("hold", "unhold", "mute", "unmute")},
}

_RECORDING_START = kind("recording", "success", type=("start",))
_RECORDING_END = kind("recording", "success", type=("end",))
_RECORDING_CREATION = kind("recording", "success", type=("creation",))
_RECORDING_CHANGE = kind("recording", "success", type=("change",))
_RECORDING_DELETION = kind("recording", "success", type=("deletion",))
_RECORDING: dict[str, Kind] = {
    "started": _RECORDING_START,
    "resumed": _RECORDING_START,
    "paused": _RECORDING_END,
    "stopped": _RECORDING_END,
    "completed": _RECORDING_CREATION,
    "transcript_completed": _RECORDING_CREATION,
    "renamed": _RECORDING_CHANGE,
    "recovered": _RECORDING_CHANGE,
    "trashed": _RECORDING_DELETION,
    "deleted": _RECORDING_DELETION,
}

_CHAT_MESSAGE = kind("chat-message", "success")
_CHAT: dict[str, Kind] = {"sent": _CHAT_MESSAGE, "updated": _CHAT_MESSAGE, "deleted": _CHAT_MESSAGE}

TABLES: dict[str, dict[str, Kind]] = {
    "meeting": _CONFERENCE,
    "webinar": _CONFERENCE,
    "user": _USER,
    "account": _ACCOUNT,
    "phone": _PHONE,
    "recording": _RECORDING,
    "chat_message": _CHAT,
}
_NONE: dict[str, Kind] = {}


def classify(body: Body) -> Kind:
    """`meeting`, `participant_joined` -> Kind; anything not in the tables is a diagnostic event."""
    return TABLES.get(body.family, _NONE).get(body.verb, DIAGNOSTIC)


# One call-end per call log row; its outcome comes from the row's `result`.
_LOG_SUCCESS = ("connected", "answered", "recorded")
_LOG_FAILURE = ("no answer", "missed", "reject", "block", "busy", "fail", "cancel", "abandon")
CALL_LOG_SUCCESS = kind("call-end", "success")
CALL_LOG_FAILURE = kind("call-end", "failure")
CALL_LOG_UNKNOWN = kind("call-end", "unknown")


def classify_call_log(body: CallLog) -> Kind:
    low = (body.result or "").lower()
    if any(word in low for word in _LOG_SUCCESS):
        return CALL_LOG_SUCCESS
    if any(word in low for word in _LOG_FAILURE):
        return CALL_LOG_FAILURE
    return CALL_LOG_UNKNOWN
