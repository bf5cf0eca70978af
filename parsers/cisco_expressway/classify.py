"""Expressway `Event` names and `Module` lines -> a `Kind` (action, category, type, outcome).

Names are matched case-insensitively after trimming (the web UI and some releases change case, e.g.
`Alarm raised`). Names not in the table are classified by keywords so a new release's events still
get a sensible action instead of a pipeline error. The table is rendered in README.md; category, type
and the default outcome come from the shared CATEGORISATION table, refined where the Expressway says more.
"""

from __future__ import annotations

from ucsiem.parsing import Kind, kind

from .body import Body
from .values import MANAGEMENT_SERVICES

_SESSION = ("session",)
_HOST = ("host",)

EVENTS: dict[str, Kind] = {
    # Registration
    "registration requested": kind("sip-register"),
    "registration accepted": kind("sip-register", "success", add_type=("allowed",)),
    "registration rejected": kind("sip-register", "failure", add_type=("denied",)),
    "registration refresh requested": kind("sip-register"),
    "registration refresh accepted": kind("sip-register", "success", add_type=("allowed",)),
    "registration refresh rejected": kind("sip-unregister", "failure", add_type=("denied",)),
    "registration removed": kind("sip-unregister", "success", add_type=("end",)),
    "unregistration requested": kind("sip-unregister"),
    "unregistration accepted": kind("sip-unregister", "success", add_type=("end",)),
    "unregistration rejected": kind("sip-unregister", "failure", add_type=("denied",)),
    "message rejected": kind("sip-message-reject", "failure"),
    "authentication failed": kind("sip-auth", "failure"),
    # Calls and searches
    "call attempted": kind("call-attempt"),
    "call answer attempted": kind("call-attempt"),
    "call connected": kind("call-start", "success"),
    "call disconnected": kind("call-end", "success"),
    "operator call disconnect": kind("call-end", "success"),
    "call inactivity timer": kind("call-end"),
    "call rejected": kind("call-reject", "failure"),
    "call diverted": kind("call-redirect"),
    "call rerouted": kind("call-redirect"),
    "call bandwidth changed": kind("call-update"),
    "search attempted": kind("route-lookup"),
    "search completed": kind("route-lookup"),
    "search cancelled": kind("route-lookup"),
    "search loop detected": kind("route-lookup", "failure"),
    "license limit reached": kind("license-limit", "failure"),
    # Level 2-3 protocol message summaries
    "request received": kind("sip-message"),
    "request sent": kind("sip-message"),
    "response received": kind("sip-message"),
    "response sent": kind("sip-message"),
    # Administration
    "admin session start": kind("admin-login", "success", add_category=_SESSION),
    "admin session finish": kind("admin-logout", "success", add_category=_SESSION),
    "admin session login failure": kind("admin-login", "failure"),
    "admin session cba authorization failure": kind("admin-login", "failure"),
    "cba authorization failure": kind("admin-login", "failure"),
    "authorization failure": kind("admin-login", "failure"),
    "admin login failure": kind("admin-login", "failure"),
    # a failed POST to the web UI is web access, not configuration
    "post request failed": kind("admin-action", "failure", category=("web",), type=("access",)),
    "system configuration changed": kind("config-change", "success"),
    "policy change": kind("config-change", "success"),
    "certificate management": kind("config-change", "success"),
    "secure mode enabled": kind("config-change", "success"),
    "secure mode disabled": kind("config-change", "success"),
    "eventlog cleared": kind("admin-action", "success", type=("deletion",)),
    "configlog cleared": kind("admin-action", "success", type=("deletion",)),
    # software and power actions are about the package and the host, not the configuration
    "upgrade": kind("admin-action", category=("package",), type=("installation",)),
    "package install": kind("admin-action", category=("package",), type=("installation",)),
    "reboot requested": kind("admin-action", category=_HOST),
    "restart requested": kind("admin-action", category=_HOST),
    "shutdown requested": kind("admin-action", category=_HOST),
    "diagnostic logging": kind("admin-action", category=_HOST),
    # System and security
    "system start": kind("system-start", "success"),
    "system shutdown": kind("system-stop", "success"),
    "alarm raised": kind("alarm-raise"),
    "alarm lowered": kind("alarm-clear"),
    "alarm acknowledged": kind("alarm-clear"),
    "security alert": kind("security-alert", event_kind="alert"),
    "external server communications failure": kind("service-failure", "failure"),
    "tls negotiation error": kind("tls-handshake", "failure"),
    "inbound tls negotiation error": kind("tls-handshake", "failure"),
    "outbound tls negotiation error": kind("tls-handshake", "failure"),
}

_OUTCOMES = (None, "failure", "success")
# names the table does not know, by keyword, each by outcome (from the name's words)
_ALARM_RAISE = kind("alarm-raise")
_ALARM_CLEAR = kind("alarm-clear")
_UNREGISTER = {o: kind("sip-unregister", o) for o in _OUTCOMES}
_REGISTER = {o: kind("sip-register", o) for o in _OUTCOMES}
_ADMIN_LOGIN = {o: kind("admin-login", o) for o in _OUTCOMES}
_TLS = {o: kind("tls-handshake", o) for o in _OUTCOMES}
# an unknown configuration event does not take the table's default outcome (success): its words said none
_CONFIG = {o: kind("config-change", o) for o in _OUTCOMES} | {None: kind("config-change")._replace(outcome=None)}
_ADMIN_ACTION = {o: kind("admin-action", o, category=_HOST) for o in _OUTCOMES}
_SEARCH = {o: kind("route-lookup", o) for o in _OUTCOMES}
_CALL = {o: kind("call-update", o) for o in _OUTCOMES}
_SIP_AUTH = {o: kind("sip-auth", o) for o in _OUTCOMES}
# the Expressway's diagnostic lines carry no category (the table's `info` type goes with it)
_DIAGNOSTIC = {o: kind("diagnostic", o, category=(), type=()) for o in _OUTCOMES}
GENERIC = _DIAGNOSTIC[None]
# module lines without an Event
_SIP_MESSAGE = kind("sip-message")
_NETWORK_DIAGNOSTIC = kind("diagnostic", category=("network",))
_TCP_TYPES: tuple[tuple[str, ...], ...] = (("connection",), ("connection", "end"), ("connection", "start"))
_TCP = {(t, o): kind("connection", o, type=t) for t in _TCP_TYPES for o in (None, "failure")}
_TCP_TLS = {t: kind("tls-handshake", "failure", type=t) for t in _TCP_TYPES}

_FAILURE_WORDS = ("fail", "reject", "error", "denied", "refused")
_SUCCESS_WORDS = ("accepted", "succeeded", "success", "connected", "completed", "granted")
# rejections that add the `authentication` category when their reason is an authentication failure
_AUTH_CAN_FAIL = frozenset(("sip-register", "sip-unregister", "sip-message-reject", "call-reject"))
_WITH_AUTHENTICATION = {
    found: kind(found.action, found.outcome, category=found.category, type=found.type,
                add_category=("authentication",), event_kind=found.kind)
    for found in (*EVENTS.values(), *_UNREGISTER.values(), *_REGISTER.values())
    if found.action in _AUTH_CAN_FAIL and found.outcome == "failure"
}
_SEARCH_FOUND = kind("route-lookup", "success")
_SEARCH_NOT_FOUND = kind("route-lookup", "failure")


def classify(body: Body) -> Kind:
    """The Kind of an event-log line (by `Event`), a module line (by `Module`), or a diagnostic."""
    name = body.name
    if name:
        low = name.lower()
        found = EVENTS.get(low) or _by_keywords(low)
        if found.action == "sip-auth" and body.service.lower() in MANAGEMENT_SERVICES:
            found = _ADMIN_LOGIN[found.outcome]  # a failed login to the web UI or SSH
        elif low == "search completed":
            found = _search_result(body.reason, body.detail)
    elif body.module:
        found = _module_kind(body.module, body.level, f"{body.free} {body.detail}", body.reason)
    else:
        return GENERIC
    if found.outcome == "failure" and found.action in _AUTH_CAN_FAIL \
            and "authentic" in f"{body.reason} {body.detail}".lower():
        return _WITH_AUTHENTICATION[found]
    return found


def _search_result(reason: str, detail: str) -> Kind:
    low = f"{reason} {detail}".lower()
    if "not found" in low or "found:false" in low:
        return _SEARCH_NOT_FOUND
    if "found:true" in low or reason.lower() == "found":
        return _SEARCH_FOUND
    return EVENTS["search completed"]


def _by_keywords(low: str) -> Kind:
    """Kind of an `Event` name the table does not know, from its words."""
    outcome: str | None = None
    if any(w in low for w in _FAILURE_WORDS):
        outcome = "failure"
    elif any(w in low for w in _SUCCESS_WORDS):
        outcome = "success"
    if "alarm" in low:
        clear = any(w in low for w in ("lowered", "acknowledged", "cleared"))
        return _ALARM_CLEAR if clear else _ALARM_RAISE
    if "unregist" in low:
        return _UNREGISTER[outcome]
    if "regist" in low:
        return _REGISTER[outcome]
    if "admin" in low and ("login" in low or "session" in low):
        return _ADMIN_LOGIN[outcome]
    if "tls" in low or ("certificate" in low and outcome == "failure"):
        return _TLS[outcome]
    if "config" in low or "policy" in low:
        return _CONFIG[outcome]
    if any(w in low for w in ("backup", "restore", "upgrade", "install", "reboot", "restart")):
        return _ADMIN_ACTION[outcome]
    if "search" in low:
        return _SEARCH[outcome]
    if "call" in low:
        return _CALL[outcome]
    if "auth" in low:
        return _SIP_AUTH[outcome]
    return _DIAGNOSTIC[outcome]


def _module_kind(module: str, level: str, text: str, reason: str) -> Kind:
    """Kind of a `Module=` network/developer log line that has no `Event`."""
    if module in ("network.sip", "network.h323"):
        return _SIP_MESSAGE
    if module == "network.tcp":
        low = text.lower()
        types: tuple[str, ...] = _TCP_TYPES[0]
        if "closed" in low:
            types = _TCP_TYPES[1]
        elif "established" in low or "opened" in low or "accepted" in low:
            types = _TCP_TYPES[2]
        rlow = reason.lower()
        if "certificate" in rlow or "tls" in rlow or "ssl" in rlow:
            return _TCP_TLS[types]
        return _TCP[types, "failure" if "fail" in low else None]
    if module == "developer.ssl" and "handshake" in text.lower():
        low = text.lower()
        outcome: str | None = None
        if "fail" in low or level == "error":
            outcome = "failure"
        elif "succeeded" in low:
            outcome = "success"
        return _TLS[outcome]
    if module.startswith("network."):
        return _NETWORK_DIAGNOSTIC
    return GENERIC
