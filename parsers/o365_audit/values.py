"""Audit-schema reads of untrusted JSON values; the common reads are `ucsiem.parsing.jsonvalues`.

Audit records are parsed by orjson, so any field can hold any JSON type; the Management Activity API
itself is not consistent (`RecordType` is a number in one export and a string in another). Times are
read with `jsonvalues.utc_time`: the API writes UTC without a zone designator (its schema says so), so
a stamp without an offset is UTC, whatever the configured time zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ucsiem.parsing import jsonvalues


def code(obj: Mapping[str, Any], key: str) -> int | None:
    """An enum number written as a number or as a string of digits (`25`, `"25"`)."""
    value = obj.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -(2**31) <= value < 2**31 else None
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text.startswith("-") else text
        # isascii: "²".isdecimal() is true but int("²") fails
        if digits.isascii() and digits.isdecimal() and len(text) <= 10:
            return int(text)
    return None


def name_value_pairs(obj: Mapping[str, Any], key: str, name_key: str, value_key: str,
                     limit: int = 32) -> dict[str, str]:
    """`[{"Name": "UserAgent", "Value": "..."}]` -> {"UserAgent": "..."} (first occurrence wins)."""
    out: dict[str, str] = {}
    for item in jsonvalues.objects(obj, key, limit):
        name, value = jsonvalues.text(item, name_key), jsonvalues.scalar(item, value_key)
        if name and value is not None and name[:64] not in out:
            out[name[:64]] = str(value)
    return out
