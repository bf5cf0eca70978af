"""FreeSWITCH messages to a `Kind` (tables in README.md).

Category, type and the default outcome come from the shared CATEGORISATION table; where FreeSWITCH's
event says more (a denied request, an authentication on the network) the Kind names it. Pure.
"""

from __future__ import annotations

from ucsiem.parsing import Kind, kind

from .body import (
    ACL_APPROVED,
    ACL_DIGEST_FALLBACK,
    ACL_REJECTED,
    ANSWERED,
    HANGUP,
    NEW_CHANNEL,
    REGISTER,
    SOFIA_AUTH_CHALLENGE,
    SOFIA_AUTH_FAILURE,
    USER_NOT_FOUND,
    Body,
)
from .values import FAILURE_CAUSES, SUCCESS_CAUSES

_AUTH = ("authentication", "network")
SIP_AUTH_FAIL = kind("sip-auth", "failure", add_category=("network",), add_type=("denied",))
SIP_AUTH_OK = kind("sip-auth", "success", add_category=("network",), add_type=("allowed",))
SIP_CHALLENGE = kind("sip-auth", add_category=("network",), add_type=("info",))
REGISTER_FAIL = kind("sip-register", "failure", category=_AUTH, type=("start", "denied"))
REGISTER_OK = kind("sip-register", "success", add_type=("allowed",))
UNREGISTER = kind("sip-unregister", "success", add_type=("end",))
ACL_DENIED = kind("deny-list", "failure", category=("network",))
CALL_ATTEMPT = kind("call-attempt")
CALL_START = kind("call-start")
CALL_END_OK = kind("call-end", "success")
CALL_END_FAILED = kind("call-end", "failure")
CALL_END = kind("call-end")
DIAGNOSTIC = kind("diagnostic")

MESSAGES: dict[str | None, Kind] = {
    SOFIA_AUTH_CHALLENGE: SIP_CHALLENGE,
    USER_NOT_FOUND: SIP_AUTH_FAIL,
    ACL_APPROVED: SIP_AUTH_OK,
    ACL_DIGEST_FALLBACK: SIP_CHALLENGE,
    ACL_REJECTED: ACL_DENIED,
    NEW_CHANNEL: CALL_ATTEMPT,
    ANSWERED: CALL_START,
}


def classify(body: Body) -> Kind:
    """A message -> its Kind; text that is none of the documented messages is diagnostic."""
    message = body.message
    if message == SOFIA_AUTH_FAILURE:
        return REGISTER_FAIL if body.method == "REGISTER" else SIP_AUTH_FAIL
    if message == REGISTER:
        return UNREGISTER if body.expires is not None and body.expires <= 0 else REGISTER_OK
    if message == HANGUP:
        if body.cause in SUCCESS_CAUSES:
            return CALL_END_OK
        return CALL_END_FAILED if body.cause in FAILURE_CAUSES else CALL_END
    return MESSAGES.get(message, DIAGNOSTIC)
