"""Building blocks shared by parsers. All are pure and safe on hostile input (linear-time regexes)."""

from __future__ import annotations

import csv
import re
import socket
from datetime import datetime, tzinfo
from typing import Any

from ucsiem.errors import ParseError

# The quoted value of key="value", with backslash escapes; matched only at a known `"` (linear: an
# unterminated quote can fail once, since any later `="` would have closed it).
_QUOTED_VALUE = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"')
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-")

SYSLOG_FACILITIES = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "ntp", "security", "console", "solaris-cron", "local0", "local1", "local2", "local3",
    "local4", "local5", "local6", "local7",
)
SYSLOG_SEVERITIES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
_SEVERITY_ALIASES = {"emergency": "emerg", "critical": "crit", "error": "err", "warn": "warning",
                     "informational": "info", "panic": "emerg"}


def parse_kv_quoted(text: str) -> dict[str, str]:
    """`A="x" B=" y "` -> {"A": "x", "B": "y"}: values trimmed, the first occurrence of a key wins.

    Keys are `[A-Za-z0-9_.:-]+`. A scanner rather than `re.findall(key="value")`: the regex retries
    its key run at every start position, which is quadratic on a long run of key characters.
    """
    out: dict[str, str] = {}
    pos = 0
    while (eq := text.find('="', pos)) >= 0:
        start = eq
        while start > pos and text[start - 1] in _KEY_CHARS:
            start -= 1
        value = _QUOTED_VALUE.match(text, eq + 1) if start < eq else None
        if value is None:
            pos = eq + 1
            continue
        key = text[start:eq]
        if key not in out:
            out[key] = value.group(1).strip()
        pos = value.end()
    return out


def split_csv_line(text: str) -> list[str]:
    """The fields of one CSV line, exactly as `next(csv.reader([text], strict=True))` gives them, raising
    `csv.Error` where it does.

    The common lines (fields quoted whole, no doubled quote, no line break or NUL, few quoted fields) are cut
    with `str.split`, which finds the separators with memchr: the csv module's per-character state machine
    was a tenth of a 1 KB Ribbon CDR line's cost. Anything else goes to the csv module itself."""
    if not text:
        return []
    if len(text) > _CSV_FIELD_LIMIT or "\n" in text or "\r" in text or "\0" in text:
        return _csv_fields(text)
    if '"' not in text:
        return text.split(",")
    parts = text.split('"')
    last = len(parts) - 1
    # an odd number of quotes; or many quoted fields (a CUCM CDR row quotes 47 of its 130), for which the csv
    # module's C loop (~8 ns a character) beats ours (~0.3 µs a quoted field): 5 µs against 14 for such a row
    if last % 2 or last * 16 > len(text):
        return _csv_fields(text)
    fields = parts[0].split(",")
    for i in range(1, last, 2):
        if fields[-1]:  # a quote inside an unquoted field
            return _csv_fields(text)
        fields[-1] = parts[i]
        after = parts[i + 1]
        if after:
            if after[0] != ",":  # text after a closing quote: the csv module says why
                return _csv_fields(text)
            fields += after[1:].split(",")
        elif i + 1 != last:  # two quotes in a row inside a quoted field: an escaped quote
            return _csv_fields(text)
    return fields


_CSV_FIELD_LIMIT = csv.field_size_limit()  # beyond it the csv module refuses a field


def _csv_fields(text: str) -> list[str]:
    rows = list(csv.reader([text], strict=True))
    return rows[0] if rows else []


def parse_iso_time(text: str, default_tz: tzinfo) -> datetime:
    """ISO 8601 with or without offset and fraction; naive stamps get the configured zone."""
    try:
        ts = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ParseError("bad_timestamp", f"not an ISO 8601 time: {text[:64]!r}") from exc
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=default_tz)


def canonical_ip(text: str) -> str | None:
    """Canonical text of an IPv4/IPv6 address (brackets allowed), None when it is not one.

    The same rules as the schema's `ip` fields (C `inet_pton`: strict dotted quad, no zone id), so a
    value a parser accepts here is never rejected by validation later.
    """
    value = text.strip().strip("[]")
    # IPv4 starts with a digit and has no colon, IPv6 has two colons or more (`::` at least): anything else is
    # refused without asking inet_pton, whose refusal is an exception (~1 µs; host names, URIs and
    # `address:port` pass through here).
    if ":" not in value:
        if not "0" <= value[:1] <= "9":
            return None
        try:  # ValueError: an embedded NUL
            socket.inet_pton(socket.AF_INET, value)
            return value
        except (OSError, ValueError):
            return None
    if value.count(":") == 1:
        return None
    try:
        return socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, value))
    except (OSError, ValueError):
        return None


def syslog_severity(name: str) -> tuple[str, int] | None:
    """Normalize a syslog severity word (`warn`, `NOTICE`, `err`) to (name, code)."""
    word = name.strip().lower()
    word = _SEVERITY_ALIASES.get(word, word)
    if word in SYSLOG_SEVERITIES:
        return word, SYSLOG_SEVERITIES.index(word)
    return None


def syslog_facility(name: str) -> tuple[str, int] | None:
    """Normalize a facility word (`local1`, `Local 0`) to (name, code)."""
    word = name.strip().lower().replace(" ", "")
    if word in SYSLOG_FACILITIES:
        return word, SYSLOG_FACILITIES.index(word)
    return None


def split_uri_user(uri: str) -> tuple[str | None, str | None]:
    """`sip:alice@example.com;transport=tls` -> ("alice", "example.com"); `+331@10.0.0.1` works too, and so
    does a name-addr (`"Alice" <sip:alice@example.com>;tag=1`: the URI in the last `<>`, as a display name
    may hold one). URI headers (`?subject=…`) are dropped, and so is a password (`bob:secret@host`)."""
    body = uri.strip()
    if "<" in body:
        body = body.rsplit("<", 1)[1].split(">", 1)[0]
    for scheme in ("sips:", "sip:", "tel:", "h323:"):
        if body.lower().startswith(scheme):
            body = body[len(scheme):]
            break
    body = body.split(";", 1)[0].split("?", 1)[0]
    if "@" in body:
        user, _, host = body.partition("@")
        return (user.split(":", 1)[0] or None), (host.split(":", 1)[0] or None)
    return (body or None), None


def split_upn(upn: str | None) -> tuple[str | None, str | None]:
    """`bob@example.com` -> ("bob", "example.com") (user principal names, e-mail style ids); a name
    without '@' stays whole."""
    if not upn:
        return None, None
    local, at, domain = upn.rpartition("@")
    if not at or not local or not domain:
        return upn, None
    return local, domain


BAD_PORT = "bad_port"  # the tag of an event whose port was there but was not a port (parsers/README.md)
MAX_PORT = 65535


def to_port(value: str | int | None, tags: list[str]) -> int | None:
    """A port number (0-65535, ASCII digits or an int) or None. A value that is there but is not a port adds
    the tag `bad_port` to `tags` (once) instead of rejecting the record: the event keeps its other fields
    and says why the port is missing. The product's own "no port" markers (`-1`, `0`) are the caller's to
    leave out before calling."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        port: int | None = value if 0 <= value <= MAX_PORT else None
    elif isinstance(value, str):
        text = value.strip()
        port = int(text) if 0 < len(text) <= 5 and text.isascii() and text.isdecimal() else None
        port = port if port is not None and port <= MAX_PORT else None
    else:
        port = None
    if port is None and BAD_PORT not in tags:
        tags.append(BAD_PORT)
    return port


def to_int(value: str | None, field: str) -> int | None:
    """Integer field or None when empty; a non-number raises ParseError naming the field."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise ParseError("bad_field", f"{field} is not an integer: {value[:32]!r}") from exc


def prune(obj: dict[str, object]) -> dict[str, object]:
    """Drop None, empty strings and empty containers recursively (keeps events and golden files small).

    Every parser calls it on every event: the common classes are told apart by identity first (no
    `value == {}` building an empty dict per field); anything else gets the general comparison."""
    out: dict[str, object] = {}
    for key, value in obj.items():
        cls = value.__class__
        if cls is str:
            if value:
                out[key] = value
        elif cls is dict:
            value = prune(value)  # type: ignore[arg-type]
            if value:
                out[key] = value
        elif cls in _KEPT_AS_IS:
            out[key] = value
        elif value is None:
            continue
        elif cls is list:
            if value:
                out[key] = value
        else:  # subclasses and other types: the general rule
            if isinstance(value, dict):
                value = prune(value)
            if not (value == "" or value == {} or value == []):
                out[key] = value
    return out


_KEPT_AS_IS = frozenset({int, float, bool, datetime})  # never empty


def present(members: dict[str, Any]) -> dict[str, Any]:
    """The members of one level that hold a value (None, "", [] and {} left out, as `prune` leaves them).

    For parsers that write their event group by group with the values present instead of walking the whole
    event with `prune` afterwards (the walk is a fifth to a third of a syslog parser's time)."""
    # a value that is true is kept at once: only the false ones (0 and False stay) are compared
    return {k: v for k, v in members.items() if v or (v is not None and v != "" and v != [] and v != {})}


def add_group(parent: dict[str, Any], key: str, group: dict[str, Any]) -> None:
    """`parent[key] = group` unless the group is empty."""
    if group:
        parent[key] = group


def structured_data_end(text: str, at: int = 0) -> int:
    """Index just past RFC 5424 structured data starting at `at` (`[id k="v"][...]`), honouring quotes and
    escapes; the end of `text` when it is not closed. Linear."""
    in_quotes = escaped = False
    for i in range(at, len(text)):
        ch = text[i]
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            in_quotes = not in_quotes
        elif ch == "]" and not in_quotes and text[i + 1:i + 2] != "[":
            return i + 1
    return len(text)
