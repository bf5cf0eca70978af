"""The kamailio parser on the published Kamailio lines, the xlog payload contract and hostile input.

The samples (`shared/samples/kamailio/`, beside the repository) are real lines from public READMEs and
reports: a syslog line of an NGCP, script lines of a troubleshooting report, and `-E` console output of the
pike module. Every one must become a normal event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.parsers.samplehelp import (
    SHARED_SAMPLES,
    assert_every_line_is_an_event,
    assert_only_parse_error,
    builtin_parser,
    each_file,
    events_by_line,
    mutated,
    sample_files,
    sample_lines,
)
from ucsiem.parsing.contract import ParseContext, RawRecord

PARSER = builtin_parser("kamailio")
FILES = sample_files("kamailio")
CTX = ParseContext(reference_time=datetime(2024, 3, 5, 12, tzinfo=UTC))

# (file name, 1-based line) -> why the line is not a log record. Nothing is excused today.
NOT_RECORDS: dict[tuple[str, int], str] = {}


@each_file(FILES)
def test_every_sample_line_is_an_event(path: Path) -> None:
    assert_every_line_is_an_event(PARSER, path, NOT_RECORDS)


def test_sample_syslog_and_script_lines() -> None:
    lines = events_by_line(PARSER, SHARED_SAMPLES / "kamailio" / "samples.log")
    first = lines[1]
    assert (first["observer.hostname"], first["process.name"], first["process.pid"]) == ("ams2", "kamailio", 1067)
    assert first["log.syslog.appname"] == "/usr/sbin/kamailio"
    assert (first["log.level"], first["log.logger"]) == ("info", "script")
    assert first["message"] == "Sending reply, fs='udp:127.0.0.1:5060' - ID=11876453@127.0.1.1"
    assert first["@timestamp"] == "2023-11-19T22:05:36Z"  # year from the reference time (2024-06-15)
    assert first["event.action"] == "diagnostic"  # operator text with no security meaning


def test_sample_pike_console_lines() -> None:
    lines = events_by_line(PARSER, SHARED_SAMPLES / "kamailio" / "samples.log")
    block = next(e for e in lines.values() if e["event.action"] == "flood-block")
    assert block["event.category"] == ["network", "intrusion_detection"]
    assert (block["event.type"], block["event.outcome"]) == (["denied"], "success")
    assert (block["source.ip"], block["source.port"]) == ("10.10.10.10", 5060)
    assert (block["user.name"], block["uc.sip.method"]) == ("altanai", "REGISTER")
    assert block["log.level"] == "alert"
    assert block["tags"] == ["no_header", "timestamp_from_reference"]
    assert block["@timestamp"] == "2024-06-15T12:00:00Z"  # console lines carry no time: the read time
    trace = next(e for e in lines.values() if e["event.action"] == "sip-message")
    assert trace["uc.sip.from_uri"] == "sip:altanai@10.10.10.10"


@pytest.mark.parametrize("line", [
    'Mar  5 10:00:00 pbx kamailio[812]: NOTICE: <script>: ',
    ' 4(812) NOTICE: <script>: ',
    '2024-03-05T10:00:00.000000+00:00 pbx kamailio[812]:  4(812) NOTICE: <script>: ',
])
def test_xlog_payload_contract(line: str) -> None:
    """The xlog line of the end-to-end configuration, as syslog, console and journald print it."""
    payload = ("event=sip-register outcome=failure src_ip=198.51.100.7 src_port=5062 user=alice method=REGISTER "
               "code=401 reason=Unauthorized call_id=3848276298220188511@198.51.100.7")
    (event,) = PARSER.parse(RawRecord(line + payload), CTX)
    ev = event["event"]
    assert (ev["action"], ev["outcome"], ev["code"], ev["reason"]) == (
        "sip-register", "failure", "sip-register", "Unauthorized")
    assert ev["category"] == ["network", "authentication"]
    assert ev["type"] == ["protocol", "denied"]
    assert event["source"] == {"ip": "198.51.100.7", "port": 5062}
    assert event["user"] == {"name": "alice"}
    assert event["uc"]["sip"] == {"method": "REGISTER", "status_code": 401, "reason_phrase": "Unauthorized",
                                  "call_id": "3848276298220188511@198.51.100.7"}
    assert event["network"] == {"protocol": "sip"}


@pytest.mark.parametrize(("payload", "action", "category", "types", "outcome"), [
    ("event=sip-auth outcome=failure user=bob", "sip-auth", ["authentication"], ["start"], "failure"),
    ("event=call-attempt call_id=c1", "call-attempt", ["network", "session"], ["connection", "start"], None),
    ("event=call-start call_id=c1 code=200", "call-start", ["network", "session"], ["connection", "start"],
     "success"),
    ("event=call-end call_id=c1 cause=BYE duration=12", "call-end", ["network", "session"], ["connection", "end"],
     None),
    ("event=call-reject code=486", "call-reject", ["network", "session"], ["connection", "denied"], "failure"),
    ("event=admin-login outcome=success user=root", "admin-login", ["authentication"], ["start"], "success"),
    ("event=config-change user=root", "config-change", ["configuration"], ["change"], "success"),
    ("event=flood-block src_ip=203.0.113.5", "flood-block", ["network", "intrusion_detection"], ["denied"],
     "success"),
    ("event=deny-list src_ip=203.0.113.5", "deny-list", ["network", "intrusion_detection"], ["denied"], "success"),
    ("event=tls-handshake outcome=failure", "tls-handshake", ["network"], ["connection"], "failure"),
])
def test_xlog_actions(payload: str, action: str, category: list[str], types: list[str], outcome: str | None) -> None:
    (event,) = PARSER.parse(RawRecord(" 1(90) NOTICE: <script>: " + payload), CTX)
    ev = event["event"]
    assert (ev["action"], ev.get("category"), ev["type"], ev.get("outcome")) == (action, category, types, outcome)


def test_hostile_input_raises_only_parse_error() -> None:
    """Mutated lines, random text and 1 MB lines: events or ParseError, and every line in linear time."""
    seeds = sample_lines("kamailio")
    seeds += [" 0(1) NOTICE: <script>: event=sip-auth outcome=failure reason=\"x y\" ua='z' src_ip=192.0.2.1",
              "<134>1 2024-03-05T10:00:00Z h kamailio 1 - [a b=\"]\"] ERROR: tls [t.c:1]: f(): TLS accept:x"]
    alphabet = " \t:=\"'\\[](){}<>@/.-_0123456789ALERTPIKEtls:TLS accept:"
    inputs = mutated(seeds, alphabet, 20240305)
    mb = 1_000_000
    inputs += [" 0(1) NOTICE: <script>: " + 'a="' * (mb // 3), " 0(1) NOTICE: <script>: " + "a=b " * (mb // 4),
               " 0(1) NOTICE: <script>: x" + " y" * (mb // 2), "Mar  5 10:00:00 " + "h" * mb,
               " 0(1) ERROR: {" + "{" * mb, " pike blocking INVITE from " + "s" * mb + " (IP:",
               "<134>1 2024-03-05T10:00:00Z h k 1 - [" + '"' * mb, "ERROR: " + "<core> [" * (mb // 8)]
    assert_only_parse_error(PARSER, inputs, CTX)
