"""Typed values of Expressway attributes (addresses, ports, aliases, numbers) and the value tables."""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import canonical_ip

_URI_SCHEMES = frozenset(("sip", "sips", "tel", "h323"))
TRANSPORTS = {"udp": "udp", "tcp": "tcp", "tls": "tcp", "sctp": "sctp"}
SERVICE_PROTOCOL = {
    "sip": "sip", "h.323": "h323", "h323": "h323", "h.225": "h323", "h.245": "h323", "q.931": "h323",
    "ras": "h323", "neighbourgatekeeper": "h323", "ldap": "ldap", "http": "http", "https": "http",
    "dns": "dns", "ssh": "ssh", "xmpp": "xmpp",
}
MANAGEMENT_SERVICES = frozenset(("http", "https", "ssh", "web", "tsh"))


def as_ip(value: str) -> str | None:
    """The address in canonical form when `value` is an IPv4 or IPv6 address (brackets allowed)."""
    return canonical_ip(value) if len(value) <= 64 else None


def small_int(value: str, high: int) -> int | None:
    """A non-negative integer of at most 9 ASCII digits, not above `high`, else None."""
    if 0 < len(value) <= 9 and value.isascii() and value.isdecimal():
        number = int(value)
        if number <= high:
            return number
    return None


def set_ip(endpoint: dict[str, Any], raw: str) -> None:
    """An IP goes to `ip`; anything else (a host name) to `address`."""
    ip = as_ip(raw)
    if ip is not None:
        endpoint["ip"] = ip
    else:
        endpoint["address"] = raw


def alias_user(alias: str) -> tuple[dict[str, str] | None, str | None]:
    """User name/domain of an alias (SIP URI, H.323 id, E.164), and its E.164 number (a `+` user part).

    `sip:alice@example.com;transport=tls` -> ({alice, example.com}, None); `h323:room-101` -> room-101.
    """
    body = alias
    if body.startswith("sip:"):
        body = body[4:]
    else:
        if body[:1] == "<":
            body = body.strip("<>")
        colon = body.find(":")
        if 0 < colon <= 5 and body[:colon].lower() in _URI_SCHEMES:
            body = body[colon + 1:]
    name, at, domain = body.partition("@")
    if at:
        domain = domain.split(";", 1)[0]
        domain = domain[:domain.find("]") + 1] if domain[:1] == "[" else domain.split(":", 1)[0]
    else:
        name = name.split(";", 1)[0]
    if name:
        number = None
        if name[0] == "+":
            digits = name[1:]
            if 6 <= len(digits) <= 15 and digits.isascii() and digits.isdecimal():
                number = name
        return ({"name": name, "domain": domain} if domain else {"name": name}), number
    if domain:
        return {"domain": domain}, None
    return None, None


def socket_address(value: str) -> tuple[str | None, str]:
    """`['IPv4''TCP''172.16.2.2:5062']` (developer.ssl) -> ("172.16.2.2", "5062"): the IP, the port as written."""
    addr = value.strip("[]'").rpartition("'")[2]
    host, _, port = addr.rpartition(":")
    return as_ip(host), port


def detail_pairs(detail: str) -> dict[str, str]:
    """`Receive Request Method=INVITE, CSeq=1, Request-URI=sip:x , Call-ID=y, ...` -> pairs."""
    out: dict[str, str] = {}
    for piece in detail.split(","):
        key, eq, value = piece.partition("=")
        if eq:
            out[key.strip().rpartition(" ")[2]] = value.strip()
    return out
