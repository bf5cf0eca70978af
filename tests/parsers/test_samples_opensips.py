"""The opensips parser on the published OpenSIPS lines and on hostile input.

The samples (`shared/samples/opensips/`, beside the repository) are start-up errors quoted verbatim in a
blog post: `Mmm dd HH:MM:SS /usr/sbin/opensips[pid]: LEVEL:module:function: message` without a host name.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

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

PARSER = builtin_parser("opensips")
FILES = sample_files("opensips")
CTX = ParseContext(reference_time=datetime(2024, 3, 5, 12, tzinfo=UTC))

# (file name, 1-based line) -> why the line is not a log record. Nothing is excused today.
NOT_RECORDS: dict[tuple[str, int], str] = {}


@each_file(FILES)
def test_every_sample_line_is_an_event(path: Path) -> None:
    assert_every_line_is_an_event(PARSER, path, NOT_RECORDS)


def test_sample_lines() -> None:
    lines = events_by_line(PARSER, SHARED_SAMPLES / "opensips" / "samples.log")
    radius = lines[1]
    assert "observer.hostname" not in radius  # the published lines have no host name
    assert (radius["process.name"], radius["process.pid"]) == ("opensips", 13231)
    assert (radius["log.level"], radius["log.logger"], radius["uc.vendor.function"]) == (
        "error", "aaa_radius", "init_radius_handle")
    assert radius["message"] == "attribute not found Cisco:h323-return-code"
    assert radius["event.type"] == ["error"]
    assert radius["@timestamp"] == "2023-12-21T02:13:10Z"  # year from the reference time (2024-06-15)
    for n in (2, 3):  # a failed fixup and a failed cfg action: the configuration did not load
        assert lines[n]["event.action"] == "config-change"
        assert (lines[n]["event.outcome"], lines[n]["event.category"]) == ("failure", ["configuration"])
    assert lines[3]["event.reason"] == "fixing failed (code=-1) at cfg line 297"


def test_console_form_and_payload() -> None:
    (event,) = PARSER.parse(RawRecord(
        "Mar  5 10:00:00 [4191] event=sip-auth outcome=failure user=mallory src_ip=203.0.113.9 code=403"), CTX)
    assert event["process"] == {"pid": 4191}
    assert (event["event"]["action"], event["event"]["outcome"]) == ("sip-auth", "failure")
    assert event["@timestamp"] == datetime(2024, 3, 5, 10, tzinfo=UTC)
    (pike,) = PARSER.parse(RawRecord(
        "Mar  5 10:00:01 sbc1 opensips[4192]: PIKE - BLOCKing ip 203.0.113.9, node=0x7f3d5a1c2b10"), CTX)
    assert (pike["event"]["action"], pike["source"]["ip"]) == ("flood-block", "203.0.113.9")


def test_hostile_input_raises_only_parse_error() -> None:
    seeds = sample_lines("opensips")
    seeds.append("Mar  5 10:00:00 [1] ERROR:proto_tls:tls_accept: New TLS connection from 192.0.2.1:1 failed")
    alphabet = " \t:=\"'\\[](){}<>@/.-_0123456789ERROR:core:PIKE"
    inputs = mutated(seeds, alphabet, 20240306)
    mb = 1_000_000
    inputs += ["Mar  5 10:00:00 [1] " + 'a="' * (mb // 3), "Mar  5 10:00:00 [1] ERROR:" + "a:" * (mb // 2),
               "Mar  5 10:00:00 h opensips[1]: TLS errstack: " + ":" * mb]
    assert_only_parse_error(PARSER, inputs, CTX)
