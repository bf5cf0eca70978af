"""The oracle_acme_sbc parser on the published Oracle SBC lines (`shared/samples/oracle_acme_sbc/`).

The samples are the Oracle SBC Security Guide's syslog examples: console/ACLI login attempts and an
IDS_LOG endpoint demotion. Every line must be a normal event with the right action, outcome, user and
address; hostile input may only raise ParseError.
"""

from __future__ import annotations

from datetime import UTC, datetime
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
    sample_events,
    sample_files,
    sample_lines,
    text_lines,
)
from ucsiem.parsing.contract import ParseContext, RawRecord

PARSER = builtin_parser("oracle_acme_sbc")
FILES = sample_files("oracle_acme_sbc")


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return sample_events(PARSER, FILES)


@each_file(FILES)
def test_every_sample_record_is_an_event(path: Path) -> None:
    assert_every_record_is_an_event(PARSER, path, text_lines([path]))


def test_actions_outcomes_and_users(events: list[Event]) -> None:
    got = [(e["event.action"], e["event.outcome"], e.get("user.name"), e.get("process.name")) for e in events]
    assert got == [
        ("admin-login", "unknown", "admin", "loginLocal"),
        ("deny-list", "success", None, "sipd"),
        ("admin-login", "failure", "user", "acliConsole"),
        ("admin-login", "failure", None, "acliConsole"),
    ]
    assert not [e for e in events if e["event.action"] == "diagnostic"]


def test_demotion_carries_the_offender(events: list[Event]) -> None:
    demoted = events[1]
    assert demoted["source.ip"] == "192.168.101.120"
    assert "source.port" not in demoted  # SigAddr port 0: not known
    assert (demoted["uc.vendor.realm"], demoted["uc.vendor.trust_level"], demoted["uc.vendor.verdict"]) == (
        "access", "low", "DENY")
    assert (demoted["event.reason"], demoted["uc.vendor.demoted_to"]) == ("Too many messages", "BLock-List")
    assert (demoted["uc.sip.method"], demoted["uc.sip.request_uri"]) == ("REGISTER", "sip:192.168.66.2")
    assert demoted["observer.ip"] == ["172.41.3.41"] and demoted["observer.hostname"] == "CSE-4500-6"


def test_year_less_stamps_take_the_reference_year() -> None:
    ctx = ParseContext(reference_time=REFERENCE_TIME)
    (first,) = PARSER.parse(RawRecord(sample_lines("oracle_acme_sbc")[1]), ctx)
    assert first["@timestamp"] == datetime(2023, 11, 28, 17, 53, 47, tzinfo=UTC)


def test_hostile_input_raises_only_parse_error() -> None:
    ctx = ParseContext(reference_time=REFERENCE_TIME)
    seeds = [
        *sample_lines("oracle_acme_sbc"),
        '2,"192.0.2.10",5060,"id@192.0.2.10","a@b","","SIP","","","<sip:1@example.com>","<sip:2@example.com>",1,'
        '3,"10:00:00.000 UTC Tue Mar 05 2024","10:00:01.000 UTC Tue Mar 05 2024","10:00:04.000 UTC Tue Mar 05 2024"'
        ',"10",0,0,1,0,"core","access",1,"1","access","203.0.113.50",40000,"192.0.2.10",20000',
        'Acct-Status-Type="2",NAS-IP-Address="192.0.2.10",Acct-Session-Time="3",h323-setup-time="10:00:00.000 '
        'UTC Tue Mar 05 2024"',
    ]
    inputs = mutated(seeds, '[]():=@,"<> 0123456789.ABCDEFGIDS_LOGSigAddr\n', 20240305)
    mb = 1_000_000
    head = "Nov 28 17:53:47 192.0.2.41 sbc sipd[2dcc32a4] ERROR "
    inputs += [
        head + "[IDS_LOG] SigAddr[" + ":" * mb + "]",
        head + "[IDS_LOG] SigAddr[a:" + "=" * mb,
        head + "[IDS_LOG] SigAddr[a:192.0.2.1:0=low:DENY] ttl=1 exp=1 Demoted to " + "(" * mb,
        head + "From: " + "<" * mb,
        "Nov 28 17:53:47 " + "[" * mb,
        "Nov 28 17:53:47.100 " + "@" * mb,
        "2," + '"' * mb,
        "1," + "," * mb,
        'Acct-Status-Type="1",' + 'a="' * (mb // 3),
        "\ufffd" * mb,
        head + "authentication failure for " + " " * mb + " from x",
    ]
    assert_only_parse_error(PARSER, inputs, ctx)
