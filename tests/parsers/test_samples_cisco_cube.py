"""The cisco_cube parser on the published CUBE / IOS voice gateway lines (`shared/samples/cisco_cube/`).

The samples come from Cisco configuration guides and TAC notes (most without the syslog header, as
Cisco prints them) and public test fixtures; every line must become a normal event (no pipeline
error), with the security-relevant ones classified exactly.
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
    nonblank_lines,
    sample_events,
    sample_files,
    sample_lines,
    the_one,
)
from ucsiem.errors import ParseError
from ucsiem.parsing.contract import ParseContext, RawRecord

PARSER = builtin_parser("cisco_cube")
FILES = sample_files("cisco_cube")
CTX = ParseContext(reference_time=REFERENCE_TIME)


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return sample_events(PARSER, FILES)


def _by_message(events: list[Event], start: str) -> Event:
    return the_one([e for e in events if str(e.get("message", "")).startswith(start)], start)


@each_file(FILES)
def test_every_sample_record_is_an_event(path: Path) -> None:
    assert_every_record_is_an_event(PARSER, path, nonblank_lines(path))


def test_every_sample_names_its_mnemonic_or_is_debug(events: list[Event]) -> None:
    for event in events:
        if "event.code" in event:
            facility, severity, mnemonic = event["event.code"].rsplit("-", 2)
            assert event["event.provider"] == facility and event["event.severity"] == int(severity) and mnemonic
        else:
            assert event["event.provider"] in ("voip_trace", "event_trace", "debug")
            assert event["event.action"] == "diagnostic"


def test_actions_of_the_samples(events: list[Event]) -> None:
    actions = [(e.get("event.code", e["event.provider"]), e["event.action"], e.get("event.outcome")) for e in events]
    assert actions == [
        ("VOICE_IEC-3-GW", "call-reject", "failure"),            # Low memory (CAC)
        ("VOICE_IEC-3-GW", "call-reject", "failure"),            # CPU high (CAC)
        ("VOICE_IEC-3-GW", "flood-block", "success"),            # call spike threshold
        ("SIP-3-REG_INTERNAL", "sip-register", "success"),
        ("voip_trace", "diagnostic", None),
        ("voip_trace", "diagnostic", None),
        ("VOICE_IEC-3-GW", "call-reject", "failure"),            # toll fraud
        ("SIP-3-STREAM_SERVICE", "service-failure", "failure"),
        ("SIP-3-STREAM_SERVICE", "connection", None),
        ("event_trace", "diagnostic", None),
        ("event_trace", "diagnostic", None),
        ("VOIPAAA-5-VOIP_CALL_HISTORY", "call-end", "success"),
        ("VOIPAAA-5-VOIP_FEAT_HISTORY", "call-redirect", None),
        ("VOICE_IEC-3-GW", "call-end", "failure"),               # DNS query fail
    ]


def test_toll_fraud_and_internal_error_codes(events: list[Event]) -> None:
    toll = _by_message(events, "Application Framework Core: Internal Error (Toll fraud call rejected)")
    assert toll["tags"] == ["toll_fraud", "clock_unsynchronized"]
    assert "intrusion_detection" in toll["event.category"]
    assert (toll["uc.call.id"], toll["uc.call.leg_id"], toll["uc.vendor.iec"]) == (
        "AE5066C5883E11DE8026A96657501A09", "3", "1.1.228.3.31.0")
    assert toll["uc.call.disconnect_cause"] == "Toll fraud call rejected"
    assert toll["@timestamp"] == "2023-08-14T19:54:32.507000Z"  # year-less, before the reference day
    dns = _by_message(events, "SIP: Internal Error (DNS query fail)")
    assert (dns["uc.call.disconnect_cause"], dns["event.sequence"]) == ("DNS query fail", 984)
    low_memory = _by_message(events, "C SCRIPTS: Internal Error (Low memory)")
    assert "uc.call.id" not in low_memory  # the all-zero GUID of the published example is no call id
    assert low_memory["tags"] == ["timestamp_missing"]


def test_registration_and_cdr(events: list[Event]) -> None:
    reg = _by_message(events, "Registration Success.")
    assert (reg["destination.ip"], reg["destination.port"], reg["destination.domain"]) == (
        "8.0.0.121", 6123, "slido.com")
    assert reg["user.name"] == "slido123"
    cdr = _by_message(events, "CallLegType 1, ConnectionId BA55719E")
    assert cdr["uc.call.id"] == "BA55719E F8C10015 0 1B1E08"
    assert (cdr["uc.vendor.q850_cause"], cdr["uc.call.disconnect_cause"]) == (16, "normal call clearing.")
    assert cdr["uc.call.end_time"] == "2001-06-18T11:15:02.983000Z"
    assert cdr["uc.call.duration"] == pytest.approx(13.28)
    feature = _by_message(events, "FEAT_VSA=fn:CFA")
    assert (feature["observer.hostname"], feature["uc.vendor.fwdto"]) == ("CME-MRI", "510")


@pytest.mark.parametrize("line", [
    "Registration from '<sip:1001@example.com>' failed for '203.0.113.60' - Wrong password",
    "<189>Mar  5 10:30:40 pbx01 asterisk[32229]: NOTICE[32257]: chan_sip.c:23417 in handle_request_register: x",
    "%NOT-A-MNEMONIC",
    "%SYS-5-CONFIG_I:",
    "Via: SIP/2.0/TCP 192.0.2.20:5060;branch=z9hG4bK8431b8dc281",  # a SIP dump line: not a record of its own
])
def test_lines_that_are_not_ios_output_are_parse_errors(line: str) -> None:
    with pytest.raises(ParseError):
        PARSER.parse(RawRecord(line), CTX)


def test_hostile_input_raises_only_parse_error() -> None:
    """Mutated sample lines, random characters and 1 MB lines: events or ParseError, nothing else."""
    seeds = sample_lines("cisco_cube")
    alphabet = "%-:;=,.()[]'/*<> 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop_\ufffd\n"
    inputs = mutated(seeds, alphabet, 20240615)
    mb = 1_000_000
    stamp = "*Jun 10 08:14:45.010: "
    inputs += [
        stamp + "%SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: " + "] [Source: " * (mb // 11),
        stamp + "%SEC_LOGIN-4-LOGIN_FAILED: " + "[" * mb,
        stamp + "%SSH-5-SSH2_USERAUTH: User '" + "' authentication for SSH2 Session from " * (mb // 40),
        stamp + "%VOICE_IEC-3-GW: x: Internal Error (" + "): IEC=" * (mb // 7),
        stamp + "%VOIPAAA-5-VOIP_CALL_HISTORY: " + "A , " * (mb // 4),
        stamp + "%VOIPAAA-5-VOIP_FEAT_HISTORY: FEAT_VSA=" + ":," * (mb // 2),
        stamp + "%SIP-3-REG_INTERNAL: Registration failed. " + ";=" * (mb // 2),
        stamp + "%SYS-5-CONFIG_I: Configured from console by " + " on (" * (mb // 5),
        stamp + "//" + "/" * mb,
        "%" + "-" * mb,
        "%" + "A-" * (mb // 2) + "5-X: y",
        "1: " * (mb // 3),
        "h: " * (mb // 3),
        ":" * mb,
        "*" + "Jun 10 " * (mb // 7),
        "<1>" + " " * mb,
        "Jun 10 08:14:45 " + "h" * mb,
        "\ufffd" * mb,
    ]
    assert_only_parse_error(PARSER, inputs, CTX)
