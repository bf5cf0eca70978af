"""SIP message or diagnostic record -> event.action and ECS categorisation (table in README.md)."""

from __future__ import annotations

from typing import NamedTuple


class Kind(NamedTuple):
    action: str
    category: tuple[str, ...]
    type: tuple[str, ...]
    outcome: str | None = None
    kind: str = "event"


_NET = ("network",)
_CALL = ("network", "session")
_AUTH_NET = ("authentication", "network")
DIAGNOSTIC = Kind("diagnostic", (), ("info",))


def sip_kind(method: str | None, status: int | None, *, challenged: bool, authorized: bool,
             diagnosed: bool, unregister: bool) -> Kind:
    """A traced SIP request (`status` None) or response (`method` from CSeq).

    `challenged`: WWW-/Proxy-Authenticate present; `authorized`: Authorization/Proxy-Authorization
    present; `diagnosed`: an ms-diagnostics header explains a failure; `unregister`: Expires 0.
    """
    register = method == "REGISTER"
    reg_action = "sip-unregister" if unregister else "sip-register"
    if status is None:
        if register:
            return Kind(reg_action, _AUTH_NET if authorized else _NET, ("protocol", "start"))
        if method == "INVITE":
            return Kind("call-attempt", _CALL, ("connection", "start"))
        if method in ("BYE", "CANCEL"):
            return Kind("call-end", _CALL, ("connection", "end"))
        return Kind("sip-message", _NET, ("protocol",))
    if status in (401, 407):
        if challenged and not diagnosed:  # NTLM/Kerberos/TLS-DSK always challenge first: not a failure
            return Kind("sip-auth", _AUTH_NET, ("start", "info"))
        return Kind("sip-auth", _AUTH_NET, ("start", "denied"), "failure")
    if register:
        if 200 <= status < 300:
            return Kind(reg_action, _NET, ("protocol", "allowed"), "success")
        if status == 403:
            return Kind(reg_action, _AUTH_NET, ("protocol", "denied"), "failure")
        if status >= 300:
            return Kind(reg_action, _NET, ("protocol", "denied"), "failure")
        return Kind("sip-message", _NET, ("protocol", "info"))
    if method == "INVITE":
        if status < 200:
            return Kind("sip-message", _NET, ("protocol", "info"))
        if status < 300:
            return Kind("call-start", _CALL, ("connection", "start"), "success")
        if status < 400:
            return Kind("call-redirect", _CALL, ("connection", "info"))
        return Kind("call-reject", _CALL, ("connection", "denied"), "failure")
    if status >= 400:
        return Kind("sip-message-reject", _NET, ("protocol", "denied"), "failure")
    if 200 <= status < 300:
        return Kind("sip-message", _NET, ("protocol",), "success")
    return Kind("sip-message", _NET, ("protocol", "info"))


def _hresult_failed(hex_code: str | None) -> bool:
    """HRESULT severity bit: 0x8xxxxxxx / 0xCxxxxxxx are failures."""
    if not hex_code:
        return False
    try:
        return bool(int(hex_code, 16) & 0x80000000)
    except ValueError:
        return False


def diag_kind(result_name: str | None, result_hex: str | None, method: str | None) -> Kind:
    """A diagnostic / component record, by its `Result-Code` name (`SIPPROXY_E_...`, `SEC_E_...`)."""
    name = (result_name or "").upper()
    failed = _hresult_failed(result_hex)
    if name.startswith(("SEC_E_", "CRYPT_E_", "CERT_E_")):
        return Kind("tls-handshake", _NET, ("connection", "error"), "failure")
    if "CERT" in name:
        # e.g. SIPPROXY_E_ROUTING_MSG_CERT_MISMATCH: the peer's certificate does not name it
        return Kind("certificate", _NET, ("connection", "denied"), "failure")
    if name.startswith("SIPPROXY_E_") and "ROUTING" in name:
        # the proxy refused to route the message (untrusted Route headers, federation domain checks)
        if method == "INVITE":
            return Kind("call-reject", _CALL, ("connection", "denied"), "failure")
        return Kind("sip-message-reject", _NET, ("protocol", "denied"), "failure")
    if failed:
        return Kind("diagnostic", (), ("error",), "failure")
    return DIAGNOSTIC
