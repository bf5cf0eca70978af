"""Values the readers share: the action vocabulary, null markers, transports, and endpoint setters.

The setters write what a message says about an endpoint (`source`, `destination`: `ip`, `port`, `address`,
`user`) into the section dicts of the `Body` being read; they never decide what the line means.
"""

from __future__ import annotations

from typing import Any, get_args

from ucsiem.parsing.helpers import canonical_ip, split_uri_user, to_port
from ucsiem.schema.actions import EventAction

VOCABULARY = frozenset(get_args(EventAction)) - {"pipeline-error"}
# Kamailio PROTO_* numbers (core/ip_addr.h) as printed in "(ip:port/proto)"
PROTO_NUMBERS = {"1": "udp", "2": "tcp", "3": "tls", "4": "sctp", "5": "ws", "6": "wss"}
_TRANSPORTS = {"udp": "udp", "tcp": "tcp", "tls": "tcp", "sctp": "sctp", "ws": "tcp", "wss": "tcp"}
NULLS = frozenset(("", "<null>", "<nil>", "null", "-", "none"))


def port(text: str) -> int | None:
    value = text.strip()
    if value.isascii() and value.isdecimal() and len(value) <= 5 and int(value) <= 65535:
        return int(value)
    return None


def set_ip(endpoint: dict[str, Any], text: str) -> None:
    """An address as the product printed it: `ip` when it is one, else `address`."""
    value = text.strip()
    if not value or value.lower() in NULLS:
        return
    ip = canonical_ip(value)
    if ip is not None:
        endpoint["ip"] = ip
    else:
        endpoint["address"] = value[:256]


def set_host_port(endpoint: dict[str, Any], text: str, tags: list[str]) -> bool:
    """`192.0.2.1:5060`, `[2001:db8::1]:5061` or `2001:db8::1:5060` ($si:$sp): ip and port. A port that is
    not one (`192.0.2.1:99999`) is left out and tags the event `bad_port`; the address is kept."""
    value = text.strip()
    tail: str | None
    if value.startswith("["):
        close = value.find("]")
        if close < 0:
            return False
        host, rest = value[1:close], value[close + 1:]
        tail = rest[1:] if rest.startswith(":") else None
    else:
        host, sep, after = value.rpartition(":")
        tail = after if sep else None
        # no port, a colon of an IPv6 address, or no address before a bad port: the whole value is the host
        if (tail is None or port(tail) is None) \
                and (not sep or canonical_ip(value) is not None or canonical_ip(host) is None):
            host, tail = value, None
    ip = canonical_ip(host) if host else None
    if ip is None:
        return False
    endpoint["ip"] = ip
    p = to_port(tail, tags) if tail is not None else None
    if p is not None:
        endpoint["port"] = p
    return True


def set_transport(network: dict[str, Any], vendor: dict[str, Any], name: str) -> None:
    low = name.strip().lower()
    transport = _TRANSPORTS.get(low)
    if transport is None:
        if low and low not in NULLS:
            vendor["transport"] = name.strip()
        return
    network["transport"] = transport
    if transport != low:
        vendor["transport"] = low  # tls, ws, wss ride on tcp


def uri_user(endpoint: dict[str, Any], uri: str) -> None:
    """User and domain of a SIP URI into `<endpoint>.user` (only what is missing)."""
    if not uri or uri.lower() in NULLS:
        return
    name, domain = split_uri_user(uri)
    user = endpoint.setdefault("user", {})
    if name and "name" not in user:
        user["name"] = name
    if domain and "domain" not in user:
        user["domain"] = domain
    if not user:
        del endpoint["user"]
