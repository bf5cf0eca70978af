"""Typed reads of untrusted JSON values: wrong types are absent, bools are not numbers, times are strict or
lenient as documented."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from ucsiem.errors import ParseError
from ucsiem.parsing.jsonvalues import (
    MAX_TEXT,
    duration_ns,
    duration_seconds,
    epoch_ms,
    flag,
    integer,
    number,
    objects,
    scalar,
    strings,
    sub,
    text,
    utc_time,
    zoned_time,
)


def _doc(value: Any) -> dict[str, Any]:
    return {"k": value}


@pytest.mark.parametrize(("value", "expected"), [
    ("  alice  ", "alice"),
    ("", None),
    ("   ", None),
    (12, None),
    (True, None),
    (None, None),
    (["a"], None),
    ({"a": "b"}, None),
])
def test_text_is_a_trimmed_string_or_absent(value: Any, expected: str | None) -> None:
    assert text(_doc(value), "k") == expected


def test_text_is_cut_and_missing_key_is_absent() -> None:
    assert text(_doc("x" * (MAX_TEXT + 10)), "k") == "x" * MAX_TEXT
    assert text({}, "k") is None


def test_strings_keep_non_empty_strings_of_the_first_items() -> None:
    assert strings(_doc([" a ", "", 3, None, "b", "  "]), "k") == ["a", "b"]
    assert strings(_doc(["a", "b", "c"]), "k", limit=2) == ["a", "b"]
    assert strings(_doc("a"), "k") == []
    assert strings(_doc([" " + "y" * (MAX_TEXT + 1)]), "k") == ["y" * MAX_TEXT]


def test_sub_and_objects_skip_other_types() -> None:
    assert sub(_doc({"a": 1}), "k") == {"a": 1}
    assert sub(_doc([{"a": 1}]), "k") == {}
    assert sub({}, "k") == {}
    assert objects(_doc([{"a": 1}, "x", 2, None, {"b": 2}]), "k", 10) == [{"a": 1}, {"b": 2}]
    assert objects(_doc([{"a": 1}, "x", {"b": 2}]), "k", 2) == [{"a": 1}]  # the limit counts items, not objects
    assert objects(_doc({"a": 1}), "k", 10) == []


@pytest.mark.parametrize(("value", "expected"), [
    (7, 7), (-3, -3), (0, 0), (True, None), (False, None), (7.0, None), ("7", None), (None, None),
])
def test_integer_refuses_bools_floats_and_strings(value: Any, expected: int | None) -> None:
    assert integer(_doc(value), "k") == expected


@pytest.mark.parametrize(("value", "expected"), [
    (7, 7.0), (0.25, 0.25), (True, None), (False, None), ("1.5", None), (math.nan, None), (math.inf, None),
    (None, None),
])
def test_number_is_finite_and_not_a_bool(value: Any, expected: float | None) -> None:
    result = number(_doc(value), "k")
    assert result == expected
    assert result is None or isinstance(result, float)


@pytest.mark.parametrize(("value", "expected"), [(True, True), (False, False), (1, None), ("true", None)])
def test_flag_is_only_a_json_bool(value: Any, expected: bool | None) -> None:
    assert flag(_doc(value), "k") is expected


@pytest.mark.parametrize(("value", "expected"), [
    (" x ", "x"), ("", None), (True, True), (False, False), (5, 5), (0.5, 0.5), (math.nan, None),
    (math.inf, None), ([1], None), ({"a": 1}, None), (None, None),
    (2**63 - 1, 2**63 - 1), (-(2**63), -(2**63)), (2**63, None), (-(2**63) - 1, None),
])
def test_scalar_keeps_64_bit_integers(value: Any, expected: object) -> None:
    result = scalar(_doc(value), "k")
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(("value", "expected"), [
    (2**63 - 1, 2**63 - 1), (2**63, str(2**63)), (-(2**63), str(-(2**63))), (-(2**63) + 1, -(2**63) + 1),
    (True, True), (" y ", "y"), (math.inf, None),
])
def test_scalar_big_ints_as_text(value: Any, expected: object) -> None:
    result = scalar(_doc(value), "k", big_ints_as_text=True)
    assert result == expected
    assert type(result) is type(expected)


def test_utc_time_reads_naive_stamps_as_utc() -> None:
    assert utc_time(_doc("2020-02-17T16:59:34"), "k") == datetime(2020, 2, 17, 16, 59, 34, tzinfo=UTC)
    moved = utc_time(_doc("2020-02-17T17:59:34+01:00"), "k")
    assert moved == datetime(2020, 2, 17, 16, 59, 34, tzinfo=UTC)
    assert moved is not None and moved.tzinfo is UTC
    assert utc_time(_doc(""), "k") is None
    assert utc_time(_doc(20200217), "k") is None


def test_utc_time_reads_what_zoned_time_finds_too_long() -> None:
    long = "2019-07-16T17:13:13.123456+00:00:00.000000"
    assert utc_time(_doc(long), "k") == datetime(2019, 7, 16, 17, 13, 13, 123456, tzinfo=UTC)
    assert zoned_time(_doc(long), "k") is None


def test_utc_time_placeholder_year() -> None:
    assert utc_time(_doc("0001-01-01T00:00:00Z"), "k", placeholder_year=1) is None
    assert utc_time(_doc("0001-01-01T00:00:00"), "k") == datetime(1, 1, 1, tzinfo=UTC)
    assert utc_time(_doc("0002-01-01T00:00:00Z"), "k", placeholder_year=1) == datetime(2, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("value", "message"), [
    ("yesterday", "k is not an ISO 8601 time: 'yesterday'"),
    ("2020-02-30T00:00:00Z", "k is not an ISO 8601 time: '2020-02-30T00:00:00Z'"),
    ("0001-01-01T00:00:00+01:00", "k is out of range: '0001-01-01T00:00:00+01:00'"),
    ("9999-12-31T23:59:59-01:00", "k is out of range: '9999-12-31T23:59:59-01:00'"),
])
def test_utc_time_errors(value: str, message: str) -> None:
    with pytest.raises(ParseError) as err:
        utc_time(_doc(value), "k")
    assert err.value.code == "bad_timestamp"
    assert err.value.message == message


@pytest.mark.parametrize("value", [
    "2019-07-16T17:13:13", "not a time", "2019-02-30T00:00:00Z", "0001-01-01T00:00:00+01:00",
    "2019-07-16T17:13:13.123456+00:00:00.000000",  # valid, but longer than 40 characters
    20190716, None, "",
])
def test_zoned_time_drops_what_it_cannot_read(value: Any) -> None:
    assert zoned_time(_doc(value), "k") is None


def test_zoned_time_converts_to_utc() -> None:
    assert zoned_time(_doc("2019-07-16T17:13:13Z"), "k") == datetime(2019, 7, 16, 17, 13, 13, tzinfo=UTC)
    local = zoned_time(_doc(" 2019-07-16T19:13:13+02:00 "), "k")
    assert local == datetime(2019, 7, 16, 17, 13, 13, tzinfo=UTC)
    assert local is not None and local.tzinfo is UTC


def test_epoch_ms() -> None:
    assert epoch_ms(None, "event_ts") is None
    assert epoch_ms(1626230691572, "event_ts") == datetime(2021, 7, 14, 2, 44, 51, 572000, tzinfo=UTC)
    assert epoch_ms(0, "event_ts") == datetime(1970, 1, 1, tzinfo=UTC)
    assert epoch_ms(1.5e12, "event_ts") == datetime.fromtimestamp(1.5e9, UTC)


@pytest.mark.parametrize(("value", "message"), [
    (True, "ts is not epoch milliseconds: 'True'"),
    ("1626230691572", "ts is not epoch milliseconds: '1626230691572'"),
    (math.nan, "ts is not epoch milliseconds: 'nan'"),
    (-1, "ts is out of range: -1"),
    (253_402_300_800_000, "ts is out of range: 253402300800000"),
])
def test_epoch_ms_errors(value: Any, message: str) -> None:
    with pytest.raises(ParseError) as err:
        epoch_ms(value, "ts")
    assert err.value.code == "bad_timestamp"
    assert err.value.message == message


@pytest.mark.parametrize(("value", "expected"), [
    ("PT0.016S", 0.016), ("PT1M2.5S", 62.5), ("P1DT2H", 93600.0), (" PT3S ", 3.0), ("PT0S", 0.0),
    ("P", None), ("PT", None), ("P1W", None), ("P1Y", None), ("1S", None), ("PT1.S", None), ("", None),
    (16, None), (None, None), ("PT" + "1" * 70 + "S", None),
])
def test_duration_seconds(value: Any, expected: float | None) -> None:
    assert duration_seconds(value) == (pytest.approx(expected) if expected is not None else None)


def test_duration_ns_is_exact() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    assert duration_ns(start, start + timedelta(days=2, seconds=3, microseconds=7)) == \
        (2 * 86400 + 3) * 1_000_000_000 + 7000
    assert duration_ns(start, start) == 0
    assert duration_ns(start + timedelta(seconds=1), start) is None
    assert duration_ns(None, start) is None
    assert duration_ns(start, None) is None
    # aware times in different zones compare as instants
    assert duration_ns(start, datetime(2024, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))) == 0

