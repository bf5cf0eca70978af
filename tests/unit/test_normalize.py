"""Nothing is silent: parse errors, parser bugs and schema violations all become pipeline_error events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson

from ucsiem.errors import ParseError
from ucsiem.normalize import Normalizer, RecordMeta, event_id
from ucsiem.parsing.contract import ParseContext, ParsedEvent, ParserSpec, RawRecord

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def spec_with(parse: Any) -> ParserSpec:
    return ParserSpec(id="t", version="1", description="", vendor="V", product="P", observer_type="pbx",
                      dataset="v.p", parse=parse)


def run(parse: Any, text: str = "line") -> list[dict[str, Any]]:
    normalizer = Normalizer(spec_with(parse), host_name="h1", agent_name="a1")
    docs = normalizer.process(text, RecordMeta("src", "/var/log/x.log", 42), ParseContext(), NOW)
    return [orjson.loads(d) for d in docs]


def test_event_is_completed_and_time_is_utc() -> None:
    def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
        local = datetime(2024, 5, 1, 9, 0, tzinfo=timezone(timedelta(hours=-5)))
        return [{"@timestamp": local, "source": {"ip": "2001:DB8::1"}, "user": {"name": "alice"},
                 "event": {"action": "admin-login", "outcome": "success"}}]

    [event] = run(parse)
    assert event["@timestamp"] == "2024-05-01T14:00:00Z"
    assert event["source"]["ip"] == "2001:db8::1"  # canonical form
    assert event["related"] == {"ip": ["2001:db8::1"], "user": ["alice"]}
    assert event["event"]["dataset"] == "v.p" and event["event"]["module"] == "v"
    assert event["log"] == {"offset": 42, "file": {"path": "/var/log/x.log"}}
    assert event["observer"] == {"vendor": "V", "product": "P", "type": "pbx"}
    assert event["event"]["id"] == event_id("src", 42, 0, "line")
    assert event["host"] == {"name": "h1"}


def test_parse_error_becomes_pipeline_error_with_original() -> None:
    def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
        raise ParseError("no_match", "not a record")

    [event] = run(parse, "garbage \x00 text")
    assert event["event"]["kind"] == "pipeline_error"
    assert event["event"]["original"] == "garbage \x00 text"
    assert event["error"] == {"type": "no_match", "message": "not a record"}


def test_parser_bug_is_contained() -> None:
    def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
        events: list[ParsedEvent] = []
        return [events[1]]  # IndexError

    [event] = run(parse)
    assert event["error"]["type"] == "parser_exception"
    assert "IndexError" in event["error"]["message"]


def test_schema_violation_is_contained() -> None:
    def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
        return [{"@timestamp": datetime(2024, 1, 1), "source": {"ip": "not-an-ip"}, "bogus": 1,
                 "event": {"action": "made-up"}}]

    [event] = run(parse)
    assert event["error"]["type"] == "invalid_event"
    message = event["error"]["message"]
    for part in ("@timestamp", "source.ip", "bogus", "event.action"):
        assert part in message, message


def test_empty_result_is_a_counted_skip() -> None:
    normalizer = Normalizer(spec_with(lambda r, c: []), host_name=None, agent_name=None)
    assert normalizer.process("header", RecordMeta("s", "p", 0), ParseContext(), NOW) == []
    assert normalizer.counters.skipped == 1


def test_event_ids_are_deterministic_and_distinct() -> None:
    assert event_id("a", 1, 0, "x") == event_id("a", 1, 0, "x")
    assert len({event_id("a", 1, 0, "x"), event_id("b", 1, 0, "x"), event_id("a", 2, 0, "x"),
                event_id("a", 1, 1, "x"), event_id("a", 1, 0, "y")}) == 5
