"""What every parser's sample test needs: the built-in parser, the shared sample files and the golden cases,
the "every record is one event, none a pipeline error" checks, hostile input."""

from __future__ import annotations

import contextlib
import importlib
import random
import re
import subprocess
import sys
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ucsiem.errors import ParseError
from ucsiem.goldens import run_case_events
from ucsiem.parsing.contract import ParseContext, ParserSpec, RawRecord

Event = dict[str, Any]
"""One event as `run_case_events` gives it: flattened dotted field names."""

REPO = Path(__file__).resolve().parents[2]
SHARED_SAMPLES = REPO.parent / "shared" / "samples"
GEN_CORPUS = REPO.parent / "shared" / "bench" / "gen_corpus.py"

REFERENCE_TIME = datetime(2024, 6, 15, 12, tzinfo=UTC)
"""The goldens' default "now" (15 June 2024, noon UTC): year-less stamps take their year from it."""


def builtin_parser(parser_id: str) -> ParserSpec:
    # Imported by name: type checkers cannot follow setup.py's `parsers/` -> `ucsiem_parsers` mapping.
    spec = getattr(importlib.import_module(f"ucsiem_parsers.{parser_id}"), "PARSER", None)
    assert isinstance(spec, ParserSpec)
    return spec


def header_key_of(parser: ParserSpec) -> Callable[[bytes], str | None]:
    """The parser's header-line recogniser (CSV/CDR/W3C parsers have one)."""
    assert parser.header_key is not None
    return parser.header_key


# --- files and their lines -------------------------------------------------------------------------


def sample_files(product: str, pattern: str = "*.log") -> list[Path]:
    folder = SHARED_SAMPLES / product
    assert folder.is_dir(), f"{folder} is missing: the tests expect shared/ beside the repository"
    files = sorted(folder.glob(pattern))
    assert files, f"no {pattern} in {folder}"
    return files


def golden_dir(parser_id: str) -> Path:
    """The parser's golden cases folder (`parsers/<id>/tests/`)."""
    return REPO / "parsers" / parser_id / "tests"


def text_lines(paths: Iterable[Path]) -> list[str]:
    """The non-empty lines of these files, in order."""
    return [line for p in paths for line in p.read_text(encoding="utf-8").splitlines() if line]


def sample_lines(product: str, pattern: str = "*.log") -> list[str]:
    return text_lines(sample_files(product, pattern))


def golden_lines(parser_id: str, pattern: str = "*.log") -> list[str]:
    """The non-empty lines of the parser's golden case files (sorted by name)."""
    return text_lines(sorted(golden_dir(parser_id).glob(pattern)))


def nonblank_lines(path: Path) -> list[str]:
    """The lines of `path` with something besides white space: the records of a one-line-a-record file."""
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def record_starts(parser: ParserSpec, path: Path) -> list[str]:
    """The lines of `path` that open a record under the parser's multiline framing (`first_line_pattern`)."""
    first = re.compile(parser.framing.first_line_pattern or "")
    return [line for line in path.read_text(encoding="utf-8").splitlines() if first.match(line)]


def line_of(data: bytes, offset: int) -> int:
    """The 1-based line of `data` that byte `offset` is on."""
    return data.count(b"\n", 0, offset) + 1


# --- events ----------------------------------------------------------------------------------------


def each_file(files: Sequence[Path]) -> pytest.MarkDecorator:
    """Parametrizes a test's `path` by these files, each case named by the file name."""
    return pytest.mark.parametrize("path", files, ids=lambda p: p.name)


def sample_events(parser: ParserSpec, files: Iterable[Path]) -> list[Event]:
    """The events of these files, framed and parsed as the agent does, in file order."""
    return [e for path in files for e in run_case_events(parser, path)]


def events_by_line(parser: ParserSpec, path: Path) -> dict[int, Event]:
    """The events of `path` keyed by the 1-based line their record starts on (from `log.offset`)."""
    data = path.read_bytes()
    by_line: dict[int, Event] = {}
    for event in run_case_events(parser, path):
        offset = event["log.offset"]
        assert offset == 0 or data[offset - 1] == 0x0A, f"log.offset {offset} is not the start of a line"
        by_line[line_of(data, offset)] = event
    return by_line


def the_one(found: list[Event], what: object) -> Event:
    """The single event of `found` (the events matching `what`); fails on none or several."""
    assert len(found) == 1, f"{len(found)} events match {what}"
    return found[0]


def pipeline_errors(events: Iterable[Event]) -> list[tuple[Any, Any]]:
    """(log.offset, error.message) of every pipeline_error event: a record the parser refused."""
    return [(e.get("log.offset"), e.get("error.message")) for e in events if e.get("event.kind") == "pipeline_error"]


def assert_no_pipeline_errors(events: Iterable[Event]) -> None:
    errors = pipeline_errors(events)
    assert not errors, errors


def assert_one_event_per_record(events: Sequence[Event], records: Sequence[object],
                                count: int | None = None) -> None:
    """As many events as records; with `count`, exactly that many records too."""
    assert len(events) == len(records), f"{len(events)} events for {len(records)} records"
    if count is not None:
        assert len(records) == count, f"{len(records)} records, {count} expected"


def assert_records_are_events(events: Sequence[Event], records: Sequence[object], count: int | None = None) -> None:
    """Each record became one event, none a pipeline error (`records`: how the test counts them; `count`: how
    many there must be)."""
    assert_no_pipeline_errors(events)
    assert_one_event_per_record(events, records, count)


def assert_every_record_is_an_event(parser: ParserSpec, path: Path, records: Sequence[object],
                                    count: int | None = None) -> list[Event]:
    """`path`, framed and parsed as the agent does: see `assert_records_are_events`. Returns the events."""
    found = run_case_events(parser, path)
    assert_records_are_events(found, records, count)
    return found


def assert_every_line_is_an_event(parser: ParserSpec, path: Path,
                                  not_records: Collection[tuple[str, int]] = ()) -> None:
    """Each non-blank line of `path` starts exactly one event, and the pipeline errors are exactly the lines
    `not_records` excuses ((file name, 1-based line) pairs: lines that are not log records)."""
    events = events_by_line(parser, path)
    errors = {n: e.get("error.message") for n, e in events.items() if e.get("event.kind") == "pipeline_error"}
    assert set(errors) == {n for name, n in not_records if name == path.name}, errors
    lines = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.strip()]
    assert sorted(events) == lines


def bench_corpus_events(parser: ParserSpec, kind: str, out: Path, lines: int = 2000,
                        timeout: float | None = None) -> list[Event]:
    """The events of a benchmark corpus file (`shared/bench/gen_corpus.py --kind <kind>`) written to `out`."""
    subprocess.run([sys.executable, str(GEN_CORPUS), "--kind", kind, "--lines", str(lines), "--out", str(out)],
                   check=True, capture_output=True, timeout=timeout)
    return run_case_events(parser, out)


# --- hostile input ---------------------------------------------------------------------------------


def mutated(seeds: list[str], alphabet: str, seed: int | random.Random, count: int = 2000) -> list[str]:
    """Real lines with a few characters replaced, cut at a random length. (`seed` may be a generator the
    caller goes on drawing from.)"""
    rnd = seed if isinstance(seed, random.Random) else random.Random(seed)
    out: list[str] = []
    for _ in range(count):
        chars = list(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 6)):
            chars[rnd.randrange(len(chars))] = rnd.choice(alphabet)
        out.append("".join(chars)[: rnd.randint(1, len(chars))])
    return out


def truncations(texts: Iterable[str], step: int) -> list[str]:
    """Every `step`-th prefix of each text, from the empty one: records cut short."""
    return [text[:n] for text in texts for n in range(0, len(text), step)]


def assert_only_parse_error(parser: ParserSpec, inputs: list[str], ctx: ParseContext) -> None:
    """Only ParseError escapes `parse`. (Backtracking is checked statically in test_regex_safety.py; a
    hang is caught by the suite's per-test timeout.)"""
    for text in inputs:
        with contextlib.suppress(ParseError):
            events = parser.parse(RawRecord(text), ctx)
            assert isinstance(events, list), text[:80]
