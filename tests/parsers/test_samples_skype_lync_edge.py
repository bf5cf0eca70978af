"""The skype_lync_edge parser on the published SIPStack records (`shared/samples/skype_lync_edge/`).

The two records are Microsoft's own (support article "Test-CsFederatedPartner fails"): a protocol
record of an OPTIONS crossing the Edge and the diagnostic record of its rejection (untrusted Route
headers). Every record must become a normal event with the fields the record carries.
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
    truncations,
)
from ucsiem.parsing.contract import ParseContext, RawRecord

PARSER = builtin_parser("skype_lync_edge")
FILES = sample_files("skype_lync_edge")


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return sample_events(PARSER, FILES)


@each_file(FILES)
def test_every_sample_record_is_an_event(path: Path) -> None:
    found = assert_every_record_is_an_event(PARSER, path, record_starts(PARSER, path), count=2)
    assert all("incomplete_record" not in e.get("tags", []) for e in found)


def test_actions_and_outcomes(events: list[Event]) -> None:
    assert [(e["event.action"], e.get("event.outcome"), e.get("event.code")) for e in events] == [
        ("sip-message", None, None),
        ("sip-message-reject", "failure", "SIPPROXY_E_ROUTING"),
    ]


def test_protocol_record_fields(events: list[Event]) -> None:
    options = events[0]
    assert options["@timestamp"] == "2012-01-18T05:00:43.101000Z"  # MM/DD/YYYY, UTC as written
    assert (options["source.domain"], options["source.port"]) == ("lyncservr.contoso.com", 61182)
    assert "source.ip" not in options  # the peer is a name: nothing reaches an ip field
    assert options["uc.sip.direction"] == "received"
    assert options["network.direction"] == "outbound"  # source="internal edge" -> destination="external edge"
    assert (options["uc.sip.method"], options["uc.sip.request_uri"]) == ("OPTIONS", "sip:Options_User@fabrikam.com")
    assert options["uc.sip.call_id"] == "017b06f397b14886bba5edf97ea206bd"
    assert (options["uc.sip.user_agent"], options["network.transport"]) == ("RTCC/4.0.0.0", "tcp")
    assert (options["uc.vendor.trace_correlation_id"], options["uc.vendor.instance_id"]) == ("2003888399", "0000C23F")
    assert options["process.pid"] == 0x06E4


def test_diagnostic_record_fields(events: list[Event]) -> None:
    reject = events[1]
    assert reject["event.reason"].startswith("Cannot process Route headers from a non-trusted source")
    assert reject["uc.vendor.result_code"] == "0xc3e93c5e"
    assert (reject["uc.sip.method"], reject["uc.sip.call_id"]) == ("OPTIONS", "c00bc6180f284b948be61febf274d05e")
    assert (reject["log.level"], reject["log.logger"]) == ("error", "CSIPRequest::GetNextHopByRouteHeader")


def test_cut_record_still_parses() -> None:
    """A record cut before `$$end_record` (framing limit, or an export that stops) keeps what it has."""
    text = "\n".join(sample_lines("skype_lync_edge")[:7])
    events = PARSER.parse(RawRecord(text, flags=("multiline", "truncated")), ParseContext())
    assert events[0]["tags"] == ["incomplete_record"]
    assert events[0]["uc"]["sip"]["method"] == "OPTIONS"


def test_hostile_input_raises_only_parse_error() -> None:
    """Mutated sample records, 1 MB lines of every separator the parser splits on, cut records."""
    ctx = ParseContext(reference_time=REFERENCE_TIME)
    lines = sample_lines("skype_lync_edge")
    records = ["\n".join(lines[:18]), "\n".join(lines[18:])]
    alphabet = "[]()\"';=:.-_ \n0123456789ABCDEFabcdefTL_INFOSIPsip@<>$\\/\ufffd"
    inputs = mutated(records, alphabet, 20120118) + mutated(lines, alphabet, 20170302)
    inputs += truncations(records, 7)
    mb = 1_000_000
    head = lines[0]
    for sep in (":", ";", "\"", "=", "<", ">", "[", "]", "(", ")", "\n", " ", "$", "\\"):
        inputs += [
            head + "\n" + "Start-Line: INVITE sip:a@example.com SIP/2.0\nFrom: " + sep * mb,
            head + "\nDirection: incoming" + sep * mb,
            head + "\nPeer: " + sep * mb,
            head + "\nms-diagnostics: 1;" + sep * mb + "\nStart-Line: SIP/2.0 403 x",
            head.replace("$$begin_record", sep * mb),
            "TL_ERROR(TF_DIAG) [" + sep * mb,
            "TL_WARN(TF_DIAG) [0]1.1::01/01/2020-00:00:00.000.1 (S,f(1))\nData: " + sep * mb,
        ]
    inputs.append(head + "\n" + "X: y\n" * 200_000)
    assert_only_parse_error(PARSER, inputs, ctx)
