"""Shared time stamp rules: year inference, offsets, fractions, impossible dates as parse errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from ucsiem.errors import ParseError
from ucsiem.parsing.stamps import (
    BSD_STAMP,
    ISO_STAMP,
    bsd_time,
    fraction_micro,
    iso_time,
    month_number,
    utc_offset,
    with_year,
)

PARIS = ZoneInfo("Europe/Paris")
READ = datetime(2025, 1, 1, 0, 30, tzinfo=UTC)


def test_december_read_in_january_is_last_year() -> None:
    assert with_year(12, 31, 23, 59, 59, 0, UTC, READ) == datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_slack_allows_a_fast_clock_and_is_configurable() -> None:
    assert with_year(1, 1, 12, 0, 0, 0, UTC, READ).year == 2025  # 11.5 h ahead: within a day
    assert with_year(1, 2, 12, 0, 0, 0, UTC, READ, slack=timedelta(days=2)).year == 2025
    assert with_year(1, 2, 12, 0, 0, 0, UTC, READ).year == 2024


def test_leap_day_takes_the_leap_year() -> None:
    assert with_year(2, 29, 10, 0, 0, 0, UTC, datetime(2025, 3, 1, tzinfo=UTC)).year == 2024


@pytest.mark.parametrize(("month", "day", "hour"), [(2, 30, 10), (4, 31, 10), (13, 1, 10), (3, 5, 25)])
def test_impossible_dates_are_parse_errors(month: int, day: int, hour: int) -> None:
    with pytest.raises(ParseError) as info:
        with_year(month, day, hour, 0, 0, 0, UTC, READ, what="syslog time")
    assert info.value.code == "bad_timestamp" and "syslog time" in info.value.message


def test_offsets_and_fractions() -> None:
    assert utc_offset("Z") is UTC and utc_offset(None) is None
    assert utc_offset("+0530") == timezone(timedelta(hours=5, minutes=30))
    assert utc_offset("-01:00") == timezone(-timedelta(hours=1))
    for bad in ("+2400", "+01:60", "+1", "01:00"):
        with pytest.raises(ParseError):
            utc_offset(bad)
    assert (fraction_micro("5"), fraction_micro("123456789"), fraction_micro(None)) == (500000, 123456, 0)


def test_iso_and_bsd_matches() -> None:
    iso = ISO_STAMP.fullmatch("2024-03-05 10:15:02,25")
    assert iso is not None
    assert iso_time(iso, PARIS) == datetime(2024, 3, 5, 9, 15, 2, 250000, tzinfo=UTC)
    iso = ISO_STAMP.fullmatch("2024-03-05T10:15:02Z")
    assert iso is not None and iso_time(iso, PARIS) == datetime(2024, 3, 5, 10, 15, 2, tzinfo=UTC)
    bsd = BSD_STAMP.fullmatch("apr 29 08:00:01.5")
    assert bsd is not None
    expected = datetime(2024, 4, 29, 8, 0, 1, 500000, tzinfo=PARIS)
    assert bsd_time(bsd, PARIS, datetime(2024, 5, 1, tzinfo=UTC)) == expected
    bsd = BSD_STAMP.fullmatch("Foo  1 00:00:00")
    assert bsd is not None
    with pytest.raises(ParseError):
        bsd_time(bsd, UTC, READ)
    assert month_number("SEP") == 9 and month_number("Sept") is None


def test_references_at_the_ends_of_time_give_parse_errors_or_dates() -> None:
    end = datetime(9999, 12, 31, 23, 30, tzinfo=UTC)
    assert with_year(12, 31, 10, 0, 0, 0, UTC, end) == datetime(9999, 12, 31, 10, tzinfo=UTC)
    with pytest.raises(ParseError):
        with_year(2, 30, 10, 0, 0, 0, UTC, end)
    start = datetime(1, 1, 1, 0, 30, tzinfo=UTC)
    assert with_year(1, 1, 0, 0, 0, 0, UTC, start) == datetime(1, 1, 1, tzinfo=UTC)
    with pytest.raises(ParseError):
        with_year(12, 31, 10, 0, 0, 0, UTC, start)
    west = timezone(-timedelta(hours=5))
    assert with_year(1, 1, 0, 0, 0, 0, west, start).year in (1, 2)
