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
    kept as its decimal text)."""
    return jsonvalues.scalar(obj, key, big_ints_as_text=True)
