"""W3C extended log fields: the `#Fields:` header, one data row read by it, and the ECS mapping.

IIS writes `-` for an empty value and `+` for a space inside a value (user agents); every value is a
single space-separated token. Field names are matched case-insensitively (`cs(User-Agent)`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from ucsiem.errors import ParseError
from ucsiem.parsing.contract import ParsedEvent
from ucsiem.parsing.helpers import canonical_ip

FIELDS_DIRECTIVE = "#Fields:"
MAX_FIELDS = 64
# vendor fields kept under uc.vendor as the header names them (no ECS/uc home in the schema)
_VENDOR_FIELDS = ("cs-method", "cs-uri-query", "sc-status", "sc-substatus", "sc-win32-status", "time-taken",
                  "s-sitename", "sc-bytes", "cs-bytes", "cs-version", "cs(referer)")
_XFF = ("x-forwarded-for", "cs(x-forwarded-for)")


@lru_cache(maxsize=32)
def header_columns(header: str) -> tuple[str, ...]:
    """Lower-cased column names of a `#Fields:` line (memoised: every row of a file looks them up)."""
    body = header.lstrip("\ufeff")
    if not body.startswith(FIELDS_DIRECTIVE):
        return ()
    names = tuple(n.lower() for n in body[len(FIELDS_DIRECTIVE):].split())
    return names if 0 < len(names) <= MAX_FIELDS else ()


def read_row(line: str, columns: tuple[str, ...]) -> dict[str, str]:
    """Values by column name; `-` (empty) is left out."""
    values = line.split()
    if len(values) != len(columns):
        raise ParseError("bad_field", f"{len(values)} values for the {len(columns)} columns of the last "
                         f"#Fields: header (truncated line, or a header change that was not seen)")
    return {name: value for name, value in zip(columns, values, strict=True) if value != "-"}


def _int(row: dict[str, str], name: str) -> int | None:
    value = row.get(name)
    if value is None:
        return None
    if not value.isdigit() or len(value) > 12:
        raise ParseError("bad_field", f"{name} is not a number: {value[:32]!r}")
    return int(value)


def timestamp(row: dict[str, str]) -> datetime:
    """`date` + `time` (W3C logs are always UTC)."""
    date, time = row.get("date"), row.get("time")
    if date is None or time is None:
        raise ParseError("bad_timestamp", "the row has no date and time columns")
    try:
        return datetime.fromisoformat(f"{date}T{time}").replace(tzinfo=UTC)
    except ValueError:
        raise ParseError("bad_timestamp", f"not a W3C date and time: {date[:16]!r} {time[:16]!r}") from None


def _user(name: str) -> dict[str, Any]:
    """`DOMAIN\\user` -> name + domain; a UPN or plain name stays whole."""
    domain, sep, user = name.partition("\\")
    if sep and domain and user:
        return {"name": user, "domain": domain}
    return {"name": name}


def _first_forwarded(value: str) -> str | None:
    """First address of an `X-Forwarded-For` list (`a,+b` once IIS has encoded the space)."""
    first = value.replace("+", " ").split(",", 1)[0].strip()
    if first.startswith("[") and "]" in first:  # [2001:db8::1]:443
        first = first[1:first.index("]")]
    elif first.count(":") == 1:  # 192.0.2.1:5000
        first = first.split(":", 1)[0]
    return canonical_ip(first)


def map_row(row: dict[str, str], event: ParsedEvent, vendor: dict[str, Any], tags: list[str]) -> None:
    """ECS fields of one row; HTTP details the schema has no field for go to `uc.vendor`."""
    source: dict[str, Any] = {}
    destination: dict[str, Any] = {}
    client = row.get("c-ip")
    forwarded = next((row[k] for k in _XFF if k in row), None)
    real = _first_forwarded(forwarded) if forwarded else None
    if forwarded:
        vendor["X-Forwarded-For"] = forwarded
    if client is not None:
        ip = canonical_ip(client)
        if ip is None:
            raise ParseError("bad_field", f"c-ip is not an IP address: {client[:64]!r}")
        if real is not None and real != ip:
            vendor["c-ip"] = ip  # the proxy that forwarded the request
            tags.append("source_from_x_forwarded_for")
        source["ip"] = real or ip
    elif real is not None:
        source["ip"] = real
    if "s-ip" in row:
        ip = canonical_ip(row["s-ip"])
        if ip is None:
            raise ParseError("bad_field", f"s-ip is not an IP address: {row['s-ip'][:64]!r}")
        destination["ip"] = ip
    port = _int(row, "s-port")
    if port is not None:
        if port > 65535:
            raise ParseError("bad_field", f"s-port out of range: {port}")
        destination["port"] = port
    if "cs-host" in row:
        destination["domain"] = row["cs-host"]
    event["source"] = source
    event["destination"] = destination
    if "cs-username" in row:
        event["user"] = _user(row["cs-username"])
    url: dict[str, Any] = {}
    stem = row.get("cs-uri-stem")
    if stem is not None:
        url["path"] = stem
        query = row.get("cs-uri-query")
        url["original"] = f"{stem}?{query}" if query else stem
    if "cs-host" in row:
        url["domain"] = row["cs-host"]
    event["url"] = url
    if "cs(user-agent)" in row:
        event["user_agent"] = {"original": row["cs(user-agent)"].replace("+", " ")}
    if "s-computername" in row:
        event.setdefault("observer", {})["hostname"] = row["s-computername"]
    for name in _VENDOR_FIELDS:
        if name in row:
            value: str | int = row[name]
            if name in ("sc-status", "sc-substatus", "sc-win32-status", "time-taken", "sc-bytes", "cs-bytes"):
                value = _int(row, name) or 0
            vendor["cs(Referer)" if name == "cs(referer)" else name] = value
    taken = _int(row, "time-taken")
    if taken is not None:
        event["event"]["duration"] = taken * 1_000_000  # milliseconds -> nanoseconds
