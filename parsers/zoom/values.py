"""Typed reads of untrusted JSON values: a field of the wrong type is treated as absent, never trusted.

A webhook body is parsed by orjson, so any field can hold any JSON type (a hostile or corrupted body, a
newer Zoom payload). Every read here checks the type first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ucsiem.errors import ParseError

MAX_TEXT = 4096  # a vendor field is a label, not a payload: longer strings are cut

# Epoch milliseconds Zoom may plausibly write (1970 .. 9999): outside it `datetime` cannot represent them.
_MAX_EPOCH_MS = 253_402_300_799_999


def text(obj: Mapping[str, Any], key: str) -> str | None:
    """A string field trimmed (None when absent, empty or not a string)."""
    value = obj.get(key)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:MAX_TEXT] or None


def ident(obj: Mapping[str, Any], key: str) -> str | None:
    """An identifier Zoom writes as a string or a number (`"id": 111111111` or `"id": "111111111"`)."""
    value = obj.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return text(obj, key)


def sub(obj: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def objects(obj: Mapping[str, Any], key: str, limit: int) -> list[dict[str, Any]]:
    """The objects of a list field (other items skipped), at most `limit`."""
    value = obj.get(key)
    if not isinstance(value, list):
        return []
    return [item for item in value[:limit] if isinstance(item, dict)]


def number(obj: Mapping[str, Any], key: str) -> float | None:
    """A finite number, also when Zoom wrote it as a numeric string (`"duration": "1235"`)."""
    value = obj.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 15:
        return float(value.strip())
    if not isinstance(value, int | float):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def scalar(obj: Mapping[str, Any], key: str) -> str | int | float | bool | None:
    """A vendor value kept as Zoom typed it (strings trimmed, numbers finite)."""
    value = obj.get(key)
    if isinstance(value, str):
        return text(obj, key)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return None


def epoch_ms(value: Any, field: str) -> datetime | None:
    """`event_ts` / `time_stamp`: epoch milliseconds (None when absent; a bad value is an error)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParseError("bad_timestamp", f"{field} is not epoch milliseconds: {str(value)[:64]!r}")
    if not 0 <= value <= _MAX_EPOCH_MS:
        raise ParseError("bad_timestamp", f"{field} is out of range: {value!r}")
    return datetime.fromtimestamp(value / 1000, UTC)


def iso(obj: Mapping[str, Any], key: str) -> datetime | None:
    """An object time (`2019-07-16T17:13:13Z`); None when absent, empty or not a zoned ISO time.

    Object times are secondary (the envelope's `event_ts` dates the event), so a malformed one is
    dropped rather than failing the whole record.
    """
    value = text(obj, key)
    if value is None or len(value) > 40:
        return None
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        return None
    if ts.tzinfo is None:
        return None  # Zoom writes UTC with `Z`; a naive stamp would be a guess
    try:
        return ts.astimezone(UTC)
    except OverflowError:
        return None
