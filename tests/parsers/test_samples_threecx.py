"""The threecx parser on the 3CX message bodies published by 3CX (`shared/samples/3cx/`).

3CX has published message bodies only (no time stamp prefix): each must become a normal event with its
registration action; every other text must stay a ParseError.
"""

from __future__ import annotations

import pytest

from tests.parsers.samplehelp import (
    REFERENCE_TIME,
    Event,
    assert_only_parse_error,
    assert_records_are_events,
    builtin_parser,
    golden_dir,
    golden_lines,
    mutated,
    sample_events,
    sample_files,
    sample_lines,
)
from ucsiem.goldens import run_case_events
from ucsiem.parsing.contract import ParseContext

PARSER = builtin_parser("threecx")


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return sample_events(PARSER, sample_files("3cx"))


def test_every_sample_record_is_an_event(events: list[Event]) -> None:
    assert_records_are_events(events, sample_lines("3cx"))


def test_sample_actions(events: list[Event]) -> None:
    assert [(e["event.action"], e["event.outcome"], e.get("user.name"), e.get("uc.call.trunk")) for e in events] == [
        ("sip-unregister", "success", "100", None),
        ("sip-register", "success", None, "InPhonex"),
    ]
    assert all(e["tags"] == ["timestamp_from_reference"] for e in events)


def test_failed_registration_names_the_offender() -> None:
    found = run_case_events(PARSER, golden_dir("threecx") / "registration.log")
    failed = [e for e in found if e.get("event.outcome") == "failure"]
    assert [(e["event.action"], e["source.ip"], e["user.name"], e["event.code"]) for e in failed] == [
        ("sip-register", "203.0.113.28", "100", "CM102001"),
        ("sip-auth", "203.0.113.29", "102", "CM102001"),
    ]


def test_hostile_input_raises_only_parse_error() -> None:
    ctx = ParseContext(reference_time=REFERENCE_TIME)
    seeds = sample_lines("3cx") + golden_lines("threecx")
    inputs = mutated(seeds, "[]():;,/=@. Ext0123456789CMREGISTER\ufffd", 20240305)
    mb = 1_000_000
    auth = "Authentication failed for SipReq: REGISTER 203.0.113.28 tid="
    inputs += [
        "Ext.100: new contact is registered. Contact(s): [" + "sip:1@2:3," * (mb // 10) + "]",
        "Ext." + ":" * mb,
        auth + " " * mb,
        auth + "x cseq=REGISTER " + "/ " * (mb // 2),
        auth + "x cseq=REGISTER 1@2 / 2 from(wire); Reason: " + ";" * mb,
        "[" * mb,
        "[CM102001] " + "(" * mb,
        "Trunk " + " has changed status to " * (mb // 24),
        "Emergency number (" + "(" * mb,
    ]
    assert_only_parse_error(PARSER, inputs, ctx)
