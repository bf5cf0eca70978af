"""Typed reads of untrusted JSON values: a field of the wrong type is treated as absent, never trusted.

Graph documents are parsed by orjson, so any field can hold any JSON type (a hostile or corrupted
record, a future API change). Every read here checks the type; times and ISO 8601 durations are
parsed strictly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ucsiem.errors import ParseError
from ucsiem.parsing.helpers import canonical_ip

MAX_TEXT = 4096  # longer strings are cut: a vendor field is a label, not a payload

# ISO 8601 duration as Graph writes it (`PT0.016S`, `PT1M2.5S`, `P1DT2H`); weeks and years are not used.
_DURATION = re.compile(
    r"P(?:(\d{1,9})D)?(?:T(?:(\d{1,9})H)?(?:(\d{1,9})M)?(?:(\d{1,12})(?:\.(\d{1,12}))?S)?)?")
# Graph writes "no value" dates as the .NET minimum.
_PLACEHOLDER_YEAR = 1


def text(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:MAX_TEXT] or None


def sub(obj: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def objects(obj: Mapping[str, Any], key: str, limit: int) -> list[dict[str, Any]]:
    """The objects of a list field (other items skipped), at most `limit`."""
    value = obj.get(key)
    if not isinstance(value, list):
        return []
    return [item for item in value[:limit] if isinstance(item, dict)]


def strings(obj: Mapping[str, Any], key: str, limit: int = 32) -> list[str]:
    value = obj.get(key)
    if not isinstance(value, list):
        return []
    return [item.strip()[:MAX_TEXT] for item in value[:limit] if isinstance(item, str) and item.strip()]


def integer(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def number(obj: Mapping[str, Any], key: str) -> float | None:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def flag(obj: Mapping[str, Any], key: str) -> bool | None:
    value = obj.get(key)
    return value if isinstance(value, bool) else None


def scalar(obj: Mapping[str, Any], key: str) -> str | int | float | bool | None:
    """A vendor value kept as the vendor typed it (strings trimmed, numbers finite)."""
    value = obj.get(key)
    if isinstance(value, str):
        return text(obj, key)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else None
    return number(obj, key)


def port(obj: Mapping[str, Any], key: str) -> int | None:
    value = integer(obj, key)
    return value if value is not None and 0 <= value <= 65535 else None


def ip(obj: Mapping[str, Any], key: str) -> str | None:
    value = text(obj, key)
    return canonical_ip(value) if value is not None and len(value) <= 64 else None


def timestamp(obj: Mapping[str, Any], key: str) -> datetime | None:
    """A DateTimeOffset (always UTC in Graph; a stamp without a zone is read as UTC too). The
    `0001-01-01T00:00:00Z` placeholder is no value; a malformed one is a `bad_timestamp` error."""
    value = text(obj, key)
    if value is None:
        return None
    try:
        ts = datetime.fromisoformat(value[:64])
    except ValueError:
        raise ParseError("bad_timestamp", f"{key} is not an ISO 8601 time: {value[:64]!r}") from None
    if ts.year <= _PLACEHOLDER_YEAR:
        return None
    if ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    try:
        return ts.astimezone(UTC)
    except OverflowError:
        raise ParseError("bad_timestamp", f"{key} is out of range: {value[:64]!r}") from None


def duration_seconds(value: object) -> float | None:
    """`PT0.016S` -> 0.016; None when absent or not an ISO 8601 duration."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    m = _DURATION.fullmatch(value.strip())
    if m is None or not any(m.groups()):
        return None
    days, hours, minutes, secs, frac = m.groups()
    total = int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(secs or 0)
    return total + (int(frac) / 10 ** len(frac) if frac else 0.0)


def duration_ns(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None or end < start:
        return None
    delta = end - start
    return (delta.days * 86400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
