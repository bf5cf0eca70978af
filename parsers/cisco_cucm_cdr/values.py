"""Decoders for CDR/CMR column values: 32-bit integers, epoch times, integer-encoded IPv4 addresses."""

from __future__ import annotations

from datetime import UTC, datetime

from ucsiem.parsing import ParseError, canonical_ip

from .flatfile import SHOWN

_INT32_MIN = -(2**31)
_UINT32_MAX = 2**32 - 1


def integer(value: str, column: str) -> int | None:
    """An INTEGER column: None when empty; CUCM writes unsigned 32-bit values, some as signed."""
    if not value:
        return None
    digits = value[1:] if value[0] == "-" else value
    if not digits.isascii() or not digits.isdecimal():
        raise ParseError("bad_field", f"{column} is not an integer: {value[:SHOWN]!r}")
    n = int(value) if len(digits) <= 10 else _UINT32_MAX + 1
    if not _INT32_MIN <= n <= _UINT32_MAX:
        raise ParseError("bad_field", f"{column} is outside the 32-bit range: {value[:SHOWN]!r}")
    return n


def unsigned(value: str, column: str) -> int | None:
    """An unsigned 32-bit value (causes, ids) that a database export may have written as signed."""
    n = integer(value, column)
    return None if n is None else n & _UINT32_MAX


def epoch(value: str, column: str) -> datetime | None:
    """Epoch seconds UTC (dateTimeOrigination...); 0 or empty means "did not happen"."""
    n = integer(value, column)
    if not n:
        return None
    if n < 0:
        raise ParseError("bad_timestamp", f"{column} is a negative epoch time: {value[:SHOWN]!r}")
    return datetime.fromtimestamp(n, UTC)


def int_ip(value: str, column: str) -> str | None:
    """An IPv4 address stored as a 32-bit integer whose bytes are in reverse order (Cisco: "Intel
    standard"): -1139627840 = 0xBC12A8C0 -> 192.168.18.188. 0 or empty means none."""
    n = integer(value, column)
    if not n:
        return None
    return ".".join(str(b) for b in (n & _UINT32_MAX).to_bytes(4, "little"))


def text_ip(value: str, column: str) -> str | None:
    """A dotted IPv4 or IPv6 text column (origIpv4v6Addr...)."""
    if not value:
        return None
    ip = canonical_ip(value)
    if ip is None:
        raise ParseError("bad_field", f"{column} is not an IP address: {value[:SHOWN]!r}")
    return ip


def e164(number: str) -> str | None:
    """The number when it is an E.164 one (`+` and 6 to 15 digits), else None."""
    digits = number[1:]
    return number if number.startswith("+") and digits.isascii() and digits.isdecimal() and 6 <= len(digits) <= 15 \
        else None
