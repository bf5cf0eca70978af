"""What a line is: its message family or the event its xlog line states, as a `Kind`.

One table for both products and for every family (module messages and xlog key=value lines), so the same
action is always categorised the same way: category, type and default outcome come from the shared
`CATEGORISATION` (`kind()`). Outcome-dependent types: a registration accepted is `allowed`, refused is
`denied`; a removed binding is `end`. An auth module's message adds the category `authentication`, a
database failure `database`; a diagnostic line at an error level has the type `error`.
"""

from __future__ import annotations

from ucsiem.parsing.kinds import Kind, kind

from .body import Body
from .values import VOCABULARY

_OUTCOME_TYPE = {
    ("sip-register", "success"): "allowed", ("sip-register", "failure"): "denied",
    ("sip-unregister", "success"): "end", ("sip-unregister", "failure"): "denied",
    ("sip-message", "failure"): "denied",
}
_OUTCOMES = (None, "success", "failure", "unknown")
_EXTRAS: tuple[tuple[str, ...], ...] = ((), ("authentication",), ("database",), ("authentication", "database"))
_AUTHENTICATION = ("authentication",)
_REGISTRATIONS = frozenset(("sip-register", "sip-unregister"))
_AUTH_CODES = frozenset((401, 403, 407))


def _make(action: str, outcome: str | None, extra: tuple[str, ...], error: bool) -> Kind:
    found = kind(action, outcome, add_category=extra, event_kind="alert" if action == "security-alert" else "event")
    added = _OUTCOME_TYPE.get((action, found.outcome or ""))
    if error:
        return kind(action, outcome, add_category=extra, type=("error",), event_kind=found.kind)
    if added is not None:
        return kind(action, outcome, add_category=extra, add_type=(added,), event_kind=found.kind)
    return found


# (action, outcome as stated, extra categories, diagnostic at an error level) -> Kind, for every action
KINDS: dict[tuple[str, str | None, tuple[str, ...], bool], Kind] = {
    (action, outcome, extra, False): _make(action, outcome, extra, False)
    for action in VOCABULARY for outcome in _OUTCOMES for extra in _EXTRAS
}
KINDS.update({("diagnostic", outcome, extra, True): _make("diagnostic", outcome, extra, True)
              for outcome in _OUTCOMES for extra in _EXTRAS})

# message family (modmsg.py) -> (action, outcome, extra categories)
FAMILIES: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "flood-block": ("flood-block", None, ()),  # pike: BLOCKing ip; default script: pike blocking
    "blocked-ip": ("deny-list", None, ()),  # default script: request from blocked IP
    "malformed": ("sip-message-reject", None, ()),
    "sip-request": ("sip-message", None, ()),  # default script: <METHOD> from <uri> (IP:...)
    "tls-failure": ("tls-handshake", "failure", ()),
    "tls-established": ("tls-handshake", "success", ()),
    "certificate-failure": ("certificate", "failure", ()),  # the TLS domain's own certificate or key
    "auth-success": ("sip-auth", "success", ()),
    "auth-failure": ("sip-auth", "failure", ()),
    "auth-no-credentials": ("sip-auth", None, ()),
    "database-failure": ("service-failure", "failure", ("database",)),
    "register-failure": ("sip-register", "failure", ()),
    "binding-expired": ("sip-unregister", "success", ()),
    "config-failure": ("config-change", "failure", ()),
    "parse-failure": ("sip-message-reject", "failure", ()),
    "version": ("system-start", "success", ()),
    "connection-failure": ("connection", "failure", ()),
}
FLOOD_UNBLOCK = kind("flood-block", type=("end",))  # pike: UNBLOCKing node


def classify(body: Body) -> Kind:
    if body.family == "flood-unblock":
        return FLOOD_UNBLOCK
    if body.family is not None:
        action, outcome, extra = FAMILIES[body.family]
    else:  # an xlog line, or a message of no family: diagnostic
        action, outcome, extra = body.action or "diagnostic", body.outcome, ()
        if action in _REGISTRATIONS and outcome == "failure" and body.sip.get("status_code") in _AUTH_CODES:
            extra = _AUTHENTICATION
    if body.auth_module:
        extra = _AUTHENTICATION + tuple(c for c in extra if c not in _AUTHENTICATION)
    error = action == "diagnostic" and body.is_error
    found = KINDS.get((action, outcome, extra, error))
    return found if found is not None else _make(action, outcome, extra, error)
