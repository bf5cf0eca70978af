"""The freeswitch parser on the published FreeSWITCH lines (`shared/samples/freeswitch/`, beside the repository).

The samples are the fail2ban project's fixture lines (file, syslog/journald with a second time stamp,
CPU-idle percentage, year-less `[WARN] [SOFIA]` variant); every record must become a normal event.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.parsers.samplehelp import (
    REFERENCE_TIME,
    Event,
    assert_every_record_is_an_event,
    assert_only_parse_error,
    builtin_parser,
    each_file,
    mutated,
    record_starts,
    sample_events,
    sample_files,
    sample_lines,
)
from ucsiem.parsing.contract import ParseContext

PARSER = builtin_parser("freeswitch")
FILES = sample_files("freeswitch")


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return sample_events(PARSER, FILES)


@each_file(FILES)
def test_every_sample_record_is_an_event(path: Path) -> None:
    assert_every_record_is_an_event(PARSER, path, record_starts(PARSER, path))


def test_every_sample_is_classified(events: list[Event]) -> None:
    assert [e["event.action"] for e in events] == [
        "sip-auth", "sip-auth", "sip-auth", "sip-auth", "sip-auth", "sip-auth"]
    assert [e.get("event.outcome") for e in events] == [None, None, "failure", "failure", "failure", "failure"]
    assert [e["source.ip"] for e in events] == [
        "81.94.202.251", "185.24.234.141", "185.24.234.141", "192.0.2.2", "192.0.2.4", "192.0.2.5"]


def test_invite_target_is_the_dialled_number_not_a_user(events: list[Event]) -> None:
    challenge = events[0]
    assert challenge["uc.sip.method"] == "INVITE"
    assert challenge["uc.call.callee"] == "011448708752617@192.168.2.51"
    assert "user.name" not in challenge
    assert challenge["uc.vendor.profile"] == "internal"


def test_syslog_and_variants(events: list[Event]) -> None:
    journald = events[3]
    assert (journald["observer.hostname"], journald["process.pid"]) == ("www.srv.tld", 122921)
    assert journald["event.created"] == "2016-09-25T18:57:58.150982Z"
    yearless = events[4]
    assert yearless["@timestamp"] == "2023-08-03T08:10:21.026299Z"  # no year: the last 3 Aug before 15 Jun 2024
    assert yearless["uc.vendor.subsystem"] == "SOFIA"
    idle = events[5]
    assert idle["uc.vendor.cpu_idle"] == 82.43
    assert idle["@timestamp"] == "2021-10-29T14:13:24.894719Z"  # FreeSWITCH's own time, the receiver's is created
    assert idle["event.created"] == "2021-10-29T21:05:58.894719Z"


def test_hostile_input_raises_only_parse_error() -> None:
    ctx = ParseContext(reference_time=REFERENCE_TIME)
    seeds = sample_lines("freeswitch")
    alphabet = "[]\"'@=/:.- 0123456789%WARNINGSIPfromip\n"
    inputs = mutated(seeds, alphabet, 20240305)
    mb = 1_000_000
    head = "2024-03-05 10:15:02.000000 [WARNING] sofia_reg.c:1 "
    inputs += [
        head + "SIP auth failure (INVITE) on sofia profile 'x' for [" + "] from ip " * (mb // 10),
        head + "Can't find user [" + "] from " * (mb // 7),
        head + 'IP 192.0.2.1 Rejected by acl "' + "[" * mb,
        "2024-03-05 10:15:02.000000 [DEBUG] sofia_reg.c:1 Register:\nFrom:    [" + "x" * mb,
        "2024-03-05T10:15:02 " + "h" * mb,
    ]
    assert_only_parse_error(PARSER, inputs, ctx)
