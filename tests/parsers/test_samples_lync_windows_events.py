"""The lync_windows_events parser: its golden cases, plus hostile input.

There is no shared sample file for this source: no public, verbatim "Lync Server" event-log entry was
found (see `shared/samples/skype_lync_edge/PROVENANCE.md`, "gap"). The collector envelopes follow the
Winlogbeat and NXLog documentation and fixtures; the message texts of the golden cases are constructed
from the documented descriptions (parsers/lync_windows_events/README.md, "Golden cases"). This test
checks the classification of those cases exactly and that nothing but ParseError escapes `parse`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.parsers.samplehelp import (
    REFERENCE_TIME,
    Event,
    assert_no_pipeline_errors,
    assert_only_parse_error,
    builtin_parser,
    golden_dir,
    mutated,
    text_lines,
    truncations,
)
from ucsiem.goldens import run_case_events
from ucsiem.parsing.contract import ParseContext, RawRecord

PARSER = builtin_parser("lync_windows_events")
CASES = golden_dir("lync_windows_events")


@pytest.fixture(scope="module")
def winlogbeat() -> list[Event]:
    return run_case_events(PARSER, CASES / "winlogbeat.log")


@pytest.fixture(scope="module")
def nxlog() -> list[Event]:
    return run_case_events(PARSER, CASES / "nxlog.log")


def _summary(events: list[Event]) -> list[tuple[Any, ...]]:
    return [(e["event.code"], e["event.action"], e["event.kind"], e.get("event.outcome")) for e in events]


def test_winlogbeat_ids_map_to_actions(winlogbeat: list[Event]) -> None:
    assert_no_pipeline_errors(winlogbeat)
    assert _summary(winlogbeat) == [
        ("14428", "tls-handshake", "event", "failure"),
        ("14603", "flood-block", "event", "success"),
        ("14601", "diagnostic", "event", None),
        ("22126", "security-alert", "alert", None),
        ("47026", "security-alert", "alert", None),
        ("32000", "diagnostic", "event", None),  # an id of a Lync provider the table does not know
        ("600", "diagnostic", "event", None),  # another provider: kept, tagged
    ]
    assert winlogbeat[-1]["tags"] == ["not_lync_provider"]
    assert all("tags" not in e for e in winlogbeat[:-1])


def test_values_taken_from_the_messages(winlogbeat: list[Event]) -> None:
    limited = winlogbeat[1]
    assert limited["source.domain"] == "sip.example.net"
    assert limited["uc.vendor.certificate_subject"] == ["sip.example.net", "sip.example.net", "edge.example.net"]
    partners = winlogbeat[2]
    assert partners["uc.vendor.partner_edges"] == ["sip.example.net", "edge.example.org"]
    assert partners["uc.vendor.partner_domains"] == ["example.net", "example.org"]
    tls = winlogbeat[0]
    assert (tls["observer.hostname"], tls["event.provider"], tls["uc.vendor.channel"]) == (
        "edge01.example.com", "LS Protocol Stack", "Lync Server")
    assert (tls["@timestamp"], tls["event.created"]) == ("2024-03-05T09:40:12.345000Z", "2024-03-05T09:40:13.002000Z")


def test_nxlog_times_and_ids(nxlog: list[Event]) -> None:
    assert _summary(nxlog) == [
        ("14603", "flood-block", "event", "success"),
        ("14428", "tls-handshake", "event", "failure"),  # OCS 2007 R2 provider, EventID as a string
        ("47026", "security-alert", "alert", None),
    ]
    # naive NXLog CE time in the configured zone (Europe/Paris), ISO with offset as written
    assert [e["@timestamp"] for e in nxlog] == [
        "2024-03-05T09:41:00Z", "2024-03-05T09:40:12.345678Z", "2024-03-05T10:05:30Z"]
    assert [e["process.pid"] for e in nxlog] == [2880, 2880, 2880]


def test_epoch_event_time_and_arrays() -> None:
    """NXLog configurations that ran `integer($EventTime)` (microseconds, or divided to ms / s)."""
    base = {"Hostname": "edge01.example.com", "EventID": 14428, "SourceName": "LS Protocol Stack",
            "Channel": "Lync Server", "Message": "TLS outgoing connection failures."}
    docs = [{**base, "EventTime": 1709631612345678}, {**base, "EventTime": 1709631612345},
            {**base, "EventTime": 1709631612}]
    events = PARSER.parse(RawRecord(json.dumps(docs)), ParseContext())
    assert [e["@timestamp"].isoformat() for e in events] == [
        "2024-03-05T09:40:12.345678+00:00", "2024-03-05T09:40:12.345000+00:00", "2024-03-05T09:40:12+00:00"]


def test_hostile_input_raises_only_parse_error() -> None:
    """Mutated golden documents, 1 MB values and separators, cut documents, odd JSON types."""
    ctx = ParseContext(reference_time=REFERENCE_TIME)
    seeds = text_lines([CASES / "winlogbeat.log", CASES / "nxlog.log"])
    alphabet = "{}[]\":,.-_ \\0123456789abcdefENTtrue\n\ufffd"
    inputs = mutated(seeds, alphabet, 14603) + truncations(seeds[:3], 5)
    mb = 1_000_000
    doc = json.loads(seeds[1])
    for sep in ("\n", "\r", '"', ";", ",", ":", " ", "\\", "\ufffd"):
        big = json.loads(json.dumps(doc))
        big["message"] = "Certificate Subject: \"" + sep * mb + "\"\nName: " + "; Domains: " * (mb // 11)
        inputs.append(json.dumps(big))
        inputs.append("{" * mb)
        inputs.append("[" + sep * mb)
    odd_values: list[Any] = [None, True, 1.5e308, -1, 2**70, "", [], {}, "9" * 400, float("nan")]
    for value in odd_values:
        for path in (("winlog", "event_id"), ("@timestamp",), ("winlog", "provider_name"), ("message",),
                     ("winlog", "event_data"), ("winlog", "process", "pid"), ("event", "created")):
            variant = json.loads(json.dumps(doc))
            target = variant
            for key in path[:-1]:
                target = target.setdefault(key, {})
            target[path[-1]] = value
            inputs.append(json.dumps(variant))
        nx = {"EventTime": value, "EventID": value, "SourceName": "LS Protocol Stack", "Hostname": value}
        inputs.append(json.dumps(nx))
    inputs += ["[]", "{}", "[{}]", "null", "42", '"x"', '{"winlog": 1}', '{"winlog": {"event_id": 1}}']
    assert_only_parse_error(PARSER, inputs, ctx)
