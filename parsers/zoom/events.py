"""Zoom webhook event names -> vendor-neutral action and ECS categorisation (table in README.md)."""

from __future__ import annotations

from typing import NamedTuple


class Kind(NamedTuple):
    action: str
    category: tuple[str, ...]
    type: tuple[str, ...]
    outcome: str | None


_SESSION = ("session",)
_IAM = ("iam",)
_CONFIG = ("configuration",)
_CALL = ("network", "session")
_AUTH = ("authentication",)

DIAGNOSTIC = Kind("diagnostic", (), ("info",), None)

# Meeting and webinar events share their names after the prefix.
_CONFERENCE: dict[str, Kind] = {
    "started": Kind("conference-start", _SESSION, ("start",), "success"),
    "ended": Kind("conference-end", _SESSION, ("end",), "success"),
    "participant_joined": Kind("conference-join", _SESSION, ("start",), "success"),
    "participant_jbh_joined": Kind("conference-join", _SESSION, ("start",), "success"),
    "participant_admitted": Kind("conference-join", _SESSION, ("start", "allowed"), "success"),
    # A participant waits for the host or in the waiting room: a join attempt, not yet in.
    "participant_jbh_waiting": Kind("conference-join", _SESSION, ("start", "info"), "unknown"),
    "participant_joined_waiting_room": Kind("conference-join", _SESSION, ("start", "info"), "unknown"),
    "participant_put_in_waiting_room": Kind("conference-join", _SESSION, ("start", "info"), "unknown"),
    "participant_left": Kind("conference-leave", _SESSION, ("end",), "success"),
    "participant_left_waiting_room": Kind("conference-leave", _SESSION, ("end",), "success"),
    "participant_jbh_waiting_left": Kind("conference-leave", _SESSION, ("end",), "success"),
    "created": Kind("config-change", _CONFIG, ("creation",), "success"),
    "updated": Kind("config-change", _CONFIG, ("change",), "success"),
    "deleted": Kind("config-change", _CONFIG, ("deletion",), "success"),
    "recovered": Kind("config-change", _CONFIG, ("change",), "success"),
}

# Account management by an operator (admin) on a user or a (sub-)account.
_USER: dict[str, Kind] = {
    "signed_in": Kind("user-login", _AUTH, ("start",), "success"),
    "signed_out": Kind("user-logout", _AUTH, ("end",), "success"),
    "created": Kind("account-change", _IAM, ("user", "creation"), "success"),
    "invitation_accepted": Kind("account-change", _IAM, ("user", "change"), "success"),
    "activated": Kind("account-change", _IAM, ("user", "change"), "success"),
    "deactivated": Kind("account-change", _IAM, ("user", "change"), "success"),
    "updated": Kind("account-change", _IAM, ("user", "change"), "success"),
    "deleted": Kind("account-change", _IAM, ("user", "deletion"), "success"),
    "disassociated": Kind("account-change", _IAM, ("user", "deletion"), "success"),
    "settings_updated": Kind("config-change", _CONFIG, ("change",), "success"),
}
_ACCOUNT: dict[str, Kind] = {
    "created": Kind("account-change", _IAM, ("creation",), "success"),
    "disassociated": Kind("account-change", _IAM, ("deletion",), "success"),
    "updated": Kind("config-change", _CONFIG, ("change",), "success"),
    "settings_updated": Kind("config-change", _CONFIG, ("change",), "success"),
    "lock_settings_updated": Kind("config-change", _CONFIG, ("change",), "success"),
}

_PHONE: dict[str, Kind] = {
    "caller_ringing": Kind("call-attempt", _CALL, ("connection", "start"), None),
    "callee_ringing": Kind("call-attempt", _CALL, ("connection", "start"), None),
    "caller_connected": Kind("call-start", _CALL, ("connection", "start"), "success"),
    "callee_answered": Kind("call-start", _CALL, ("connection", "start"), "success"),
    "caller_ended": Kind("call-end", _CALL, ("connection", "end"), "success"),
    "callee_ended": Kind("call-end", _CALL, ("connection", "end"), "success"),
    # Never answered: the call ends unconnected (not refused, so not call-reject).
    "callee_missed": Kind("call-end", _CALL, ("connection", "end"), "failure"),
    "callee_rejected": Kind("call-reject", _CALL, ("connection", "denied"), "failure"),
    "caller_hold": Kind("call-update", _CALL, ("connection", "info"), None),
    "caller_unhold": Kind("call-update", _CALL, ("connection", "info"), None),
    "callee_hold": Kind("call-update", _CALL, ("connection", "info"), None),
    "callee_unhold": Kind("call-update", _CALL, ("connection", "info"), None),
    "callee_mute": Kind("call-update", _CALL, ("connection", "info"), None),
    "callee_unmute": Kind("call-update", _CALL, ("connection", "info"), None),
    "caller_mute": Kind("call-update", _CALL, ("connection", "info"), None),
    "caller_unmute": Kind("call-update", _CALL, ("connection", "info"), None),
}
# One call-end per call log row; its outcome comes from the row's `result`.
CALL_LOG = Kind("call-end", _CALL, ("connection", "end"), None)
CALL_LOG_EVENTS = frozenset(("caller_call_log_completed", "callee_call_log_completed", "call_log_completed"))

_RECORDING: dict[str, Kind] = {
    "started": Kind("recording", ("file",), ("start",), "success"),
    "resumed": Kind("recording", ("file",), ("start",), "success"),
    "paused": Kind("recording", ("file",), ("end",), "success"),
    "stopped": Kind("recording", ("file",), ("end",), "success"),
    "completed": Kind("recording", ("file",), ("creation",), "success"),
    "transcript_completed": Kind("recording", ("file",), ("creation",), "success"),
    "renamed": Kind("recording", ("file",), ("change",), "success"),
    "recovered": Kind("recording", ("file",), ("change",), "success"),
    "trashed": Kind("recording", ("file",), ("deletion",), "success"),
    "deleted": Kind("recording", ("file",), ("deletion",), "success"),
}

_CHAT: dict[str, Kind] = {
    "sent": Kind("chat-message", ("network",), ("info",), "success"),
    "updated": Kind("chat-message", ("network",), ("info",), "success"),
    "deleted": Kind("chat-message", ("network",), ("info",), "success"),
}

TABLES: dict[str, dict[str, Kind]] = {
    "meeting": _CONFERENCE,
    "webinar": _CONFERENCE,
    "user": _USER,
    "account": _ACCOUNT,
    "phone": _PHONE,
    "recording": _RECORDING,
    "chat_message": _CHAT,
}


def classify(family: str, verb: str) -> Kind:
    """`meeting`, `participant_joined` -> Kind; anything not in the tables is a diagnostic event."""
    return TABLES.get(family, {}).get(verb, DIAGNOSTIC)
