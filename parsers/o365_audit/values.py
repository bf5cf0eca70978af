"""Typed reads of untrusted JSON values: a field of the wrong type is treated as absent, never trusted.

Audit records are parsed by orjson, so any field can hold any JSON type; the Management Activity API
itself is not consistent (`RecordType` is a number in one export and a string in another).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ucsiem.errors import ParseError

MAX_TEXT = 4096  # longer strings are cut: a vendor field is a label, not a payload


def text(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:MAX_TEXT] or None


def objects(obj: Mapping[str, Any], key: str, limit: int) -> list[dict[str, Any]]:
    """The objects of a list field (other items skipped), at most `limit`."""
    value = obj.get(key)
    if not isinstance(value, list):
        return []
    return [item for item in value[:limit] if isinstance(item, dict)]


def scalar(obj: Mapping[str, Any], key: str) -> str | int | float | bool | None:
    """A vendor value kept as the vendor typed it (strings trimmed, numbers finite and 64-bit)."""
    value = obj.get(key)
    if isinstance(value, str):
        return text(obj, key)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return None


def code(obj: Mapping[str, Any], key: str) -> int | None:
    """An enum number written as a number or as a string of digits (`25`, `"25"`)."""
    value = obj.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -(2**31) <= value < 2**31 else None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) <= 10:
        return int(value.strip())
    return None


def utc_time(obj: Mapping[str, Any], key: str) -> datetime | None:
    """`2020-02-17T16:59:34`: the Management Activity API writes UTC without a zone designator (its
    schema says so), so a stamp without an offset is UTC, whatever the configured time zone."""
    value = text(obj, key)
    if value is None:
        return None
    try:
        ts = datetime.fromisoformat(value[:64])
    except ValueError:
        raise ParseError("bad_timestamp", f"{key} is not an ISO 8601 time: {value[:64]!r}") from None
    if ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    try:
        return ts.astimezone(UTC)
    except OverflowError:
        raise ParseError("bad_timestamp", f"{key} is out of range: {value[:64]!r}") from None


def duration_ns(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None or end < start:
        return None
    delta = end - start
    return (delta.days * 86400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def name_value_pairs(obj: Mapping[str, Any], key: str, name_key: str, value_key: str,
                     limit: int = 32) -> dict[str, str]:
    """`[{"Name": "UserAgent", "Value": "..."}]` -> {"UserAgent": "..."} (first occurrence wins)."""
    out: dict[str, str] = {}
    for item in objects(obj, key, limit):
        name, value = text(item, name_key), scalar(item, value_key)
        if name and value is not None and name[:64] not in out:
            out[name[:64]] = str(value)
    return out
