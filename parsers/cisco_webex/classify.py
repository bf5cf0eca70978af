"""Webex records -> a `Kind` (tables in README.md): category, type and the default outcome from the shared
CATEGORISATION table, refined where Webex's record says more.

`classify` maps a webhook's resource and event (a call's `eventType`); `classify_audit` an audit item's
category, description and status.
"""

from __future__ import annotations

from ucsiem.parsing import Kind, kind

from .body import Audit, Call, Webhook

DIAGNOSTIC = kind("diagnostic")

# -- webhooks ----------------------------------------------------------------------------------

_CRUD = {"created": "creation", "updated": "change", "deleted": "deletion"}
_MEETINGS: dict[str, Kind] = {
    "started": kind("conference-start", "success"),
    "ended": kind("conference-end", "success"),
    **{verb: kind("config-change", type=(change,)) for verb, change in _CRUD.items()},
}
_PARTICIPANTS: dict[str, Kind] = {
    "joined": kind("conference-join", "success"),
    "left": kind("conference-leave", "success"),
}
_RECORDINGS = {verb: kind("recording", "success", type=(change,)) for verb, change in _CRUD.items()}
_MEMBERSHIPS = {verb: kind("account-change", type=("group", change)) for verb, change in _CRUD.items()}
# resource -> (its events, the Kind of any other event)
WEBHOOKS: dict[str, tuple[dict[str, Kind], Kind]] = {
    "meetings": (_MEETINGS, DIAGNOSTIC),
    "meetingParticipants": (_PARTICIPANTS, DIAGNOSTIC),
    **{resource: (_RECORDINGS, kind("recording", "success"))
       for resource in ("recordings", "convergedRecordings", "meetingTranscripts")},
    "messages": ({}, kind("chat-message", "success")),
    "memberships": (_MEMBERSHIPS, kind("account-change", type=("group", "change"))),
    "serviceApp": ({"authorized": kind("config-change", type=("creation",))},
                   kind("config-change", type=("deletion",))),
}
_OTHER: tuple[dict[str, Kind], Kind] = ({}, DIAGNOSTIC)

# telephony_calls `data.eventType`
_ATTEMPT = kind("call-attempt")
_ANSWERED = kind("call-start")
_UPDATE = kind("call-update")
CALL_END = kind("call-end", "success")
# Webex gives no cause: a call that ends without having been answered was not connected.
CALL_NOT_ANSWERED = kind("call-end", "failure")
CALL_EVENTS: dict[str, Kind] = {
    "alerting": _ATTEMPT,
    "received": _ATTEMPT,
    "answered": _ANSWERED,
    "connected": _ANSWERED,
    "held": _UPDATE,
    "remoteHeld": _UPDATE,
    "resumed": _UPDATE,
    "recording": _UPDATE,
    "forwarded": kind("call-redirect"),
    "disconnected": CALL_END,
}


def classify(body: Webhook) -> Kind:
    """A webhook delivery: `meetings` + `started` -> Kind; a resource or event not in the tables is a
    diagnostic event. Calls by their `eventType`."""
    if isinstance(body, Call):
        found = CALL_EVENTS.get(body.event_type, DIAGNOSTIC)
        return CALL_NOT_ANSWERED if found is CALL_END and body.answered is None else found
    events, other = WEBHOOKS.get(body.resource, _OTHER)
    return events.get(body.verb, other)


# -- audit items -------------------------------------------------------------------------------

_OUTCOMES = ("success", "failure", "unknown")


def _with_outcomes(found: Kind, unstated: str | None) -> dict[str | None, Kind]:
    """`found` with each outcome an item can state (key None: it states none, `unstated` is used)."""
    return {None: found._replace(outcome=unstated), **{o: found._replace(outcome=o) for o in _OUTCOMES}}


# An audit record of a sign-in/out exists once it happened, unless its status says otherwise.
ADMIN_LOGIN = _with_outcomes(kind("admin-login"), "success")
USER_LOGIN = _with_outcomes(kind("user-login"), "success")
ADMIN_LOGOUT = _with_outcomes(kind("admin-logout"), "success")
USER_LOGOUT = _with_outcomes(kind("user-logout"), "success")
ADMIN_ACTION = _with_outcomes(kind("admin-action"), None)
ACCOUNT_CHANGE = {change: _with_outcomes(kind("account-change", type=("user", change)), "success")
                  for change in _CRUD.values()}
CONFIG_CHANGE = {change: _with_outcomes(kind("config-change", type=(change,)), "success")
                 for change in _CRUD.values()}

# Categories whose events change people, their roles, licences or identity.
_ACCOUNT_CATEGORIES = frozenset(("USERS", "WEBEX_IDENTITY", "LICENSES", "ROLES", "GROUPS", "PEOPLE",
                                 "USER_MANAGEMENT", "CUSTOMERS", "PARTNER"))
# Categories whose events change settings of the organisation, its services or its devices.
_CONFIG_CATEGORIES = frozenset(("ORG_SETTINGS", "SETTINGS", "USER_SETTINGS", "INTEGRATION", "DEVICES", "PLACES",
                                "WORKSPACES", "LOCATIONS", "MEETINGS", "MESSAGING", "SPACE", "TEAMS",
                                "HYBRID", "WEBEX_CALLING", "CALLING", "CONTACT_CENTER", "COMPLIANCE",
                                "DATA_RETENTION", "ORG", "SECURITY", "DIRSYNC", "SSO"))
_LOGIN_CATEGORIES = ("LOGINS", "LOGIN", "LOGOUT")
_LOGOUT_WORDS = ("logout", "log out", "logged out", "sign out", "signed out")
# Operations that run something rather than change it (reports, exports, reboots).
_ACTION_WORDS = ("report", "export", "download", "reboot", "restart", "invoke", "upload", "sync was")
_FAILURE_STATUS = frozenset(("FAILURE", "FAILED", "FAIL", "ERROR", "DENIED"))
_ADMIN_CLIENTS = ("admin portal", "control hub")


def _outcome(body: Audit) -> str | None:
    if body.status == "SUCCESS":
        return "success"
    if body.status in _FAILURE_STATUS or body.error:
        return "failure"
    if body.status in ("N/A", "NA", "UNKNOWN"):
        return "unknown"
    return None


def _is_admin(body: Audit, description: str) -> bool:
    """An administrator's sign-in: the description says so, an admin role is listed, or the client is
    the admin portal. Other sign-ins are users signing in to Webex apps (security audit)."""
    if "admin" in description:
        return True
    if any(r != "User" for r in body.role_names):
        return True
    return any(name in body.client for name in _ADMIN_CLIENTS)


def _change(body: Audit) -> str:
    """creation, deletion or change, from the words of the description and the operation types."""
    words = " ".join(filter(None, (body.description, body.operation_type, body.config_operation_type))).lower()
    if any(w in words for w in ("creat", "added", "add ", "assign")) and "unassign" not in words:
        return "creation"
    if any(w in words for w in ("delet", "remov", "unassign")):
        return "deletion"
    return "change"


def classify_audit(body: Audit) -> Kind:
    """An audit item: its category (and description words) -> the action, its status -> the outcome."""
    category = body.category
    description = (body.description or "").lower()
    outcome = _outcome(body)
    logout = category == "LOGOUT" or any(w in description for w in _LOGOUT_WORDS)
    if category in _LOGIN_CATEGORIES or (category == "" and ("logged in" in description or logout)):
        admin = _is_admin(body, description)
        if logout:
            return (ADMIN_LOGOUT if admin else USER_LOGOUT)[outcome]
        return (ADMIN_LOGIN if admin else USER_LOGIN)[outcome]
    if any(w in description for w in _ACTION_WORDS):
        return ADMIN_ACTION[outcome]
    if category in _ACCOUNT_CATEGORIES:
        return ACCOUNT_CHANGE[_change(body)][outcome]
    if category in _CONFIG_CATEGORIES:
        return CONFIG_CHANGE[_change(body)][outcome]
    return ADMIN_ACTION[outcome]
