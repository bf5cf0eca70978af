"""Webex's own reading of untrusted JSON values; the common reads are `ucsiem.parsing.jsonvalues`.

An audit item or webhook delivery is parsed by orjson, so any field can hold any JSON type (a hostile or
corrupted record, a newer API version). Object times are read with `jsonvalues.zoned_time`: they are
secondary (they date the event only when nothing better exists), so a malformed one is dropped rather
than failing the whole record, and Webex writes UTC with `Z`, so a naive stamp would be a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ucsiem.parsing import jsonvalues


def scalar(obj: Mapping[str, Any], key: str) -> str | int | float | bool | None:
    """A vendor value kept as Webex typed it (strings trimmed, numbers finite, an integer beyond 64 bits
    kept as its decimal text). Absent members and strings, most of them, take the short way."""
    value = obj.get(key)
    if value is None:
        return None
    if value.__class__ is str:
        return jsonvalues.text(obj, key)
    return jsonvalues.scalar(obj, key, big_ints_as_text=True)


def put(target: dict[str, Any], key: str, value: Any) -> None:
    """`target[key] = value` unless the value is None or empty: a later absent value never hides an
    earlier one (the envelope's `status` stays when `data` has none)."""
    if value is not None and value != "":
        target[key] = value


_E164_DIGITS = frozenset("0123456789")


def e164(number: str | None) -> str | None:
    """The number when it is E.164 (`+` and 3 to 15 digits), else None."""
    if number and number.startswith("+") and 4 <= len(number) <= 16 and set(number[1:]) <= _E164_DIGITS:
        return number
    return None
