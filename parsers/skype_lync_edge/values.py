"""The SIP values of a record (start line, CSeq method, peer, Via transport, auth schemes) and the tables.

`ms-diagnostics`, `Direction` and `Data` values (`;`-separated `name = value` pairs) and name-addr headers are
read with the shared `sip_params` and `name_addr` of `ucsiem.parsing`.
"""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import canonical_ip, to_port

TRANSPORTS = {"TLS": "tcp", "TCP": "tcp", "MTLS": "tcp", "UDP": "udp", "SCTP": "sctp"}
EDGE_SIDES = {"internal edge": "internal", "external edge": "external"}
# (source side, destination side) -> ECS network.direction, from the perimeter's point of view
PERIMETER = {("internal", "external"): "outbound", ("external", "internal"): "inbound",
             ("internal", "internal"): "internal", ("external", "external"): "external"}
CALL_METHODS = frozenset(("INVITE", "BYE", "CANCEL"))


def start_line(text: str) -> dict[str, Any]:
    """`INVITE sip:x@example.com SIP/2.0` -> method, request_uri; `SIP/2.0 403 Forbidden` -> status, reason.
    Anything else -> {} (the caller decides whether that is an error)."""
    out: dict[str, Any] = {}
    parts = text.split(None, 2)
    if not parts:
        return out
    if parts[0].upper().startswith("SIP/"):
        if len(parts) >= 2 and len(parts[1]) == 3 and parts[1].isascii() and parts[1].isdecimal():
            out["status_code"] = int(parts[1])
            if len(parts) == 3:
                out["reason_phrase"] = parts[2].strip()
    elif (len(parts) == 3 and parts[2].upper().startswith("SIP/") and parts[0].isascii() and parts[0].isalpha()
          and len(parts[0]) <= 32):
        out["method"] = parts[0].upper()
        out["request_uri"] = parts[1]
    return out


def cseq_method(cseq: str) -> str | None:
    parts = cseq.split()
    if len(parts) == 2 and parts[1].isascii() and parts[1].isalpha() and len(parts[1]) <= 32:
        return parts[1].upper()
    return None


def peer_endpoint(peer: str, tags: list[str]) -> dict[str, Any]:
    """`host:port`, `[v6]:port`, `ip:port` -> {address, port, ip | domain}. A port that is not one is left
    out and adds `bad_port` to `tags`."""
    value = peer.strip()
    host, port_text = value, ""
    if value.startswith("["):
        close = value.find("]")
        if close > 0:
            host, rest = value[1:close], value[close + 1:]
            port_text = rest[1:] if rest.startswith(":") else ""
    elif value.count(":") == 1:
        host, _, port_text = value.partition(":")
    host = host.strip()
    endpoint: dict[str, Any] = {"address": host}
    if port_text and (port := to_port(port_text, tags)) is not None:
        endpoint["port"] = port
    ip = canonical_ip(host) if host else None
    if ip is not None:
        endpoint["ip"] = ip
    elif host:
        endpoint["domain"] = host.lower()
    return endpoint


def via_transport(via: str) -> str | None:
    """`SIP/2.0/TLS 192.0.2.1:5061;branch=...` -> `TLS`."""
    proto = via.split(None, 1)[0] if via.strip() else ""
    if proto.upper().startswith("SIP/"):
        word = proto.rpartition("/")[2].upper()
        if word.isascii() and word.isalpha() and len(word) <= 8:
            return word
    return None


def auth_scheme(value: str) -> str | None:
    """`NTLM qop="auth", realm=...` -> `NTLM`; `TLS-DSK ...`, `Kerberos ...`, `Digest ...`."""
    word = value.strip().split(None, 1)[0] if value.strip() else ""
    if word and len(word) <= 32 and all(c.isalnum() or c == "-" for c in word):
        return word
    return None
