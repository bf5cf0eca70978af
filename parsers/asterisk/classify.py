"""Asterisk's messages and security event types to a `Kind` (tables in README.md).

Category, type and the default outcome come from the shared CATEGORISATION table; where Asterisk's
event says more (a denied request, an authentication on the network) the Kind names it. Pure.
"""

from __future__ import annotations

from ucsiem.parsing import Kind, kind

from .body import (
    AMI_ACL,
    AMI_LOGGED_OFF,
    AMI_LOGGED_ON,
    AMI_LOGIN_FAILED,
    ANSWERED,
    CALL_REJECTED,
    CALLED,
    CHAN_SIP_REGISTRATION,
    FAKE_AUTH,
    FREEPBX_REJECT,
    HACKING_ATTEMPT,
    IAX2_AUTH_FAILED,
    IAX2_NO_REGISTRATION,
    PJSIP_AOR_NOT_FOUND,
    PJSIP_REQUEST,
    SPAWN_EXITED,
    Body,
)
from .security import SecurityEvent
from .values import MANAGEMENT_SERVICES

_AUTH = ("authentication", "network")

SIP_AUTH_FAIL = kind("sip-auth", "failure", add_category=("network",), add_type=("denied",))
SIP_AUTH_OK = kind("sip-auth", "success", add_category=("network",), add_type=("allowed",))
SIP_AUTH_CHALLENGE = kind("sip-auth", add_category=("network",), add_type=("info",))
REGISTER_AUTH_FAIL = kind("sip-register", "failure", category=_AUTH, type=("start", "denied"))
REGISTER_REFUSED = kind("sip-register", "failure", add_type=("denied",))
MESSAGE_REJECT = kind("sip-message-reject", "failure")
ACL_DENIED = kind("deny-list", "failure", category=("network",))
FLOOD_BLOCK = kind("flood-block", "failure")
LIMIT = kind("license-limit", "failure", type=("denied",))
ADMIN_LOGIN_FAIL = kind("admin-login", "failure")
ADMIN_LOGIN_OK = kind("admin-login", "success", add_category=("session",))
ADMIN_CHALLENGE = kind("admin-login", add_type=("info",))
ADMIN_LOGOUT = kind("admin-logout", "success", add_category=("session",))
ADMIN_DENIED = kind("admin-action", "failure", category=("api",), type=("access", "denied"))
CALL_REJECT = kind("call-reject")
CALL_ATTEMPT = kind("call-attempt")
CALL_START = kind("call-start")
CALL_END = kind("call-end")
ALERT = kind("security-alert", event_kind="alert")
SECURITY_NOTE = kind("security-alert")
SECURITY_ERROR = kind("security-alert", "failure")
DIAGNOSTIC = kind("diagnostic")

# chan_sip register_verify() reasons (as logged after " - ").
CHAN_SIP_REASONS: dict[str, Kind] = {
    "Wrong password": REGISTER_AUTH_FAIL,
    "Username/auth name mismatch": REGISTER_AUTH_FAIL,
    "No matching peer found": REGISTER_AUTH_FAIL,
    "Device does not match ACL": ACL_DENIED,
    "ACL error (permit/deny)": ACL_DENIED,
    "Peer is not supposed to register": REGISTER_REFUSED,
    "Not a local domain": REGISTER_REFUSED,
}
# res_pjsip pjsip_distributor.c log_failed_request() reasons.
PJSIP_ACL_REASONS = frozenset(("Not match Endpoint ACL", "Not match Endpoint Contact ACL"))
# the messages whose Kind does not depend on their values
MESSAGES: dict[str | None, Kind] = {
    PJSIP_AOR_NOT_FOUND: REGISTER_REFUSED,
    AMI_LOGIN_FAILED: ADMIN_LOGIN_FAIL,
    AMI_ACL: ACL_DENIED,
    AMI_LOGGED_ON: ADMIN_LOGIN_OK,
    AMI_LOGGED_OFF: ADMIN_LOGOUT,
    IAX2_AUTH_FAILED: SIP_AUTH_FAIL,
    IAX2_NO_REGISTRATION: REGISTER_AUTH_FAIL,
    HACKING_ATTEMPT: ALERT,
    CALL_REJECTED: CALL_REJECT,
    FAKE_AUTH: SIP_AUTH_FAIL,
    FREEPBX_REJECT: CALL_REJECT,
    ANSWERED: CALL_START,
    CALLED: CALL_ATTEMPT,
    SPAWN_EXITED: CALL_END,
}

# security event type -> (Kind for SIP/IAX2 and other services, Kind for management services)
_AUTH_FAILED = (SIP_AUTH_FAIL, ADMIN_LOGIN_FAIL)
_REJECTED = (MESSAGE_REJECT, ADMIN_DENIED)  # sip-register when RequestType is a registrar request
SECURITY_TYPES: dict[str, tuple[Kind, Kind]] = {
    "InvalidAccountID": _AUTH_FAILED,
    "InvalidPassword": _AUTH_FAILED,
    "ChallengeResponseFailed": _AUTH_FAILED,
    "AuthMethodNotAllowed": _AUTH_FAILED,
    "SuccessfulAuth": (SIP_AUTH_OK, ADMIN_LOGIN_OK),
    "ChallengeSent": (SIP_AUTH_CHALLENGE, ADMIN_CHALLENGE),
    "FailedACL": (ACL_DENIED, ACL_DENIED),
    "SessionLimit": (FLOOD_BLOCK, FLOOD_BLOCK),
    "LoadAverageLimit": (LIMIT, LIMIT),
    "MemoryLimit": (LIMIT, LIMIT),
    "RequestNotAllowed": _REJECTED,
    "RequestNotSupported": _REJECTED,
    "RequestBadFormat": _REJECTED,
    "InvalidTransport": _REJECTED,
    "UnexpectedAddress": (ALERT, ALERT),
}


def classify(body: Body) -> Kind:
    """A free-text message -> its Kind; text that is none of the documented messages is diagnostic."""
    if body.message == CHAN_SIP_REGISTRATION:
        return CHAN_SIP_REASONS.get(body.detail or "", REGISTER_REFUSED)
    if body.message == PJSIP_REQUEST:
        if body.detail in PJSIP_ACL_REASONS:
            return ACL_DENIED
        return REGISTER_AUTH_FAIL if body.method == "REGISTER" else SIP_AUTH_FAIL
    return MESSAGES.get(body.message, DIAGNOSTIC)


def classify_security(event: SecurityEvent) -> Kind:
    """A `SecurityEvent=` type (and its service) -> its Kind. Table in README.md."""
    pair = SECURITY_TYPES.get(event.name)
    if pair is None:
        return SECURITY_ERROR if event.severity.lower() == "error" else SECURITY_NOTE
    management = event.service.upper() in MANAGEMENT_SERVICES
    if pair == _REJECTED and not management and event.elements.get("RequestType", "").lower().startswith("registrar"):
        return REGISTER_REFUSED
    return pair[1] if management else pair[0]
