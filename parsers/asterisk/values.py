"""Value tables of Asterisk's security events: services, transports and the reason of each type."""

from __future__ import annotations

# Services whose authentication is a management login rather than a SIP/IAX request.
MANAGEMENT_SERVICES = frozenset(("AMI", "ARI", "HTTP", "AJAM", "CLI"))
SERVICE_PROTOCOL = {"SIP": "sip", "PJSIP": "sip", "IAX2": "iax2", "AMI": "ami", "ARI": "http", "HTTP": "http",
                    "AJAM": "http", "SKINNY": "sccp", "MGCP": "mgcp", "UNISTIM": "unistim"}
TRANSPORTS = {"UDP": "udp", "TCP": "tcp", "TLS": "tcp", "WS": "tcp", "WSS": "tcp", "SCTP": "sctp"}
PLAIN_TRANSPORTS = frozenset(("UDP", "TCP", "SCTP"))  # the others are also kept in uc.vendor.transport

SECURITY_REASONS = {
    "FailedACL": "request violated an ACL",
    "InvalidAccountID": "invalid account ID",
    "SessionLimit": "too many concurrent sessions",
    "MemoryLimit": "memory allocation failure",
    "LoadAverageLimit": "load average limit reached",
    "RequestNotSupported": "request not supported",
    "RequestNotAllowed": "request not allowed",
    "AuthMethodNotAllowed": "authentication method not allowed",
    "RequestBadFormat": "badly formatted request",
    "UnexpectedAddress": "request from an unexpected address",
    "ChallengeResponseFailed": "challenge response failed",
    "InvalidPassword": "invalid password",
    "InvalidTransport": "transport not allowed",
}
# Elements whose value explains the failure better than the generic reason above.
REASON_ELEMENTS = ("RequestType", "AuthMethod", "AttemptedTransport", "ACLName")


def security_reason(name: str, elements: dict[str, str]) -> str | None:
    """`event.reason` of a security event: the type's text, with the first explaining element."""
    detail = next((f"{k}: {elements[k]}" for k in REASON_ELEMENTS if elements.get(k)), None)
    reason = SECURITY_REASONS.get(name)
    if reason and detail:
        return f"{reason} ({detail})"
    return reason or detail
