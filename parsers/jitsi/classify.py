"""Jitsi Meet messages to a `Kind` (tables in README.md).

Category, type and the default outcome come from the shared CATEGORISATION table; the outcome a line
says refines the type (a refused join or login is `denied`, a failed certificate an `error`). Pure.
"""

from __future__ import annotations

from ucsiem.parsing import Kind, kind

from .body import (
    AUTH_FAILED,
    AUTHENTICATED,
    BOSH_SESSION,
    CERTIFICATE_ERROR,
    CLIENT_CONNECTED,
    CLIENT_DISCONNECTED,
    COMPONENT_AUTHENTICATED,
    CONFERENCE_DISPOSED,
    CONFERENCE_REQUEST,
    FOCUS_AUTHENTICATED,
    FOCUS_JOINED,
    MEMBER_JOINED,
    MEMBER_JOINED_TEXT,
    MEMBER_KICKED,
    MEMBER_LEFT,
    SASL_ERROR,
    SHUTTING_DOWN,
    STARTED,
    STREAM_ENCRYPTED,
    TOKEN_DENIED,
    TOKEN_ERROR,
    Body,
)

CONNECT = kind("connection", "success", add_type=("start",))
DISCONNECT = kind("connection", "success", add_type=("end",))
LOGIN_OK = kind("user-login", "success", add_type=("allowed",))
LOGIN_FAIL = kind("user-login", "failure", add_type=("denied",))
JOIN = kind("conference-join", "success")
JOIN_REQUEST = kind("conference-join")
JOIN_DENIED = kind("conference-join", "failure", add_type=("denied",))
LEAVE = kind("conference-leave", "success")
CONFERENCE_START = kind("conference-start", "success")
CONFERENCE_END = kind("conference-end", "success")
TLS_OK = kind("tls-handshake", "success")
SYSTEM_START = kind("system-start")
SYSTEM_STOP = kind("system-stop")
CERTIFICATE_FAILED = kind("certificate", "failure", add_type=("error",))
DIAGNOSTIC = kind("diagnostic")
DIAGNOSTIC_ERROR = kind("diagnostic", "failure", type=("error",))

MESSAGES: dict[str, Kind] = {
    # Jicofo / JVB
    MEMBER_JOINED: JOIN,
    MEMBER_LEFT: LEAVE,
    MEMBER_KICKED: LEAVE,
    MEMBER_JOINED_TEXT: JOIN,
    FOCUS_JOINED: CONFERENCE_START,
    CONFERENCE_DISPOSED: CONFERENCE_END,
    FOCUS_AUTHENTICATED: LOGIN_OK,
    CONFERENCE_REQUEST: JOIN_REQUEST,
    SASL_ERROR: LOGIN_FAIL,
    # Prosody
    CLIENT_CONNECTED: CONNECT,
    CLIENT_DISCONNECTED: DISCONNECT,
    AUTHENTICATED: LOGIN_OK,
    AUTH_FAILED: LOGIN_FAIL,
    TOKEN_ERROR: LOGIN_FAIL,
    TOKEN_DENIED: JOIN_DENIED,
    COMPONENT_AUTHENTICATED: LOGIN_OK,
    STREAM_ENCRYPTED: TLS_OK,
    BOSH_SESSION: CONNECT,
    STARTED: SYSTEM_START,
    SHUTTING_DOWN: SYSTEM_STOP,
    CERTIFICATE_ERROR: CERTIFICATE_FAILED,
}


def classify(body: Body) -> Kind:
    """A Jicofo/JVB or Prosody message -> its Kind; other text is diagnostic (a failure at error level)."""
    if body.message is None:
        return DIAGNOSTIC_ERROR if body.error else DIAGNOSTIC
    return MESSAGES.get(body.message, DIAGNOSTIC_ERROR if body.error else DIAGNOSTIC)
