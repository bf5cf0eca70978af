"""One W3C data row read by the columns of its `#Fields:` header into typed values.

IIS writes `-` for an empty value and `+` for a space inside a value (user agents); every value is a
single space-separated token. Field names are matched case-insensitively (`cs(User-Agent)`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from ucsiem.parsing import ParseError, canonical_ip, to_port

from .header import Header
from .values import first_forwarded, service_of

_XFF = ("x-forwarded-for", "cs(x-forwarded-for)")


class Body(NamedTuple):
    time: datetime  # date + time (W3C logs are always UTC)
    client_ip: str | None  # c-ip
    forwarded: str | None  # X-Forwarded-For as logged
    real_ip: str | None  # its first address
    server_ip: str | None  # s-ip
    port: int | None  # s-port
    tags: list[str]  # `bad_port` when s-port is not a port
    host: str | None  # cs-host
    username: str | None  # cs-username
    stem: str | None
    query: str | None
    method: str | None
    referrer: str | None
    request_bytes: int | None
    status: int | None
    response_bytes: int | None
    version: str | None  # cs-version
    user_agent: str | None
    computer: str | None  # s-computername
    substatus: int | None
    win32: int | None
    time_taken: int | None  # milliseconds
    site: str | None  # s-sitename
    service: tuple[str, str, bool] | None  # (path segment, service name, is admin) of a UC web service


def read_row(line: str, columns: tuple[str, ...]) -> dict[str, str]:
    """Values by column name; `-` (empty) is left out."""
    values = line.split()
    if len(values) != len(columns):
        raise ParseError("bad_field", f"{len(values)} values for the {len(columns)} columns of the last "
                         f"#Fields: header (truncated line, or a header change that was not seen)")
    return {name: value for name, value in zip(columns, values, strict=True) if value != "-"}


def _int(row: dict[str, str], name: str, limit: int = 10**12 - 1) -> int | None:
    value = row.get(name)
    if value is None:
        return None
    if not value.isdecimal() or len(value) > 12:
        raise ParseError("bad_field", f"{name} is not a number: {value[:32]!r}")
    number = int(value)
    if number > limit:
        raise ParseError("bad_field", f"{name} out of range: {number}")
    return number


def _timestamp(row: dict[str, str]) -> datetime:
    date, time = row.get("date"), row.get("time")
    if date is None or time is None:
        raise ParseError("bad_timestamp", "the row has no date and time columns")
    try:
        return datetime.fromisoformat(f"{date}T{time}").replace(tzinfo=UTC)
    except ValueError:
        raise ParseError("bad_timestamp", f"not a W3C date and time: {date[:16]!r} {time[:16]!r}") from None


def _ip(row: dict[str, str], name: str) -> str | None:
    value = row.get(name)
    if value is None:
        return None
    ip = canonical_ip(value)
    if ip is None:
        raise ParseError("bad_field", f"{name} is not an IP address: {value[:64]!r}")
    return ip


def read_body(line: str, header: Header) -> Body:
    row = read_row(line, header.columns)
    time = _timestamp(row)
    forwarded = next((row[k] for k in _XFF if k in row), None)
    client_ip = _ip(row, "c-ip")
    server_ip = _ip(row, "s-ip")
    tags: list[str] = []
    port = to_port(row.get("s-port"), tags)  # not a port: left out, the event tagged (the source still counts)
    request_bytes = _int(row, "cs-bytes")
    status = _int(row, "sc-status", 999)
    response_bytes = _int(row, "sc-bytes")
    substatus = _int(row, "sc-substatus")
    win32 = _int(row, "sc-win32-status")
    time_taken = _int(row, "time-taken")
    stem = row.get("cs-uri-stem")
    return Body(time, client_ip, forwarded, first_forwarded(forwarded) if forwarded else None, server_ip, port,
                tags, row.get("cs-host"), row.get("cs-username"), stem, row.get("cs-uri-query"), row.get("cs-method"),
                row.get("cs(referer)"), request_bytes, status, response_bytes, row.get("cs-version"),
                row.get("cs(user-agent)"), row.get("s-computername"), substatus, win32, time_taken,
                row.get("s-sitename"), service_of(stem))
