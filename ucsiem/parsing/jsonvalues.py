"""Typed reads of untrusted JSON values: a field of the wrong type is treated as absent, never trusted.

Cloud audit records and webhook bodies are parsed by orjson, so any field can hold any JSON type (a
hostile or corrupted record, a newer API version). Every read here checks the type first; the rules,
the same for every parser that uses them:

* a string is a JSON string, trimmed, cut to `MAX_TEXT` characters; an empty one is absent (None);
  numbers are never turned into strings by `text`;
* a JSON `true`/`false` is a bool and only a bool: Python's `bool` is a subclass of `int`, so every
  integer and number read refuses bools explicitly;
* numbers are finite (`NaN`/`Infinity` are absent) and integers are kept only while they fit 64 bits;
* malformed times are a `bad_timestamp` ParseError where the time dates the event (`utc_time`,
  `epoch_ms`) and absent (None) where it is secondary (`zoned_time`).

Pure functions, linear-time regex, no wall clock.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ucsiem.errors import ParseError

MAX_TEXT = 4096  # a vendor field is a label, not a payload: longer strings are cut

_INT64_MIN, _INT64_END = -(2**63), 2**63
# Epoch milliseconds a vendor may plausibly write (1970 .. 9999): outside it `datetime` cannot represent them.
_MAX_EPOCH_MS = 253_402_300_799_999
# The longest ISO time `zoned_time` reads (`2019-07-16T17:13:13.123456+00:00` is 32).
_MAX_ZONED = 40
# How much of a stamp `utc_time` reads and shows in an error.
_MAX_STAMP = 64
# ISO 8601 duration as Graph writes it (`PT0.016S`, `PT1M2.5S`, `P1DT2H`); weeks, months and years are
# not read (their length in seconds depends on the calendar).
_DURATION = re.compile(
    r"P(?:(\d{1,9})D)?(?:T(?:(\d{1,9})H)?(?:(\d{1,9})M)?(?:(\d{1,12})(?:\.(\d{1,12}))?S)?)?")


def text(obj: Mapping[str, Any], key: str) -> str | None:
    """A string field trimmed and cut to `MAX_TEXT` (None when absent, empty or not a string)."""
    value = obj.get(key)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:MAX_TEXT] or None


def strings(obj: Mapping[str, Any], key: str, limit: int = 32) -> list[str]:
    """The non-empty strings of a list field, trimmed and cut like `text` (other items skipped), from
    the first `limit` items."""
    value = obj.get(key)
    if not isinstance(value, list):
        return []
    return [item.strip()[:MAX_TEXT] for item in value[:limit] if isinstance(item, str) and item.strip()]


def sub(obj: Mapping[str, Any], key: str) -> dict[str, Any]:
    """An object field ({} when absent or not an object), so reads can chain without checks."""
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def objects(obj: Mapping[str, Any], key: str, limit: int) -> list[dict[str, Any]]:
    """The objects of a list field (other items skipped), from the first `limit` items."""
    value = obj.get(key)
    if not isinstance(value, list):
        return []
    return [item for item in value[:limit] if isinstance(item, dict)]


def integer(obj: Mapping[str, Any], key: str) -> int | None:
    """A JSON integer (None for a bool, a float, a numeric string or anything else)."""
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def number(obj: Mapping[str, Any], key: str) -> float | None:
    """A finite JSON number as a float (None for a bool, a string, NaN or an infinity)."""
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def flag(obj: Mapping[str, Any], key: str) -> bool | None:
    """A JSON `true`/`false` (None for anything else: `1`, `"true"` are not read as bools)."""
    value = obj.get(key)
    return value if isinstance(value, bool) else None


def scalar(obj: Mapping[str, Any], key: str, *, big_ints_as_text: bool = False) -> str | int | float | bool | None:
    """A vendor value kept as the vendor typed it: a string as `text` reads it, a bool, a finite number.

    An integer is kept when it fits a signed 64-bit field (`-2**63 <= n < 2**63`), otherwise dropped.
    With `big_ints_as_text` an integer is kept only while `abs(n) < 2**63` (so `-2**63` too is
    outside) and one outside is kept as its decimal text instead of dropped.
    """
    value = obj.get(key)
    if isinstance(value, str):
        return text(obj, key)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if big_ints_as_text:
            return value if abs(value) < _INT64_END else str(value)
        return value if _INT64_MIN <= value < _INT64_END else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return None


def utc_time(obj: Mapping[str, Any], key: str, *, placeholder_year: int | None = None) -> datetime | None:
    """An ISO 8601 time that dates the event, in UTC; None when absent or empty.

    A stamp without an offset is UTC (for APIs whose schema says so), whatever the configured time
    zone. A time whose year is at most `placeholder_year` is a "no value" placeholder (the .NET
    minimum `0001-01-01T00:00:00Z`) and reads as None. Only the first 64 characters are read; a
    malformed stamp, or one that leaves the representable range once moved to UTC, is a
    `bad_timestamp` ParseError naming `key`.
    """
    value = text(obj, key)
    if value is None:
        return None
    try:
        ts = datetime.fromisoformat(value[:_MAX_STAMP])
    except ValueError:
        raise ParseError("bad_timestamp", f"{key} is not an ISO 8601 time: {value[:_MAX_STAMP]!r}") from None
    if placeholder_year is not None and ts.year <= placeholder_year:
        return None
    if ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    try:
        return ts.astimezone(UTC)
    except OverflowError:
        raise ParseError("bad_timestamp", f"{key} is out of range: {value[:_MAX_STAMP]!r}") from None


def zoned_time(obj: Mapping[str, Any], key: str) -> datetime | None:
    """A secondary time (`2019-07-16T17:13:13Z`) in UTC; None when absent, empty or not a zoned ISO time.

    For times that date the event only when nothing better exists: a malformed one, one longer than
    40 characters, one without an offset (its zone would be a guess) or one out of range once moved
    to UTC is dropped rather than failing the whole record.
    """
    value = text(obj, key)
    if value is None or len(value) > _MAX_ZONED:
        return None
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        return None
    if ts.tzinfo is None:
        return None
    try:
        return ts.astimezone(UTC)
    except OverflowError:
        return None


def epoch_ms(value: Any, field: str) -> datetime | None:
    """Epoch milliseconds (a JSON number) -> UTC time; None when absent (`None`).

    A bool, a string, a non-finite number or a time outside 1970 .. 9999 is a `bad_timestamp`
    ParseError naming `field`.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParseError("bad_timestamp", f"{field} is not epoch milliseconds: {str(value)[:64]!r}")
    if not 0 <= value <= _MAX_EPOCH_MS:
        raise ParseError("bad_timestamp", f"{field} is out of range: {value!r}")
    return datetime.fromtimestamp(value / 1000, UTC)


def duration_seconds(value: object) -> float | None:
    """An ISO 8601 duration in days, hours, minutes and seconds (`PT0.016S` -> 0.016, `P1DT2H` -> 93600.0);
    None when absent, longer than 64 characters, empty (`P`, `PT`) or not such a duration."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    m = _DURATION.fullmatch(value.strip())
    if m is None or not any(m.groups()):
        return None
    days, hours, minutes, secs, frac = m.groups()
    total = int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(secs or 0)
    return total + (int(frac) / 10 ** len(frac) if frac else 0.0)


def duration_ns(start: datetime | None, end: datetime | None) -> int | None:
    """Nanoseconds from `start` to `end` (exact, no float rounding); None when either is missing or
    `end` is before `start`."""
    if start is None or end is None or end < start:
        return None
    delta = end - start
    return (delta.days * 86400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
