"""The cisco_expressway parser on real published Expressway lines and on the benchmark corpus.

The samples live in `shared/samples/cisco_expressway/` beside the repository (CI lays a copy of
`shared/` next to its clone). They are framed exactly as the agent frames a file; every record must
become a normal event unless it is listed in NOT_RECORDS with the reason.
"""

from __future__ import annotations

import contextlib
import importlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.parsers.samplehelp import (
    SHARED_SAMPLES,
    Event,
    assert_no_pipeline_errors,
    bench_corpus_events,
    builtin_parser,
    line_of,
    record_starts,
    sample_files,
    the_one,
)
from ucsiem.errors import ParseError
from ucsiem.goldens import run_case_events
from ucsiem.parsing.contract import ParseContext, RawRecord
from ucsiem.schema.event import UCEvent

PARSER = builtin_parser("cisco_expressway")
SAMPLES = SHARED_SAMPLES / "cisco_expressway"
FILES = sample_files("cisco_expressway")

# file name -> {1-based line number of a record start: why it is not a log record}.
# Every line of the published samples is a real record today, so nothing is excused.
NOT_RECORDS: dict[str, dict[int, str]] = {
    "samples.log": {},
    "samples_multiline.log": {},
}


@pytest.fixture(scope="module")
def sample_events() -> dict[str, list[Event]]:
    return {path.name: run_case_events(PARSER, path) for path in FILES}


def _find(events: list[Event], **fields: Any) -> Event:
    """The one event whose flattened fields have these values (`__` stands for `.`)."""
    wanted = {key.replace("__", "."): value for key, value in fields.items()}
    return the_one([e for e in events if all(e.get(k) == v for k, v in wanted.items())], wanted)


@pytest.mark.parametrize("name", sorted(NOT_RECORDS))
def test_every_sample_record_is_an_event(name: str, sample_events: dict[str, list[Event]]) -> None:
    path = SAMPLES / name
    events = sample_events[name]
    assert len(events) == len(record_starts(PARSER, path))
    data = path.read_bytes()
    errors = {line_of(data, e["log.offset"]): e.get("error.message") for e in events
              if e.get("event.kind") == "pipeline_error"}
    assert set(errors) == set(NOT_RECORDS[name]), f"unexpected pipeline errors in {name}: {errors}"


def test_every_sample_file_is_covered() -> None:
    assert {p.name for p in FILES} == set(NOT_RECORDS)


def test_alarm_and_configuration_audit(sample_events: dict[str, list[Event]]) -> None:
    events = sample_events["samples.log"]
    alarm = _find(events, uc__vendor__Id="20006")
    assert alarm["event.action"] == "alarm-raise"
    assert alarm["event.code"] == "Alarm Raised"
    assert alarm["event.kind"] == "event"
    assert alarm["log.level"] == "warn"
    assert alarm["@timestamp"] == "2020-08-12T19:57:43.524000Z"  # from UTCTime, not the -05:00 header

    web = _find(events, event__action="config-change", event__provider="web")
    assert web["user.name"] == "admin"
    assert web["source.ip"] == "192.168.1.5"
    assert web["source.port"] == 51223
    assert (web["process.name"], web["process.pid"]) == ("httpd", 8724)
    assert web["event.category"] == ["configuration"]
    assert web["event.type"] == ["change"]
    assert web["event.outcome"] == "success"
    assert web["@timestamp"] == "2018-07-09T12:09:10Z"  # UTCTime without milliseconds

    clusterdb = [e for e in events if e["event.action"] == "config-change" and e.get("event.provider") == "clusterdb"]
    assert len(clusterdb) == 4
    assert all("process.name" not in e and e["uc.vendor.Node"].startswith("clusterdb@") for e in clusterdb)


def test_calls_searches_and_tls(sample_events: dict[str, list[Event]]) -> None:
    events = sample_events["samples.log"]
    call = _find(events, event__action="call-attempt")
    assert call["event.code"] == "Call Attempted"  # the web page's blanks are trimmed
    assert call["uc.call.caller"] == "sip:pstojano-test@dmzlab.call.ciscospark.com"
    assert call["uc.call.callee"] == "sip:jorobb@rtp.ciscotac.net"
    assert call["uc.call.id"] == "73c276e2-3917-4a0c-9fc5-ddde83b49fd0"  # Tag: common to all forks of the call
    assert call["uc.call.leg_id"] == "a3e44231-f62a-4e95-a70e-253701a89515"  # Call-serial-number: this box's
    assert call["uc.call.authenticated"] is False
    assert (call["network.transport"], call["tls.established"]) == ("tcp", True)
    assert call["destination.user.name"] == "jorobb"

    search = _find(events, event__code="Search Completed")
    assert (search["event.action"], search["event.outcome"], search["event.reason"]) == (
        "route-lookup", "failure", "Not Found")

    outbound = _find(events, event__code="Outbound TLS Negotiation Error")
    assert outbound["event.action"] == "tls-handshake"
    assert outbound["event.outcome"] == "failure"
    assert outbound["tls.established"] is False
    assert outbound["tls.server.x509.subject.common_name"] == ["callservice.ciscospark.com"]
    assert outbound["destination.port"] == 5062  # `Dst-port=" 5062 "`

    ssl = _find(events, log__logger="developer.ssl", log__level="error")
    assert ssl["message"] == "TTSSL_continueHandshake: Failed to establish SSL connection"
    assert ssl["source.ip"] == "146.20.193.45"  # remoteAddress of a server-side handshake
    assert ssl["event.reason"].endswith("sslv3 alert certificate unknown")

    cpl = _find(events, log__logger="network.cpl")
    assert cpl["message"].startswith('CPL: <location clear="yes" url="sip:cucm.rtp.ciscotac.net;lr"')
    assert cpl["message"].endswith("to location set")

    web_copy = _find(events, event__code="Request Received")
    assert "observer.hostname" not in web_copy
    assert (web_copy["uc.sip.method"], web_copy["uc.sip.request_uri"]) == ("ACK", "sip:test.time@sip5060.net")
    response = _find(events, event__code="Response Sent")
    assert response["uc.sip.status_code"] == 403


def test_sip_message_records(sample_events: dict[str, list[Event]]) -> None:
    invite, not_found = sample_events["samples_multiline.log"]
    for event in (invite, not_found):
        assert event["log.flags"] == ["multiline"]
        assert event["event.action"] == "sip-message"
        assert event["uc.sip.call_id"] == "9062bca7eca2afe71b4a225048ed5101@127.0.0.1"
        assert event["uc.sip.from_tag"] == "872524918"
        assert event["uc.sip.cseq"] == "1 INVITE"
    assert invite["uc.sip.direction"] == "received"
    assert invite["uc.sip.method"] == "INVITE"
    assert invite["uc.sip.request_uri"] == "sip:jorobb@rtp.ciscotac.net"
    assert invite["source.ip"] == "192.168.1.6"  # `Src-ip=" 192.168.1.6 "`
    assert invite["destination.ip"] == "192.168.1.5"  # the Expressway's Local-ip
    assert not_found["uc.sip.direction"] == "sent"
    assert (not_found["uc.sip.status_code"], not_found["uc.sip.reason_phrase"]) == (404, "Not Found")
    assert not_found["uc.sip.to_tag"] == "96b9a0eaf669a590"
    assert not_found["user_agent.original"] == "TANDBERG/4135 (X8.10.2)"


def test_benchmark_corpus_parses(tmp_path: Path) -> None:
    events = bench_corpus_events(PARSER, "expressway", tmp_path / "expressway.log", timeout=120)
    assert len(events) == 2000
    assert_no_pipeline_errors(events)
    actions = Counter(e["event.action"] for e in events)
    assert set(actions) == {"sip-register", "call-attempt", "call-start", "call-end", "call-reject",
                            "route-lookup", "admin-login"}
    assert all(e["@timestamp"].startswith("2026-11-27T") for e in events)
    failed_logins = [e for e in events if e["event.action"] == "admin-login"]
    assert all(e["event.outcome"] == "failure" and e.get("user.name") for e in failed_logins)


_PREFIXES = ["", "2024-05-14T10:00:00.000+02:00 expc01 tvcs: ", "<166>2024-05-14T08:00:00Z expc01 tvcs: tvcs: ",
             "May 14 10:00:00 expc01 httpd[1]: web: ", "2024-05-14T10:00:00 : ", 'UTCTime="2024-05-14 08:00:00,000" ',
             "<134>1 2024-05-14T08:00:00Z expc01 tvcs 1 - [x a=\"]\"] "]
_PIECES = ['"', " ", "=", ":", "\n", "|", "\\", ",", "@", "[", "]", "SIPMSG:\n|", "SIP/2.0 ", "Event=", "Module=",
           "Src-ip=", "Dst-port=", "Src-alias=", "Response-code=", "Level=", "Detail=", "UTCTime=", "Action=",
           "Received", "TLS", "Call Rejected", "sip:", "2024-05-14 08:00:00", "::1", "192.0.2.1", "\x00", "é"]
_HOSTILE = st.tuples(
    st.sampled_from(_PREFIXES),
    st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=6)), max_size=60),
)


@settings(max_examples=400, deadline=None)
@given(_HOSTILE)
def test_hostile_input_gives_valid_events_or_parse_error(case: tuple[str, list[str]]) -> None:
    text = case[0] + "".join(case[1])
    try:
        events = PARSER.parse(RawRecord(text), ParseContext())
    except ParseError:
        return
    for event in events:
        UCEvent.model_validate(event)


@pytest.mark.parametrize("body", ['a="' * 200_000, '"' * 600_000, "x" * 600_000 + '="1"', 'D="a "b" c" ' * 50_000,
                                  'k="v" ' * 100_000])
def test_megabyte_lines_end_in_an_event_or_a_parse_error(body: str) -> None:
    text = "2024-05-14T10:00:00Z expc01 tvcs: " + body
    with contextlib.suppress(ParseError):
        assert isinstance(PARSER.parse(RawRecord(text), ParseContext()), list)


def test_readme_lists_every_event_name() -> None:
    events = importlib.import_module("ucsiem_parsers.cisco_expressway.classify")
    package = importlib.import_module("ucsiem_parsers.cisco_expressway")  # a compiled module's __file__ is not its own
    assert package.__file__ is not None
    readme = (Path(package.__file__).parent / "README.md").read_text().lower()
    missing = [name for name in events.EVENTS if f"| `{name}` |" not in readme]
    assert not missing, f"README.md event table lacks {missing}"
