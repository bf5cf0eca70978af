"""CMS events to a `Kind`: action, category, type and outcome from the shared `CATEGORISATION` table,
refined where the line says more. `body.what` names the vendor event a reader recognised."""

from __future__ import annotations

from ucsiem.parsing import Kind, kind

from .body import Body

DIAGNOSTIC = kind("diagnostic")
_DENIED_START = ("start", "denied")  # an authentication-like failure
CALL_ATTEMPT = kind("call-attempt")
CONFERENCE_JOIN = kind("conference-join")
CONFERENCE_LEAVE = kind("conference-leave")
LOGIN_SUCCESS = kind("user-login", "success")
LOGIN_FAILED = kind("user-login", "failure", type=_DENIED_START)

KINDS: dict[str, Kind] = {
    # Call Bridge: call legs
    "call incoming": CALL_ATTEMPT,
    "call outgoing": CALL_ATTEMPT,
    "call allocated": CALL_ATTEMPT,
    "call ended": kind("call-end", "success"),  # after it was connected
    "call not connected": kind("call-end", "failure"),
    "call refused": kind("call-reject"),  # `... limit reached` before it was answered
    "call tearing down": kind("call-end"),
    # spaces and conferences
    "participant joined": CONFERENCE_JOIN,
    "participant left": CONFERENCE_LEAVE,
    "conference named": kind("conference-start"),
    "conference destroyed": kind("conference-end"),
    # users and guest accounts
    "guest account created": kind("account-change", type=("user", "creation")),
    "guest account destroyed": kind("account-change", type=("user", "deletion")),
    "new session": LOGIN_SUCCESS,
    "user deactivating": kind("user-logout"),
    "login successful": LOGIN_SUCCESS,
    "login unsuccessful": LOGIN_FAILED,
    "auth request": kind("user-login"),
    # licences, SIP connections, lines known by their words
    "no license": kind("license-limit"),
    "sip connection failure": kind("connection", "failure"),
    "sip connection shutting down": kind("connection", type=("connection", "end")),
    "licence words": kind("license-limit"),
    "certificate failure words": kind("certificate", "failure"),
    "tls failure words": kind("tls-handshake", "failure"),
    # web app back end
    "webapp join call": CONFERENCE_JOIN,
    "webapp leave call": CONFERENCE_LEAVE,
    "webapp action": kind("call-update"),
    "sso login failed": LOGIN_FAILED,
    # Web Bridge 3 access lines
    "web sign-in success": LOGIN_SUCCESS,
    "web sign-in failure": LOGIN_FAILED,
    "web join success": kind("conference-join", "success"),
    "web join failure": kind("conference-join", "failure"),
    "web access success": kind("diagnostic", "success", category=("web",), type=("access",)),
    "web access failure": kind("diagnostic", "failure", category=("web",), type=("access",)),
    # LDAP authentication, streamer
    "ldap authentication": kind("user-login"),
    "rtmp authentication failed": kind("service-failure"),
}

# MMP CLI commands: `user <verb> <name>` acts on an account, a command with a changing word changes the
# configuration, any other is an administrative action
MMP_COMMANDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "user add": ("account-change", ("user", "creation")),
    "user del": ("account-change", ("user", "deletion")),
    "user expire": ("account-change", ("user", "change")),
    "user host": ("account-change", ("user", "change")),
    "user duty": ("account-change", ("user", "change")),
    "user evict": ("admin-action", ("info",)),  # logs the account out: an action on it, not a change of it
    "user info": ("admin-action", ("info",)),
    "change": ("config-change", ("change",)),
    "other": ("admin-action", ("info",)),
}
for _command, (_action, _types) in MMP_COMMANDS.items():
    KINDS[f"mmp {_command} granted"] = kind(_action, "success", type=_types)
    KINDS[f"mmp {_command} denied"] = kind(_action, "failure", type=(*_types, "denied"))


def classify(body: Body) -> Kind:
    return DIAGNOSTIC if body.what is None else KINDS.get(body.what, DIAGNOSTIC)
