"""The ms_teams_callrecords parser on Microsoft's Graph examples (`shared/samples/ms_teams/graph_callrecords.jsonl`).

The samples are the documentation's response bodies: a callRecord expanded with sessions and segments,
one expanded with participants, and a getDirectRoutingCalls page. Every document must become events
(no pipeline error), each event derived from a callRecord must carry its id, and event ids must be
distinct and stable.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.parsers.samplehelp import (
    REFERENCE_TIME,
    Event,
    assert_no_pipeline_errors,
    assert_only_parse_error,
    builtin_parser,
    mutated,
    sample_events,
    sample_files,
    sample_lines,
)
from ucsiem.normalize import Normalizer, RecordMeta
from ucsiem.parsing.contract import ParseContext, RawRecord

PARSER = builtin_parser("ms_teams_callrecords")
CALL_ID = "e523d2ed-2966-4b6b-925b-754a88034cc5"


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return sample_events(PARSER, sample_files("ms_teams", "graph_callrecords.jsonl"))


def test_every_sample_document_is_events_without_errors(events: list[Event]) -> None:
    assert_no_pipeline_errors(events)
    # line 1: call + one segment; line 2: call (participants, no sessions); line 3: one Direct Routing row
    assert [(e["log.offset"] > 0, e["event.action"], e["event.code"]) for e in events] == [
        (False, "call-end", "peerToPeer"), (False, "media-end", "segment"),
        (True, "call-end", "peerToPeer"), (True, "call-end", "ByotIn")]


def test_call_record_and_its_segment(events: list[Event]) -> None:
    call, segment = events[0], events[1]
    assert call["uc.call.id"] == segment["uc.call.id"] == CALL_ID  # regroupable
    assert call["@timestamp"] == "2020-02-25T18:52:46.764001Z"
    assert call["event.duration"] == 25_547_013_000 and call["event.outcome"] == "success"
    # first join to last leave: event.start/end, not call connect/end times
    assert (call["event.start"], call["event.end"]) == ("2020-02-25T18:52:21.216988Z", "2020-02-25T18:52:46.764001Z")
    assert (segment["event.start"], segment["event.end"]) == (call["event.start"], call["event.end"])
    assert not [k for e in (call, segment) for k in e if k in ("uc.call.connect_time", "uc.call.end_time")]
    assert (call["user.id"], call["user.full_name"]) == ("821809f5-0000-0000-0000-3b5136c0e777", "Abbie Wilkins")
    # the organizer's tenant, and the caller's on the segment (the callee's stays vendor)
    assert call["organization.id"] == segment["organization.id"] == "dc368399-474c-4d40-900c-6265431fd81f"
    assert segment["uc.vendor.callee.tenantId"] == "dc368399-474c-4d40-900c-6265431fd81f"
    assert not [k for e in (call, segment) for k in e if k in ("uc.vendor.organizer.tenantId",
                                                               "uc.vendor.caller.tenantId")]
    assert (segment["source.ip"], segment["uc.media.jitter_ms"], segment["uc.media.type"]) == (
        "10.150.0.2", 16.0, "audio")
    assert (segment["uc.call.caller"], segment["uc.call.callee"]) == (
        "abbie.wilkins@contoso.com", "owen.franklin@contoso.com")
    assert (segment["source.user.name"], segment["source.user.domain"]) == ("abbie.wilkins", "contoso.com")
    assert segment["user_agent.original"].startswith("RTCC/7.0.0.0 UCWA/7.0.0.0 AndroidLync/")
    assert segment["uc.vendor.callee.feedback.rating"] == "poor"
    assert segment["uc.vendor.main-audio.callerToCallee.averageJitter"] == "PT0.016S"
    # averageAudioDegradation is null and no loss rate is given: no figure, no NAT address
    assert not [k for k in segment if k.startswith(("uc.media.mos_degradation", "uc.media.packet_loss_rate",
                                                    "source.nat.", "destination.nat."))]


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
    # invite = setup, start = connect (a successful call); the span is event.start/end
    assert (row["uc.call.setup_time"], row["uc.call.connect_time"], row["event.start"], row["event.end"]) == (
        "2019-11-01T00:00:21.949000Z", "2019-11-01T00:00:25.105000Z", "2019-11-01T00:00:25.105000Z",
        "2019-11-01T00:00:30.105000Z")
    assert "uc.call.end_time" not in row


def test_event_ids_are_distinct_and_deterministic() -> None:
    """Several events from one record: the pipeline's id (source, offset, index, text) tells them apart."""
    text = sample_lines("ms_teams", "graph_callrecords.jsonl")[0]
    now = REFERENCE_TIME

    def ids() -> list[str]:
        normalizer = Normalizer(PARSER, host_name=None, agent_name=None)
        docs = normalizer.process(text, RecordMeta("k", "p", 0), ParseContext(), now)
        return [orjson.loads(d)["event"]["id"] for d in docs]

    first = ids()
    assert len(first) == 2 and len(set(first)) == 2 and ids() == first


def test_hostile_input_raises_only_parse_error() -> None:
    ctx = ParseContext(reference_time=REFERENCE_TIME)
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
    now = REFERENCE_TIME
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


def test_reflexive_address_and_quality_figures() -> None:
    """The public (reflexive) address is the endpoint's NAT address, in related.ip; loss rate and MOS
    degradation take the worse direction, and values outside their scale never reach uc.media."""
    now = REFERENCE_TIME

    def segment(streams: str) -> dict[str, Any]:
        text = ('{"id":"x","endDateTime":"2024-01-01T00:00:00Z","sessions":[{"segments":[{"media":[{"label":'
                '"main-audio","callerNetwork":{"ipAddress":"192.0.2.10","reflexiveIPAddress":"203.0.113.10"},'
                '"calleeNetwork":{"ipAddress":"192.0.2.77","reflexiveIPAddress":"not-an-ip"},"streams":['
                + streams + "]}]}]}]}")
        docs = Normalizer(PARSER, host_name=None, agent_name=None).process(
            text, RecordMeta("k", "p", 0), ParseContext(), now)
        leg: dict[str, Any] = orjson.loads(docs[1])
        assert leg["event"]["action"] == "media-end", leg
        return leg

    leg = segment('{"averagePacketLossRate":0.01,"averageAudioDegradation":0.4},'
                  '{"averagePacketLossRate":0.2,"averageAudioDegradation":1.5}')
    assert leg["source"]["nat"] == {"ip": "203.0.113.10"} and "nat" not in leg["destination"]
    assert leg["related"]["ip"] == ["192.0.2.10", "203.0.113.10", "192.0.2.77"]
    assert (leg["uc"]["media"]["packet_loss_rate"], leg["uc"]["media"]["mos_degradation"]) == (0.2, 1.5)
    assert "callerNetwork.reflexiveIPAddress" not in leg["uc"]["vendor"]
    odd = segment('{"averagePacketLossRate":-0.5,"averageAudioDegradation":99},'
                  '{"averagePacketLossRate":1.5,"averageAudioDegradation":-1}')
    assert "packet_loss_rate" not in odd["uc"]["media"] and "mos_degradation" not in odd["uc"]["media"]
    assert odd["uc"]["vendor"]["main-audio.stream0.averagePacketLossRate"] == -0.5  # kept as written
