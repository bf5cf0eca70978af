"""The ribbon_sonus_sbc parser on the published Ribbon records (`shared/samples/ribbon_sonus_sbc/`).

The three real records (START, STOP, ATTEMPT of one SBC) must each become one event with the fields
taken from Ribbon's documented field numbers, and hostile input may only raise ParseError.
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
    sample_events,
    sample_files,
    sample_lines,
    text_lines,
)
from ucsiem.parsing.contract import ParseContext, RawRecord

PARSER = builtin_parser("ribbon_sonus_sbc")
FILES = sample_files("ribbon_sonus_sbc")
CTX = ParseContext(reference_time=REFERENCE_TIME)


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return sample_events(PARSER, FILES)


@each_file(FILES)
def test_every_sample_record_is_an_event(path: Path) -> None:
    assert_every_record_is_an_event(PARSER, path, text_lines([path]))


def test_actions_outcomes_and_causes(events: list[Event]) -> None:
    got = [(e["event.code"], e["event.action"], e["event.outcome"], e.get("uc.call.disconnect_cause"))
           for e in events]
    assert got == [("START", "call-start", "success", None), ("STOP", "call-end", "success", "16"),
                   ("ATTEMPT", "call-reject", "failure", "21")]
    assert [e.get("event.reason") for e in events] == [None, "NORMAL ROUTE CLEARING", "CALL REJECTED"]


def test_addresses_numbers_and_trunks(events: list[Event]) -> None:
    start, stop, attempt = events
    assert [e.get("source.ip") for e in events] == ["10.158.10.170", "10.158.10.170", "10.158.140.130"]
    assert [e.get("destination.ip") for e in events] == [None, None, "10.158.10.170"]  # 0.0.0.0 = not known
    assert (attempt["uc.call.caller"], attempt["uc.call.callee"]) == ("15307520010", "5307520014")
    assert [e["uc.call.trunk"] for e in events] == ["NBS_TRUSTED_ABCASX1", "NBS_TRUSTED_ABCASX1",
                                                     "NBSPUBSIP_ON_SIF93"]
    assert attempt["uc.call.route"] == "ABC_TOASX"
    assert [e["uc.call.id"] for e in events] == ["0x00020002", "0x00020002", "0x00020000"]  # GCID
    assert start["uc.call.leg_id"] == stop["uc.call.leg_id"] == "0x0001042B00000012"
    assert attempt["uc.sip.call_id"] == "f86fbb68-b4d047e1-a24212c6@10.158.140.130"
    assert attempt["uc.vendor.reason_sent_to_ingress"] == "401"
    assert stop["uc.call.disconnect_side"] == "called_party"


def test_times_durations_in_node_time_zone(events: list[Event]) -> None:
    start, stop, attempt = events
    assert start["uc.call.setup_time"] == "2013-02-23T01:02:12.500000Z"  # 17:02:12.5 at GMT-08:00
    assert start["@timestamp"] == start["uc.call.connect_time"] == "2013-02-23T01:02:17.610000Z"  # +511 ticks
    assert stop["@timestamp"] == stop["uc.call.end_time"] == "2013-02-23T01:02:20.700000Z"
    assert (stop["uc.call.duration"], stop["event.duration"]) == (3.06, 3_060_000_000)  # 306 x 10 ms
    assert attempt["@timestamp"] == "2013-02-23T01:02:11.800000Z"


def test_unmapped_record_type_is_a_diagnostic() -> None:
    (event,) = PARSER.parse(RawRecord("INTERMEDIATE,SBC1,0x0001042B00000012"), CTX)
    assert (event["event"]["action"], event["event"]["code"]) == ("diagnostic", "INTERMEDIATE")


def test_hostile_input_raises_only_parse_error() -> None:
    seeds = sample_lines("ribbon_sonus_sbc")
    inputs = mutated(seeds, ',";:/.0123456789 ABCSTOPRT%x\x00\n', 20240305)
    mb = 1_000_000
    stop = seeds[1]
    inputs += [
        "STOP" + "," * mb,
        'STOP,"' + '"' * mb,
        "START," + ";" * mb,
        stop.replace('"SIP,', '"SIP' + "," * mb, 1),
        stop.replace('"SIP,', '"' + ";" * mb, 1),
        stop[: len(stop) // 2],
        stop.encode("utf-8").decode("ascii", "replace").replace("S", "\ufffd", 3),
        "\ufffd" * mb,
        "ATTEMPT," + ":" * mb,
    ]
    assert_only_parse_error(PARSER, inputs, CTX)
