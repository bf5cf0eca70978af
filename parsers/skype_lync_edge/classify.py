"""SIP message or diagnostic record -> a `Kind` (table in README.md), from the shared categorisation."""

from __future__ import annotations

from ucsiem.parsing import Kind, kind

from .body import Body, DiagnosticBody, ProtocolBody

_AUTH_NET = ("authentication", "network")  # in this order: what the events always carried
_PROTOCOL_START = ("start",)
_ALLOWED = ("allowed",)
_DENIED = ("denied",)
_INFO = ("info",)

# requests
_REGISTER_REQUEST = {(action, authorized): kind(action, category=_AUTH_NET if authorized else None,
                                                add_type=_PROTOCOL_START)
                     for action in ("sip-register", "sip-unregister") for authorized in (False, True)}
_INVITE = kind("call-attempt")
_CALL_END = kind("call-end")
_REQUEST = kind("sip-message")
# responses
_CHALLENGE = kind("sip-auth", add_category=("network",), add_type=_INFO)  # NTLM/Kerberos/TLS-DSK challenge first
_AUTH_FAILED = kind("sip-auth", "failure", add_category=("network",), add_type=_DENIED)
_REGISTERED = {a: kind(a, "success", add_type=_ALLOWED) for a in ("sip-register", "sip-unregister")}
_REGISTER_FORBIDDEN = {a: kind(a, "failure", category=_AUTH_NET, add_type=_DENIED)
                       for a in ("sip-register", "sip-unregister")}
_REGISTER_REFUSED = {a: kind(a, "failure", add_type=_DENIED) for a in ("sip-register", "sip-unregister")}
_PROVISIONAL = kind("sip-message", add_type=_INFO)
_CALL_STARTED = kind("call-start")
_CALL_REDIRECTED = kind("call-redirect")
_CALL_REJECTED = kind("call-reject")
_MESSAGE_REJECTED = kind("sip-message-reject")
_MESSAGE_OK = kind("sip-message", "success")
# diagnostic records
_TLS_FAILED = kind("tls-handshake", "failure", add_type=("error",))
# the peer's certificate does not name it: a refused connection, not a configuration event
_CERTIFICATE_MISMATCH = kind("certificate", "failure", category=("network",), type=("connection", "denied"))
_FAILED = kind("diagnostic", "failure", type=("error",))
DIAGNOSTIC = kind("diagnostic")


def classify(body: Body) -> Kind:
    if isinstance(body, ProtocolBody):
        return classify_protocol(body)
    return classify_diagnostic(body)


def classify_protocol(body: ProtocolBody) -> Kind:
    """A traced SIP request (no status) or response (method from CSeq). An Expires of 0 unregisters; an
    ms-diagnostics header explains a failure (a 401/407 with one is not a mere challenge)."""
    method, status = body.method, body.status
    register = method == "REGISTER"
    reg_action = "sip-unregister" if body.expires == 0 else "sip-register"
    if status is None:
        if register:
            return _REGISTER_REQUEST[reg_action, body.authorized]
        if method == "INVITE":
            return _INVITE
        if method in ("BYE", "CANCEL"):
            return _CALL_END
        return _REQUEST
    if status in (401, 407):
        if body.challenged and not body.diag_code:
            return _CHALLENGE
        return _AUTH_FAILED
    if register:
        if 200 <= status < 300:
            return _REGISTERED[reg_action]
        if status == 403:
            return _REGISTER_FORBIDDEN[reg_action]
        if status >= 300:
            return _REGISTER_REFUSED[reg_action]
        return _PROVISIONAL
    if method == "INVITE":
        if status < 200:
            return _PROVISIONAL
        if status < 300:
            return _CALL_STARTED
        if status < 400:
            return _CALL_REDIRECTED
        return _CALL_REJECTED
    if status >= 400:
        return _MESSAGE_REJECTED
    if 200 <= status < 300:
        return _MESSAGE_OK
    return _PROVISIONAL


def _hresult_failed(hex_code: str | None) -> bool:
    """HRESULT severity bit: 0x8xxxxxxx / 0xCxxxxxxx are failures."""
    if not hex_code:
        return False
    try:
        return bool(int(hex_code, 16) & 0x80000000)
    except ValueError:
        return False


def classify_diagnostic(body: DiagnosticBody) -> Kind:
    """A diagnostic / component record, by its `Result-Code` name (`SIPPROXY_E_...`, `SEC_E_...`)."""
    name = (body.result_name or "").upper()
    if name.startswith(("SEC_E_", "CRYPT_E_", "CERT_E_")):
        return _TLS_FAILED
    if "CERT" in name:
        # e.g. SIPPROXY_E_ROUTING_MSG_CERT_MISMATCH: the peer's certificate does not name it
        return _CERTIFICATE_MISMATCH
    if name.startswith("SIPPROXY_E_") and "ROUTING" in name:
        # the proxy refused to route the message (untrusted Route headers, federation domain checks)
        return _CALL_REJECTED if body.sip.get("method") == "INVITE" else _MESSAGE_REJECTED
    if _hresult_failed(body.result_hex):
        return _FAILED
    return DIAGNOSTIC
