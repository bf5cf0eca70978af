"""W3C extended log fields: the `#Fields:` header, one data row read by it, and the ECS mapping.

IIS writes `-` for an empty value and `+` for a space inside a value (user agents); every value is a
single space-separated token. Field names are matched case-insensitively (`cs(User-Agent)`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from ucsiem.parsing import ParsedEvent, ParseError, canonical_ip

FIELDS_DIRECTIVE = "#Fields:"
MAX_FIELDS = 64
# vendor fields kept under uc.vendor as the header names them (no ECS/uc home in the schema)
_VENDOR_INTS = ("sc-substatus", "sc-win32-status", "time-taken")
_VENDOR_TEXT = ("s-sitename",)
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


def _http(row: dict[str, str], vendor: dict[str, Any]) -> dict[str, Any]:
    """ECS `http.*`: method, status, referrer, byte counts; `cs-version` `HTTP/1.1` -> `1.1`."""
    request: dict[str, Any] = {}
    response: dict[str, Any] = {}
    if "cs-method" in row:
        request["method"] = row["cs-method"]
    if "cs(referer)" in row:
        request["referrer"] = row["cs(referer)"]  # a URL: `+` is kept (it is a space only in a query)
    request["bytes"] = _int(row, "cs-bytes")
    response["status_code"] = _int(row, "sc-status", 999)
    response["bytes"] = _int(row, "sc-bytes")
    http: dict[str, Any] = {"request": request, "response": response}
    version = row.get("cs-version")
    if version is not None:
        proto, sep, number = version.partition("/")
        if sep and proto.upper() == "HTTP" and number:
            http["version"] = number
        else:  # not `HTTP/<n>`: kept as logged rather than guessed
            vendor["cs-version"] = version
    return http


def map_row(row: dict[str, str], event: ParsedEvent, vendor: dict[str, Any], tags: list[str]) -> None:
    """ECS fields of one row; IIS details the schema has no field for (sub-status, Win32 status, site) go to
    `uc.vendor`."""
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
            event.setdefault("network", {})["forwarded_ip"] = real  # the client behind the proxy
        source["ip"] = real or ip
    elif real is not None:
        source["ip"] = real
        event.setdefault("network", {})["forwarded_ip"] = real
    if "s-ip" in row:
        ip = canonical_ip(row["s-ip"])
        if ip is None:
            raise ParseError("bad_field", f"s-ip is not an IP address: {row['s-ip'][:64]!r}")
        destination["ip"] = ip
    port = _int(row, "s-port", 65535)
    if port is not None:
        destination["port"] = port
    if "cs-host" in row:
        destination["domain"] = row["cs-host"]
    event["source"] = source
    event["destination"] = destination
    if "cs-username" in row:
        event["user"] = _user(row["cs-username"])
    url: dict[str, Any] = {}
    stem = row.get("cs-uri-stem")
    query = row.get("cs-uri-query")  # `-` (no query) was already left out by read_row
    if stem is not None:
        url["path"] = stem
        url["original"] = f"{stem}?{query}" if query else stem
    if query is not None:
        url["query"] = query
    if "cs-host" in row:
        url["domain"] = row["cs-host"]
    if port is not None:
        url["port"] = port  # the port the request was addressed to, as ECS url.port
    event["url"] = url
    event["http"] = _http(row, vendor)
    if "cs(user-agent)" in row:
        event["user_agent"] = {"original": row["cs(user-agent)"].replace("+", " ")}
    if "s-computername" in row:
        event.setdefault("observer", {})["hostname"] = row["s-computername"]
    for name in _VENDOR_INTS:
        number = _int(row, name)
        if number is not None:
            vendor[name] = number
    for name in _VENDOR_TEXT:
        if name in row:
            vendor[name] = row[name]
    taken = _int(row, "time-taken")
    if taken is not None:
        event["event"]["duration"] = taken * 1_000_000  # milliseconds -> nanoseconds
