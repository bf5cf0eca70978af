"""Expressway `Event` names -> ECS categorisation and the shared `event.action` vocabulary.

Names are matched case-insensitively after trimming (the web UI and some releases change case, e.g.
`Alarm raised`). Names not in the table are classified by keywords so a new release's events still
get a sensible action instead of a pipeline error. The table is rendered in README.md.
"""

from __future__ import annotations

from typing import NamedTuple


class Kind(NamedTuple):
    action: str
    category: tuple[str, ...]
    type: tuple[str, ...]
    outcome: str | None = None
    kind: str = "event"


_REG = ("network",)
_CALL = ("network", "session")
_AUTH = ("authentication",)
_ADMIN_SESSION = ("authentication", "session")
_CONF = ("configuration",)

EVENTS: dict[str, Kind] = {
    # Registration
    "registration requested": Kind("sip-register", _REG, ("protocol",)),
    "registration accepted": Kind("sip-register", _REG, ("protocol", "allowed"), "success"),
    "registration rejected": Kind("sip-register", _REG, ("protocol", "denied"), "failure"),
    "registration refresh requested": Kind("sip-register", _REG, ("protocol",)),
    "registration refresh accepted": Kind("sip-register", _REG, ("protocol", "allowed"), "success"),
    "registration refresh rejected": Kind("sip-unregister", _REG, ("protocol", "denied"), "failure"),
    "registration removed": Kind("sip-unregister", _REG, ("protocol", "end"), "success"),
    "unregistration requested": Kind("sip-unregister", _REG, ("protocol",)),
    "unregistration accepted": Kind("sip-unregister", _REG, ("protocol", "end"), "success"),
    "unregistration rejected": Kind("sip-unregister", _REG, ("protocol", "denied"), "failure"),
    "message rejected": Kind("sip-message-reject", _REG, ("protocol", "denied"), "failure"),
    "authentication failed": Kind("sip-auth", _AUTH, ("start",), "failure"),
    # Calls and searches
    "call attempted": Kind("call-attempt", _CALL, ("connection", "start")),
    "call answer attempted": Kind("call-attempt", _CALL, ("connection", "start")),
    "call connected": Kind("call-start", _CALL, ("connection", "start"), "success"),
    "call disconnected": Kind("call-end", _CALL, ("connection", "end"), "success"),
    "operator call disconnect": Kind("call-end", _CALL, ("connection", "end"), "success"),
    "call inactivity timer": Kind("call-end", _CALL, ("connection", "end")),
    "call rejected": Kind("call-reject", _CALL, ("connection", "denied"), "failure"),
    "call diverted": Kind("call-redirect", _CALL, ("connection", "info")),
    "call rerouted": Kind("call-redirect", _CALL, ("connection", "info")),
    "call bandwidth changed": Kind("call-update", _CALL, ("connection", "info")),
    "search attempted": Kind("route-lookup", ("network",), ("info",)),
    "search completed": Kind("route-lookup", ("network",), ("info",)),
    "search cancelled": Kind("route-lookup", ("network",), ("info",)),
    "search loop detected": Kind("route-lookup", ("network",), ("info",), "failure"),
    "license limit reached": Kind("license-limit", ("network",), ("info",), "failure"),
    # Level 2-3 protocol message summaries
    "request received": Kind("sip-message", ("network",), ("protocol",)),
    "request sent": Kind("sip-message", ("network",), ("protocol",)),
    "response received": Kind("sip-message", ("network",), ("protocol",)),
    "response sent": Kind("sip-message", ("network",), ("protocol",)),
    # Administration
    "admin session start": Kind("admin-login", _ADMIN_SESSION, ("start",), "success"),
    "admin session finish": Kind("admin-logout", _ADMIN_SESSION, ("end",), "success"),
    "admin session login failure": Kind("admin-login", _AUTH, ("start",), "failure"),
    "admin session cba authorization failure": Kind("admin-login", _AUTH, ("start",), "failure"),
    "cba authorization failure": Kind("admin-login", _AUTH, ("start",), "failure"),
    "authorization failure": Kind("admin-login", _AUTH, ("start",), "failure"),
    "admin login failure": Kind("admin-login", _AUTH, ("start",), "failure"),
    "post request failed": Kind("admin-action", ("web",), ("access",), "failure"),
    "system configuration changed": Kind("config-change", _CONF, ("change",), "success"),
    "policy change": Kind("config-change", _CONF, ("change",), "success"),
    "certificate management": Kind("config-change", _CONF, ("change",), "success"),
    "secure mode enabled": Kind("config-change", _CONF, ("change",), "success"),
    "secure mode disabled": Kind("config-change", _CONF, ("change",), "success"),
    "eventlog cleared": Kind("admin-action", _CONF, ("deletion",), "success"),
    "configlog cleared": Kind("admin-action", _CONF, ("deletion",), "success"),
    "upgrade": Kind("admin-action", ("package",), ("installation",)),
    "package install": Kind("admin-action", ("package",), ("installation",)),
    "reboot requested": Kind("admin-action", ("host",), ("info",)),
    "restart requested": Kind("admin-action", ("host",), ("info",)),
    "shutdown requested": Kind("admin-action", ("host",), ("info",)),
    "diagnostic logging": Kind("admin-action", ("host",), ("info",)),
    # System and security
    "system start": Kind("system-start", ("host",), ("start",), "success"),
    "system shutdown": Kind("system-stop", ("host",), ("end",), "success"),
    "alarm raised": Kind("alarm-raise", ("host",), ("info",)),
    "alarm lowered": Kind("alarm-clear", ("host",), ("info",)),
    "alarm acknowledged": Kind("alarm-clear", ("host",), ("info",)),
    "security alert": Kind("security-alert", ("intrusion_detection",), ("info",), None, "alert"),
    "external server communications failure": Kind("service-failure", ("network",), ("connection",), "failure"),
    "tls negotiation error": Kind("tls-handshake", ("network",), ("connection",), "failure"),
    "inbound tls negotiation error": Kind("tls-handshake", ("network",), ("connection",), "failure"),
    "outbound tls negotiation error": Kind("tls-handshake", ("network",), ("connection",), "failure"),
}

_FAILURE_WORDS = ("fail", "reject", "error", "denied", "refused")
_SUCCESS_WORDS = ("accepted", "succeeded", "success", "connected", "completed", "granted")


def classify(name: str) -> Kind:
    """Kind of an `Event` name, from the table or, for names it does not know, from keywords."""
    low = name.lower()
    known = EVENTS.get(low)
    if known is not None:
        return known
    outcome: str | None = None
    if any(w in low for w in _FAILURE_WORDS):
        outcome = "failure"
    elif any(w in low for w in _SUCCESS_WORDS):
        outcome = "success"
    if "alarm" in low:
        clear = any(w in low for w in ("lowered", "acknowledged", "cleared"))
        return Kind("alarm-clear" if clear else "alarm-raise", ("host",), ("info",))
    if "unregist" in low:
        return Kind("sip-unregister", _REG, ("protocol",), outcome)
    if "regist" in low:
        return Kind("sip-register", _REG, ("protocol",), outcome)
    if "admin" in low and ("login" in low or "session" in low):
        return Kind("admin-login", _AUTH, ("start",), outcome)
    if "tls" in low or ("certificate" in low and outcome == "failure"):
        return Kind("tls-handshake", ("network",), ("connection",), outcome)
    if "config" in low or "policy" in low:
        return Kind("config-change", _CONF, ("change",), outcome)
    if any(w in low for w in ("backup", "restore", "upgrade", "install", "reboot", "restart")):
        return Kind("admin-action", ("host",), ("info",), outcome)
    if "search" in low:
        return Kind("route-lookup", ("network",), ("info",), outcome)
    if "call" in low:
        return Kind("call-update", _CALL, ("connection", "info"), outcome)
    if "auth" in low:
        return Kind("sip-auth", _AUTH, ("start",), outcome)
    return Kind("diagnostic", (), (), outcome)


def module_kind(module: str, level: str, text: str, reason: str) -> Kind:
    """Kind of a `Module=` network/developer log line that has no `Event`."""
    if module in ("network.sip", "network.h323"):
        return Kind("sip-message", ("network",), ("protocol",))
    if module == "network.tcp":
        low = text.lower()
        types: tuple[str, ...] = ("connection",)
        if "closed" in low:
            types = ("connection", "end")
        elif "established" in low or "opened" in low or "accepted" in low:
            types = ("connection", "start")
        rlow = reason.lower()
        if "certificate" in rlow or "tls" in rlow or "ssl" in rlow:
            return Kind("tls-handshake", ("network",), types, "failure")
        return Kind("connection", ("network",), types, "failure" if "fail" in low else None)
    if module == "developer.ssl" and "handshake" in text.lower():
        low = text.lower()
        outcome: str | None = None
        if "fail" in low or level == "error":
            outcome = "failure"
        elif "succeeded" in low:
            outcome = "success"
        return Kind("tls-handshake", ("network",), ("connection",), outcome)
    if module.startswith("network."):
        return Kind("diagnostic", ("network",), ("info",))
    return Kind("diagnostic", (), ())
