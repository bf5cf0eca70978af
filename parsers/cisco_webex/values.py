"""Typed reads of untrusted JSON values: a field of the wrong type is treated as absent, never trusted.

An audit item or webhook delivery is parsed by orjson, so any field can hold any JSON type (a hostile or
corrupted record, a newer API version). Every read here checks the type first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

MAX_TEXT = 4096  # a vendor field is a label, not a payload: longer strings are cut


def text(obj: Mapping[str, Any], key: str) -> str | None:
    """A string field trimmed (None when absent, empty or not a string)."""
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




def scalar(obj: Mapping[str, Any], key: str) -> str | int | float | bool | None:
    """A vendor value kept as Webex typed it (strings trimmed, numbers finite)."""
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




def iso(obj: Mapping[str, Any], key: str) -> datetime | None:
    """An object time (`2019-07-16T17:13:13Z`); None when absent, empty or not a zoned ISO time.

    Object times are secondary (they date the event only when nothing better exists), so a malformed one is
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
        return None  # Webex writes UTC with `Z`; a naive stamp would be a guess
    try:
        return ts.astimezone(UTC)
    except OverflowError:
        return None
