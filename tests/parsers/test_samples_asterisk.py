"""The asterisk parser on the published Asterisk lines (`shared/samples/asterisk/`, beside the repository).

The samples are the fail2ban project's real/crafted fixture lines; every record must become a normal
event (no pipeline error), with the offender's address taken from the field Asterisk wrote.
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

PARSER = builtin_parser("asterisk")
FILES = sample_files("asterisk")


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return sample_events(PARSER, FILES)


def _by_message(events: list[Event], start: str) -> list[Event]:
    return [e for e in events if str(e.get("message", "")).startswith(start)]


@each_file(FILES)
def test_every_sample_record_is_an_event(path: Path) -> None:
    assert_every_record_is_an_event(PARSER, path, record_starts(PARSER, path))


def test_no_sample_is_left_unclassified(events: list[Event]) -> None:
    assert not [e["message"] for e in events if e["event.action"] == "diagnostic"]


def test_security_event_addresses_and_time(events: list[Event]) -> None:
    invalid = _by_message(events, 'SecurityEvent="InvalidPassword"')[0]
    assert (invalid["source.ip"], invalid["source.port"]) == ("141.255.164.106", 5084)
    assert (invalid["destination.ip"], invalid["destination.port"]) == ("92.28.73.180", 5060)
    assert invalid["network.transport"] == "udp"
    assert invalid["event.action"] == "sip-auth" and invalid["event.outcome"] == "failure"
    assert invalid["@timestamp"] == "2013-07-06T08:09:25.824497Z"  # EventTV epoch-usec, not the zone-less header
    assert invalid["user.name"] == "972592891005"

    acl = _by_message(events, 'SecurityEvent="FailedACL"')[0]
    assert (acl["event.action"], acl["network.application"], acl["source.ip"]) == ("deny-list", "AMI", "192.0.2.4")
    assert acl["@timestamp"] == "2016-05-15T19:53:00.203000Z"  # EventTV with its +0300 offset


def test_crafted_session_ids_never_give_the_address(events: list[Event]) -> None:
    crafted = _by_message(events, 'SecurityEvent="InvalidAccountID"')
    assert len(crafted) == 2
    for event in crafted:
        assert event["source.ip"] == "10.250.251.252"
        assert event["related.ip"] == ["10.250.251.252", "1.2.3.4"]
        assert "tags" not in event
    assert {e["uc.vendor.SessionID"] for e in crafted} == {"!@#$%^&   *(}((')[ -+\"++", "Негодяй"}


def test_text_families(events: list[Event]) -> None:
    wrong = _by_message(events, "Registration from '<sip:301@example.com>' failed for '1.2.3.4' - Wrong password")[0]
    assert (wrong["event.action"], wrong["event.category"], wrong["user.name"]) == (
        "sip-register", ["authentication", "network"], "301")
    pjsip = _by_message(events, "Request from '\"317\"")[0]
    assert (pjsip["source.ip"], pjsip["source.port"]) == ("2.3.4.5", 5089)
    assert pjsip["uc.sip.call_id"] == "206f178f-896564cb-57573f49@1.2.3.4"
    ami = _by_message(events, "192.0.2.4 tried to authenticate")[0]
    assert (ami["event.action"], ami["event.outcome"], ami["user.name"]) == ("admin-login", "failure", "opennms")
    call = _by_message(events, "Call from ''")[0]
    assert (call["event.action"], call["uc.call.callee"], call["uc.call.leg_id"]) == (
        "call-reject", "0+441772285407", "C-000003c3")


def test_hostile_input_raises_only_parse_error() -> None:
    """Mutated sample lines, random bytes and 1 MB lines: events or ParseError, nothing else."""
    ctx = ParseContext(reference_time=REFERENCE_TIME)
    seeds = sample_lines("asterisk")
    alphabet = "[]\"',=/:.- 0123456789IPVUDTCSecurityEvntAdsL<>@\n"
    inputs = mutated(seeds, alphabet, 20240305)
    mb = 1_000_000
    head = '[2024-03-05 10:15:02] SECURITY[1] res_security_log.c: SecurityEvent="InvalidAccountID",EventTV="x"'
    pair = ',LocalAddress="IPV4/UDP/192.0.2.1/5060",RemoteAddress="IPV4/UDP/192.0.2.2/5060"'
    inputs += [
        head + ',SessionID="' + '",' * (mb // 2),
        head + ',SessionID="' + ('"' + pair) * (mb // len(pair)),
        "[2024-03-05 10:15:02] NOTICE[1] chan_sip.c: Registration from '" + "' failed for '" * (mb // 14),
        "[2024-03-05 10:15:02] NOTICE[1] x.c: Request 'INVITE' from '" + "' failed for '1.2.3.4' (callid: " * (mb // 40)
        + ") - Failed to authenticate",
        "[2024-03-05 10:15:02] NOTICE[1] chan_sip.c: Call from '" + "' (1.2.3.4:5) to extension '" * (mb // 30)
        + "' rejected because extension not found in context 'x'.",
        "[2024-03-05 10:15:02] WARNING[1] Ext. " + "a" * mb,
        "Mar  5 10:15:02 " + "h" * mb,
    ]
    assert_only_parse_error(PARSER, inputs, ctx)
