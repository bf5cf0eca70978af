"""Zoom's own reading of untrusted JSON values; the common reads are `ucsiem.parsing.jsonvalues`.

A webhook body is parsed by orjson, so any field can hold any JSON type (a hostile or corrupted body, a
newer Zoom payload). Zoom writes some identifiers and numbers as either JSON type. Object times are read
with `jsonvalues.zoned_time`: they are secondary (the envelope's `event_ts` dates the event), so a
malformed one is dropped rather than failing the whole record, and Zoom writes UTC with `Z`, so a naive
stamp would be a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ucsiem.parsing import jsonvalues


def ident(obj: Mapping[str, Any], key: str) -> str | None:
    """An identifier Zoom writes as a string or a number (`"id": 111111111` or `"id": "111111111"`)."""
    value = obj.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return jsonvalues.text(obj, key)


def number(obj: Mapping[str, Any], key: str) -> float | None:
    """A finite number, also when Zoom wrote it as a numeric string (`"duration": "1235"`)."""
    value = obj.get(key)
    # isascii: "²".isdecimal() is true but float("²") fails
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdecimal() and len(value.strip()) <= 15:
        return float(value.strip())
    return jsonvalues.number(obj, key)


def scalar(obj: Mapping[str, Any], key: str) -> str | int | float | bool | None:
    """A vendor value kept as Zoom typed it (strings trimmed, numbers finite, an integer beyond 64 bits
    kept as its decimal text)."""
    return jsonvalues.scalar(obj, key, big_ints_as_text=True)


_E164_DIGITS = frozenset("0123456789")


def e164(number: str | None) -> str | None:
    """The number when it is E.164 (`+` and 3 to 15 digits), else None."""
    if number and number.startswith("+") and 4 <= len(number) <= 16 and set(number[1:]) <= _E164_DIGITS:
        return number
    return None
