"""`event.action` -> ECS kind, category, type and default outcome, for every action of the shared vocabulary.

One table for both products and for every family (module messages and xlog key=value lines), so the same
action is always categorised the same way. Outcome-dependent types: a registration accepted is `allowed`,
refused is `denied`; a removed binding is `end`.
"""

from __future__ import annotations

from typing import get_args

from ucsiem.schema.actions import EventAction

VOCABULARY = frozenset(get_args(EventAction)) - {"pipeline-error"}

_NET = ("network",)
_CALL = ("network", "session")
_AUTH = ("authentication",)
_IDS = ("network", "intrusion_detection")

# action -> (category, type, default outcome)
KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str | None]] = {
    "sip-register": (_NET, ("protocol",), None),
    "sip-unregister": (_NET, ("protocol",), None),
    "sip-auth": (_AUTH, ("start",), None),
    "sip-message": (_NET, ("protocol",), None),
    "sip-message-reject": (_NET, ("protocol", "denied"), "failure"),
    "call-attempt": (_CALL, ("connection", "start"), None),
    "call-start": (_CALL, ("connection", "start"), "success"),
    "call-end": (_CALL, ("connection", "end"), None),
    "call-reject": (_CALL, ("connection", "denied"), "failure"),
    "call-redirect": (_CALL, ("connection", "info"), None),
    "call-update": (_CALL, ("connection", "info"), None),
    "route-lookup": (_NET, ("info",), None),
    "media-start": (_NET, ("start",), None),
    "media-update": (_NET, ("info",), None),
    "media-end": (_NET, ("end",), None),
    "dialog-start": (_CALL, ("start",), None),
    "dialog-end": (_CALL, ("end",), None),
    "admin-login": (_AUTH, ("start",), None),
    "admin-logout": (_AUTH, ("end",), "success"),
    "config-change": (("configuration",), ("change",), "success"),
    "admin-action": (("configuration",), ("info",), None),
    "alarm-raise": (("host",), ("info",), None),
    "alarm-clear": (("host",), ("info",), None),
    "system-start": (("host",), ("start",), "success"),
    "system-stop": (("host",), ("end",), "success"),
    "tls-handshake": (_NET, ("connection",), None),
    "connection": (_NET, ("connection",), None),
    "service-failure": (_NET, ("connection",), "failure"),
    "flood-block": (_IDS, ("denied",), "success"),
    "deny-list": (_IDS, ("denied",), "success"),
    "security-alert": (("intrusion_detection",), ("info",), None),
    "conference-start": (("session",), ("start",), None),
    "conference-end": (("session",), ("end",), None),
    "conference-join": (("session",), ("start",), None),
    "conference-leave": (("session",), ("end",), None),
    "license-limit": (_NET, ("info",), "failure"),
    "diagnostic": ((), ("info",), None),
}
_OUTCOME_TYPE = {
    ("sip-register", "success"): "allowed", ("sip-register", "failure"): "denied",
    ("sip-unregister", "success"): "end", ("sip-unregister", "failure"): "denied",
    ("sip-message", "failure"): "denied",
}


def kind_of(action: str, outcome: str | None, is_error: bool) -> tuple[str, list[str], list[str]]:
    """(event.kind, event.category, event.type) of an action with its final outcome."""
    category, types, _ = KINDS[action]
    type_list = list(types)
    extra = _OUTCOME_TYPE.get((action, outcome or ""))
    if extra is not None:
        type_list.append(extra)
    if action == "diagnostic" and is_error:
        type_list = ["error"]
    kind = "alert" if action == "security-alert" else "event"
    return kind, list(category), type_list


def default_outcome(action: str) -> str | None:
    return KINDS[action][2]
