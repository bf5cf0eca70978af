"""Graph-specific reads of untrusted JSON values; the common reads are `ucsiem.parsing.jsonvalues`.

Graph documents are parsed by orjson, so any field can hold any JSON type (a hostile or corrupted
record, a future API change). Times are parsed strictly (`jsonvalues.utc_time`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ucsiem.parsing import BAD_PORT, canonical_ip, jsonvalues, to_port

# Graph writes "no value" dates as the .NET minimum.
_PLACEHOLDER_YEAR = 1


def port(obj: Mapping[str, Any], key: str, tags: list[str]) -> int | None:
    """A port (a JSON integer 0-65535, or its digits as text); any other value present is left out and
    tags the event `bad_port` (parsers/README.md, "Decisions every parser follows")."""
    value = obj.get(key)
    if isinstance(value, str | int):
        return to_port(value, tags)
    if value is not None and BAD_PORT not in tags:
        tags.append(BAD_PORT)
    return None


def ip(obj: Mapping[str, Any], key: str) -> str | None:
    value = jsonvalues.text(obj, key)
    return canonical_ip(value) if value is not None and len(value) <= 64 else None


def timestamp(obj: Mapping[str, Any], key: str) -> datetime | None:
    """A DateTimeOffset (always UTC in Graph; a stamp without a zone is read as UTC too). The
    `0001-01-01T00:00:00Z` placeholder is no value; a malformed one is a `bad_timestamp` error."""
    return jsonvalues.utc_time(obj, key, placeholder_year=_PLACEHOLDER_YEAR)
