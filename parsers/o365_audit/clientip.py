"""`ClientIP` as the unified audit log writes it: an address, maybe with a port, maybe bracketed.

Seen forms (Elastic o365 fixtures, `test-ip-formats-events.json`): `192.0.2.1`, `192.0.2.1:12345`,
`[192.0.2.1]:12345`, `2001:db8::1`, `[2001:db8::1]:12345`, `::ffff:192.0.2.1`, and host names
(`client.example.com`, `localhost:12345`). An address goes to `source.ip` in canonical form, a port to
`source.port`, a host name to `source.domain`; the text as written stays in `source.address`.
"""

from __future__ import annotations

from typing import NamedTuple

from ucsiem.parsing import canonical_ip, to_port

MAX_ADDRESS = 255
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")


def _host(text: str) -> str | None:
    return text if text and set(text) <= _HOST_CHARS and any(c.isalpha() for c in text) else None


class Endpoint(NamedTuple):
    address: str  # as written
    ip: str | None
    port: int | None
    domain: str | None  # a host name, when it is not an address


def client_endpoint(raw: str, tags: list[str]) -> Endpoint:
    """`[2001:db8::1]:443` -> Endpoint("[2001:db8::1]:443", "2001:db8::1", 443, None). A port that is not
    0-65535 (`192.0.2.1:99999`) is left out and tags the event `bad_port`; the address is kept."""
    raw = raw.strip()[:MAX_ADDRESS]
    host, port = raw, None
    if raw.startswith("["):
        close = raw.find("]")
        if close > 0:
            host, rest = raw[1:close], raw[close + 1:]
            port = to_port(rest[1:], tags) if rest.startswith(":") else None
    elif raw.count(":") == 1:  # IPv4 or a host name with a port (IPv6 has at least two colons)
        head, _, tail = raw.partition(":")
        host, port = head, to_port(tail, tags)
    address = canonical_ip(host)
    return Endpoint(raw, address, port, _host(host) if address is None else None)
