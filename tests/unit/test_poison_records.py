"""A poison record must never stop the pipeline: values beyond what the schema can carry, events that
cannot be serialized and records that give too many events all become dead letters for that record,
and the records around them are shipped as usual."""

from __future__ import annotations

import typing
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from pydantic import BaseModel, ValidationError

from ucsiem.normalize import MAX_ORIGINAL_CHARS_PER_RECORD, Normalizer, RecordMeta
from ucsiem.parsing.contract import ParseContext, ParsedEvent, ParserSpec, RawRecord
from ucsiem.parsing.registry import load_registry
from ucsiem.schema.event import LONG_MAX, LONG_MIN, UCEvent, field_paths
from ucsiem.schema.fast import dump_event, validate_event

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _is_int(annotation: Any) -> bool:
    args = typing.get_args(annotation)
    if annotation is int:
        return True
    if typing.get_origin(annotation) is typing.Annotated:
        return _is_int(args[0])
    if typing.get_origin(annotation) is dict:  # uc.vendor: big numbers are kept as text (tested below)
        return False
    return any(_is_int(a) for a in args if not (isinstance(a, type) and issubclass(a, BaseModel)))


def integer_fields() -> list[str]:
    """Every integer leaf of the schema (dotted), found from the models: a new one is covered at once."""
    return [path for path, info in field_paths() if _is_int(info.annotation)]


def nested(path: str, value: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"@timestamp": NOW}
    node = event
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return event


def test_the_integer_fields_are_found() -> None:
    fields = integer_fields()
    assert {"event.duration", "log.offset", "http.response.bytes", "uc.media.packets_in", "process.pid"} <= set(fields)
    assert "uc.vendor" not in fields and "message" not in fields


@pytest.mark.parametrize("path", integer_fields())
@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30])
def test_every_integer_field_refuses_what_does_not_fit_64_bits(path: str, value: int) -> None:
    with pytest.raises(ValidationError):
        validate_event(nested(path, value))
    with pytest.raises(ValidationError):
        UCEvent.model_validate(nested(path, value))


@pytest.mark.parametrize("path", integer_fields())
def test_every_integer_field_fed_out_of_range_gives_a_dead_letter_not_an_exception(path: str) -> None:
    normalizer = Normalizer(spec_with(lambda r, c: [nested(path, 2**63)]), host_name=None, agent_name=None)
    [doc] = normalizer.process("line", RecordMeta("k", "p", 0), ParseContext(), NOW)
    event = orjson.loads(doc)
    assert event["event"]["kind"] == "pipeline_error"
    assert event["error"]["type"] == "bad_field"
    assert path in event["error"]["message"]


@pytest.mark.parametrize("path", integer_fields())
def test_the_64_bit_limits_themselves_are_kept(path: str) -> None:
    low, high = LONG_MIN, LONG_MAX
    for value in (low, high):
        event = nested(path, value)
        try:
            valid = validate_event(event)
        except ValidationError:
            continue  # a narrower range of its own (ports, status codes, ge=0): covered above
        assert str(value).encode() in dump_event(valid)


def test_a_vendor_number_beyond_64_bits_is_kept_as_its_digits() -> None:
    event = nested("uc.vendor", {"TransmitBytes": 99999999999999999999, "small": 5})
    assert orjson.loads(dump_event(validate_event(event)))["uc"]["vendor"] == {
        "TransmitBytes": "99999999999999999999", "small": 5}
    assert UCEvent.model_validate(event).uc.vendor == {  # type: ignore[union-attr]
        "TransmitBytes": "99999999999999999999", "small": 5}


def test_infinite_and_nan_floats_are_refused_not_written_as_null() -> None:
    for value in (float("inf"), float("nan")):
        with pytest.raises(ValidationError):
            validate_event(nested("uc.media.jitter_ms", value))


def spec_with(parse: Any) -> ParserSpec:
    return ParserSpec(id="t", version="1", description="", vendor="V", product="P", observer_type="pbx",
                      dataset="v.p", parse=parse)


def test_cisco_cube_counter_beyond_64_bits_gives_an_event() -> None:
    """The line that stopped the agent: TransmitBytes of 20 digits."""
    spec = load_registry().get("cisco_cube").spec
    line = ("Jun 14 11:15:02.983: %VOIPAAA-5-VOIP_CALL_HISTORY: CallLegType 1, ConnectionId BA55719E F8C10015 0 "
            "1B1E08, SetupTime 11:14:41.683 UTC Fri Jun 14 2024, PeerAddress 2887, DisconnectCause 10  , "
            "TransmitPackets 1510, TransmitBytes 99999999999999999999, ReceivePackets 1509, ReceiveBytes 138828")
    docs = Normalizer(spec, host_name=None, agent_name=None).process(
        line, RecordMeta("k", "p", 0), ParseContext(reference_time=NOW), NOW)
    assert len(docs) >= 1
    kinds = [orjson.loads(d)["event"]["kind"] for d in docs]
    assert all(kind in ("event", "pipeline_error") for kind in kinds)


def test_teams_call_ending_in_year_6020_is_a_dead_letter_not_a_crash() -> None:
    """endDateTime in 6020: event.duration in ns is beyond 64 bits."""
    spec = load_registry().get("ms_teams_callrecords").spec
    record = {"id": "0f4c5a3e-1b2d-4c6e-8a9b-0d1e2f3a4b5c", "version": 1, "type": "peerToPeer",
              "modalities": ["audio"], "lastModifiedDateTime": "2024-03-05T10:22:24Z",
              "startDateTime": "2024-03-05T10:14:21Z", "endDateTime": "6020-03-05T10:14:46Z"}
    docs = Normalizer(spec, host_name=None, agent_name=None).process(
        orjson.dumps(record).decode(), RecordMeta("k", "p", 0), ParseContext(reference_time=NOW), NOW)
    events = [orjson.loads(d) for d in docs]
    assert events, "the record must be accounted for"
    errors = [e for e in events if e["event"]["kind"] == "pipeline_error"]
    assert errors and errors[0]["error"]["type"] == "bad_field"
    assert "event.duration" in errors[0]["error"]["message"]


def test_a_time_out_of_range_is_bad_timestamp() -> None:
    far_east = timezone(timedelta(hours=5))

    def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
        return [{"@timestamp": datetime(1, 1, 1, tzinfo=far_east)}]

    [doc] = Normalizer(spec_with(parse), host_name=None, agent_name=None).process(
        "line", RecordMeta("k", "p", 0), ParseContext(), NOW)
    event = orjson.loads(doc)
    assert event["event"]["kind"] == "pipeline_error"
    assert event["error"]["type"] == "bad_timestamp"


def test_an_event_that_cannot_be_serialized_is_a_dead_letter_and_its_siblings_ship() -> None:
    """A lone surrogate passes str validation but orjson refuses to write it."""
    def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
        return [{"@timestamp": NOW, "message": "ok 1"}, {"@timestamp": NOW, "message": "bad \ud800"},
                {"@timestamp": NOW, "message": "ok 2"}]

    normalizer = Normalizer(spec_with(parse), host_name=None, agent_name=None)
    docs = normalizer.process("three events", RecordMeta("k", "p", 0), ParseContext(), NOW)
    events = [orjson.loads(d) for d in docs]
    assert [e["event"]["kind"] for e in events] == ["event", "pipeline_error", "event"]
    assert events[1]["error"]["type"] == "invalid_event"
    assert "serialized" in events[1]["error"]["message"]
    assert len({e["event"]["id"] for e in events}) == 3  # a dead letter does not reuse a sibling's id
    assert normalizer.counters.events == 2 and normalizer.counters.errors == {"invalid_event": 1}


def test_a_dead_letter_with_odd_text_still_serializes() -> None:
    def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
        raise ValueError("boom \udcff")

    [doc] = Normalizer(spec_with(parse), host_name=None, agent_name=None).process(
        "text \udcfe", RecordMeta("k", "p\udcfd", 0), ParseContext(), NOW)
    event = orjson.loads(doc)
    assert event["event"]["kind"] == "pipeline_error" and event["error"]["type"] == "parser_exception"


def hostile_page(objects: int) -> str:
    """One record: a 1 MiB JSON array of small objects (the amplification attack)."""
    return orjson.dumps([{"n": i, "pad": "x" * 60} for i in range(objects)]).decode()


def explode(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    return [{"@timestamp": NOW, "message": str(item["n"])} for item in orjson.loads(record.text)]


def test_one_record_gives_at_most_max_events_the_rest_is_one_counted_dead_letter() -> None:
    text = hostile_page(12_000)
    normalizer = Normalizer(spec_with(explode), host_name=None, agent_name=None, max_events_per_record=5_000)
    docs = normalizer.process(text, RecordMeta("k", "p", 0), ParseContext(), NOW)
    assert len(docs) == 5_001
    last = orjson.loads(docs[-1])
    assert last["error"]["type"] == "too_many_events"
    assert "12000 events" in last["error"]["message"] and "7000 were not" in last["error"]["message"]
    assert normalizer.counters.events == 5_000 and normalizer.counters.errors == {"too_many_events": 1}
    assert len({orjson.loads(d)["event"]["id"] for d in docs}) == 5_001


def test_keep_original_is_bounded_per_record_not_copied_into_every_event() -> None:
    text = hostile_page(12_000)
    assert len(text) > 900_000
    normalizer = Normalizer(spec_with(explode), host_name=None, agent_name=None, keep_original=True)
    docs = normalizer.process(text, RecordMeta("k", "p", 0), ParseContext(), NOW)
    assert len(docs) == 10_001  # the default cap, plus the dead letter saying so
    originals = sum(len(orjson.loads(d)["event"].get("original", "")) for d in docs[:-1])
    # before: 65,536 characters in each of 10,000 events (655 MB); now the record's copies share 1 MiB
    assert originals <= MAX_ORIGINAL_CHARS_PER_RECORD
    assert sum(len(d) for d in docs) < 8 * 1_048_576
