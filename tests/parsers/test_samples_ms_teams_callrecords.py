"""The ms_teams_callrecords parser on Microsoft's Graph examples (`shared/samples/ms_teams/graph_callrecords.jsonl`).

The samples are the documentation's response bodies: a callRecord expanded with sessions and segments,
one expanded with participants, and a getDirectRoutingCalls page. Every document must become events
(no pipeline error), each event derived from a callRecord must carry its id, and event ids must be
distinct and stable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.parsers.samplehelp import assert_only_parse_error, builtin_parser, mutated, sample_files, sample_lines
from ucsiem.goldens import run_case_events
from ucsiem.normalize import Normalizer, RecordMeta
from ucsiem.parsing.contract import ParseContext, RawRecord

PARSER = builtin_parser("ms_teams_callrecords")
Event = dict[str, Any]
CALL_ID = "e523d2ed-2966-4b6b-925b-754a88034cc5"


def _sample_files() -> list[Path]:
    return sample_files("ms_teams", "graph_callrecords.jsonl")


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return [e for path in _sample_files() for e in run_case_events(PARSER, path)]


def test_every_sample_document_is_events_without_errors(events: list[Event]) -> None:
    assert not [e.get("error.message") for e in events if e.get("event.kind") == "pipeline_error"]
    # line 1: call + one segment; line 2: call (participants, no sessions); line 3: one Direct Routing row
    assert [(e["log.offset"] > 0, e["event.action"], e["event.code"]) for e in events] == [
        (False, "call-end", "peerToPeer"), (False, "media-end", "segment"),
        (True, "call-end", "peerToPeer"), (True, "call-end", "ByotIn")]


def test_call_record_and_its_segment(events: list[Event]) -> None:
    call, segment = events[0], events[1]
    assert call["uc.call.id"] == segment["uc.call.id"] == CALL_ID  # regroupable
    assert call["@timestamp"] == "2020-02-25T18:52:46.764001Z"
    assert call["event.duration"] == 25_547_013_000 and call["event.outcome"] == "success"
    assert (call["user.id"], call["user.full_name"]) == ("821809f5-0000-0000-0000-3b5136c0e777", "Abbie Wilkins")
    assert (segment["source.ip"], segment["uc.media.jitter_ms"], segment["uc.media.type"]) == (
        "10.150.0.2", 16.0, "audio")
    assert (segment["uc.call.caller"], segment["uc.call.callee"]) == (
        "abbie.wilkins@contoso.com", "owen.franklin@contoso.com")
    assert (segment["source.user.name"], segment["source.user.domain"]) == ("abbie.wilkins", "contoso.com")
    assert segment["user_agent.original"].startswith("RTCC/7.0.0.0 UCWA/7.0.0.0 AndroidLync/")
    assert segment["uc.vendor.callee.feedback.rating"] == "poor"
    assert segment["uc.vendor.main-audio.callerToCallee.averageJitter"] == "PT0.016S"


def test_participants_and_organizer_email(events: list[Event]) -> None:
    call = events[2]
    assert call["uc.vendor.participants"] == ["abbie.wilkins@contoso.com", "owen.franklin@contoso.com"]
    assert call["user.email"] == "abbie.wilkins@contoso.com"  # organizer_v2 id matched in participants_v2
    assert "event.outcome" not in call  # sessions not expanded: nothing says whether it failed


def test_direct_routing_row(events: list[Event]) -> None:
    row = events[3]
    assert (row["event.outcome"], row["uc.call.direction"], row["uc.call.trunk"]) == (
        "success", "inbound", "tll-audiocodes01.adatum.biz")
    assert (row["uc.call.caller"], row["uc.call.duration"]) == ("+12345678***", 5.0)
    assert "uc.call.caller_number" not in row  # masked: not an E.164 number
    assert "uc.sip.status_code" not in row and row["uc.vendor.finalSipCode"] == 0


def test_event_ids_are_distinct_and_deterministic() -> None:
    """Several events from one record: the pipeline's id (source, offset, index, text) tells them apart."""
    text = sample_lines("ms_teams", "graph_callrecords.jsonl")[0]
    now = datetime(2024, 6, 15, 12, tzinfo=UTC)

    def ids() -> list[str]:
        normalizer = Normalizer(PARSER, host_name=None, agent_name=None)
        docs = normalizer.process(text, RecordMeta("k", "p", 0), ParseContext(), now)
        return [orjson.loads(d)["event"]["id"] for d in docs]

    first = ids()
    assert len(first) == 2 and len(set(first)) == 2 and ids() == first


def test_hostile_input_raises_only_parse_error() -> None:
    ctx = ParseContext(reference_time=datetime(2024, 6, 15, 12, tzinfo=UTC))
    seeds = sample_lines("ms_teams", "graph_callrecords.jsonl")
    inputs = mutated(seeds, '{}[]":,0123456789.-PTSZ \\nulltruefalse', 20240305)
    inputs += [line.encode()[: n].decode("utf-8", "replace") for line in seeds for n in range(0, len(line), 97)]
    mb = 1_000_000
    for char in '{}[]":,\\':
        inputs += [char * mb, '{"id":"x","sessions":[' + char * mb + "]}"]
    inputs += [
        '{"value":[' + '{"id":"a","type":"groupCall","startDateTime":"2024-01-01T00:00:00Z","sessions":[{}]},' * 20000
        + "{}]}",
        '{"id":"x","type":"peerToPeer","endDateTime":"9999-12-31T23:59:59-05:00"}',
        '{"id":"x","startDateTime":"0001-01-01T00:00:00+05:00","modalities":[]}',
        '{"id":"x","endDateTime":"2024-01-01T00:00:00Z","sessions":[{"segments":[{"media":[{"streams":'
        '[{"averageJitter":"P99999999DT99999999H","averageRoundTripTime":"PT'
        + "9" * 12 + "." + "9" * 12 + 'S"}]}]}]}]}',
        '{"id":"x","endDateTime":"2024-01-01T00:00:00Z","sessions":[{"segments":[{"media":[{"callerNetwork":'
        '{"ipAddress":"999.1.1.1","port":70000,"reflexiveIPAddress":"fe80::1%eth0"}}]}]}]}',
        '{"@odata.context":"callRecords(\'' + "'" * 200 + "')/sessions\",\"value\":[{}]}",
        "\ufffd" * 1000 + '{"id":"\ufffd"}',
    ]
    assert_only_parse_error(PARSER, inputs, ctx)


def test_odd_values_never_reach_schema_fields() -> None:
    """Bad addresses, ports, far dates and huge durations are dropped or kept as vendor text: the
    pipeline never turns them into invalid_event or parser_exception dead letters."""
    now = datetime(2024, 6, 15, 12, tzinfo=UTC)
    texts = [
        '{"id":"x","endDateTime":"2024-01-01T00:00:00Z","sessions":[{"segments":[{"media":[{"label":"main-audio",'
        '"callerNetwork":{"ipAddress":"999.1.1.1","port":70000,"reflexiveIPAddress":"fe80::1%eth0"},"streams":'
        '[{"averageJitter":"P99999999DT99999999H"}]}]}]}]}',
        '{"id":"x","type":"peerToPeer","endDateTime":"9999-12-31T23:59:59-05:00"}',
        '{"id":"x","startDateTime":"2024-01-02T00:00:00Z","endDateTime":"2024-01-01T00:00:00Z","modalities":[]}',
    ]
    for text in texts:
        normalizer = Normalizer(PARSER, host_name=None, agent_name=None)
        docs = [orjson.loads(d) for d in normalizer.process(text, RecordMeta("k", "p", 0), ParseContext(), now)]
        assert docs
        for doc in docs:
            assert doc.get("error", {}).get("type") not in ("invalid_event", "parser_exception"), doc
    segment_text = texts[0]
    events = PARSER.parse(RawRecord(segment_text), ParseContext())
    leg = events[1]
    assert "ip" not in leg.get("source", {}) and leg["uc"]["vendor"]["callerNetwork.ipAddress"] == "999.1.1.1"
