"""Fuzzing fails when a parser emits an event the schema rejects (issue 12).

`test_fuzz.check` asserts that only ParseError escapes `parse` and that the normalizer gives bytes. The
normalizer never raises: an event that does not fit the schema becomes an `invalid_event` dead letter, so a
parser bug of that kind passed the fuzz tests silently (`test_the_old_check_lets_a_schema_invalid_event_pass`
shows it). `strict_check` below looks at what comes out: every document is either an event that validates
against the schema, or a dead letter whose `error.type` is a ParseError code, the codes a record's *content*
can cause (`no_match`, `bad_timestamp`, `bad_field`, `truncated`, `unsupported_variant`; the normalizer also
gives `bad_timestamp`/`bad_field` for out-of-range values, the source's fault by design). `invalid_event`,
`parser_exception`, `pipeline_exception` and `too_many_events` on fuzzed input are parser or pipeline bugs and
fail the test, with the input and the reason.

Every parser of the registry is fuzzed (the parametrization is the registry, built-ins without plugins), with
the inputs of `test_fuzz`: arbitrary bytes, real golden lines cut or with something inserted, and digits of
other scripts; fewer examples each, since `test_fuzz` already covers the "does not raise" half.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.parsers.test_fuzz import _ODD_DIGITS, PARSERS, check, golden_lines
from ucsiem.errors import ParseError, ParseErrorCode
from ucsiem.normalize import Normalizer, RecordMeta
from ucsiem.parsing.contract import ParseContext, ParsedEvent, ParserSpec, RawRecord
from ucsiem.parsing.registry import LoadedParser, load_registry
from ucsiem.schema.fast import validate_event

NOW = datetime(2024, 6, 15, 12, tzinfo=UTC)
KNOWN_CODES = frozenset(get_args(ParseErrorCode))
REPO = Path(__file__).resolve().parents[2]


def strict_check(spec: ParserSpec, text: str) -> None:
    """`text` through `spec` and the normalizer: only valid events and dead letters of known codes come out."""
    try:
        spec.parse(RawRecord(text, 0, "fuzz.log"), ParseContext(reference_time=NOW))
    except ParseError as exc:
        assert exc.code in KNOWN_CODES
    # any other exception escapes here and fails the test (the parser raised something else than ParseError)
    normalizer = Normalizer(spec, host_name=None, agent_name=None)
    docs = normalizer.process(text, RecordMeta("k", "fuzz.log", 0), ParseContext(reference_time=NOW), NOW)
    for doc in docs:
        event: dict[str, Any] = orjson.loads(doc)
        if event.get("event", {}).get("kind") == "pipeline_error":
            code = event["error"]["type"]
            assert code in KNOWN_CODES, (f"parser {spec.id} on {text[:300]!r} gave a {code} dead letter: "
                                         f"{event['error']['message'][:600]}")
            assert event["event"]["original"] == text[:65_536]
            continue
        try:
            validate_event(event)
        except ValidationError as exc:  # the normalizer let through what the schema refuses
            raise AssertionError(f"parser {spec.id} on {text[:300]!r} shipped an event the schema refuses: "
                                 f"{exc}") from None
    assert set(normalizer.counters.errors) <= KNOWN_CODES, normalizer.counters.errors


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("loaded", PARSERS, ids=lambda p: p.spec.id)
@FUZZ
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes_give_valid_events_or_known_dead_letters(loaded: LoadedParser, data: bytes) -> None:
    strict_check(loaded.spec, data.decode("utf-8", "replace"))


@pytest.mark.parametrize("loaded", PARSERS, ids=lambda p: p.spec.id)
@FUZZ
@given(data=st.data())
def test_mutated_real_lines_give_valid_events_or_known_dead_letters(loaded: LoadedParser,
                                                                     data: st.DataObject) -> None:
    line = data.draw(st.sampled_from(golden_lines(loaded)))
    cut = data.draw(st.integers(0, len(line)))
    junk = data.draw(st.text(max_size=40))
    where = data.draw(st.integers(0, len(line)))
    strict_check(loaded.spec, line[:cut])
    strict_check(loaded.spec, line[:where] + junk + line[where:])


@pytest.mark.parametrize("loaded", PARSERS, ids=lambda p: p.spec.id)
@FUZZ
@given(data=st.data())
def test_digits_of_other_scripts_give_valid_events_or_known_dead_letters(loaded: LoadedParser,
                                                                          data: st.DataObject) -> None:
    line = data.draw(st.sampled_from(golden_lines(loaded)))
    digits = [i for i, ch in enumerate(line) if ch.isascii() and ch.isdigit()]
    if not digits:
        return
    where = data.draw(st.sampled_from(digits))
    strict_check(loaded.spec, line[:where] + data.draw(st.sampled_from(_ODD_DIGITS)) + line[where + 1:])


@pytest.mark.parametrize("loaded", PARSERS, ids=lambda p: p.spec.id)
def test_real_lines_as_they_are_give_valid_events_or_known_dead_letters(loaded: LoadedParser) -> None:
    for line in golden_lines(loaded):
        strict_check(loaded.spec, line)


def test_every_parser_of_the_repository_is_fuzzed() -> None:
    folders = {p.parent.name for p in (REPO / "parsers").glob("*/__init__.py")}
    fuzzed = {p.spec.id for p in PARSERS}
    assert folders == fuzzed and len(fuzzed) >= 21
    assert {p.spec.id for p in load_registry(entry_point_plugins=False).all()} == fuzzed


# --- the harness itself: a parser emitting what the schema refuses fails it --------------------------------------


def _first_real(loaded: LoadedParser) -> tuple[ParserSpec, str, ParsedEvent]:
    """A parser and one of its golden lines that gives an event."""
    spec = loaded.spec
    for line in golden_lines(loaded):
        try:
            events = spec.parse(RawRecord(line, 0, "fuzz.log"), ParseContext(reference_time=NOW))
        except ParseError:
            continue
        if events:
            return spec, line, events[0]
    raise AssertionError(f"no golden line of {spec.id} gives an event")


BROKEN = next(p for p in PARSERS if p.spec.id == "cisco_expressway")


def broken_parser(change: dict[str, Any]) -> tuple[ParserSpec, str]:
    """The Expressway parser, changed to emit its event with `change` merged in (a parser bug)."""
    spec, line, _ = _first_real(BROKEN)
    parse = spec.parse

    def bad_parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
        events = parse(record, ctx)
        for event in events:
            for key, value in change.items():
                node: dict[str, Any] = event
                *parents, leaf = key.split(".")
                for part in parents:
                    node = node.setdefault(part, {})
                node[leaf] = value
        return events

    return dataclasses.replace(spec, parse=bad_parse), line


@pytest.mark.parametrize("change", [
    {"source.ip": "not an address"},
    {"event.outcome": "maybe"},
    {"uc.no_such_field": 1},
    {"source.port": "eighty"},
], ids=["bad-ip", "bad-enum", "unknown-field", "string-port"])
def test_a_parser_emitting_an_event_the_schema_refuses_fails_the_fuzz_check(change: dict[str, Any]) -> None:
    spec, line = broken_parser(change)
    with pytest.raises(AssertionError, match=r"gave a invalid_event dead letter: event does not fit the schema"):
        strict_check(spec, line)


def test_the_old_check_lets_a_schema_invalid_event_pass() -> None:
    """What this file adds: `test_fuzz.check` accepts the broken parser (its event silently became a dead
    letter), `strict_check` does not."""
    spec, line = broken_parser({"source.ip": "not an address"})
    check(spec, line)
    with pytest.raises(AssertionError):
        strict_check(spec, line)


def test_the_unbroken_parser_passes_the_check() -> None:
    spec, line, _ = _first_real(BROKEN)
    strict_check(spec, line)


def test_a_parser_raising_something_else_than_parse_error_fails_the_check() -> None:
    spec, line, _ = _first_real(BROKEN)

    def raising(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        strict_check(dataclasses.replace(spec, parse=raising), line)
