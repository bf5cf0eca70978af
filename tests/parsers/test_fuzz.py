"""Every parser on hostile input: only ParseError may escape `parse`, and the pipeline never raises."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ucsiem.errors import ParseError
from ucsiem.goldens import find_cases
from ucsiem.normalize import Normalizer, RecordMeta
from ucsiem.parsing import prune
from ucsiem.parsing.contract import ParseContext, ParserSpec, RawRecord
from ucsiem.parsing.registry import LoadedParser, load_registry

PARSERS = load_registry(entry_point_plugins=False).all()
NOW = datetime(2024, 6, 15, 12, tzinfo=UTC)


def golden_lines(loaded: LoadedParser) -> list[str]:
    folder = loaded.folder
    assert folder is not None
    lines: list[str] = []
    for case in find_cases(folder):
        lines.extend(x for x in case.read_text(errors="replace").splitlines() if x.strip())
    return lines or ["x"]


def check(spec: ParserSpec, text: str) -> None:
    try:
        events = spec.parse(RawRecord(text, 0, "fuzz.log"), ParseContext(reference_time=NOW))
    except ParseError:
        pass
    else:
        assert isinstance(events, list)
        assert all(prune(event) == event for event in events)  # no None, "" or {} left in (see test_golden)
    docs = Normalizer(spec, host_name=None, agent_name=None).process(text, RecordMeta("k", "p", 0), ParseContext(), NOW)
    assert all(isinstance(d, bytes) for d in docs)


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("loaded", PARSERS, ids=lambda p: p.spec.id)
@FUZZ
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes(loaded: LoadedParser, data: bytes) -> None:
    check(loaded.spec, data.decode("utf-8", "replace"))


@pytest.mark.parametrize("loaded", PARSERS, ids=lambda p: p.spec.id)
@FUZZ
@given(data=st.data())
def test_mutated_real_lines(loaded: LoadedParser, data: st.DataObject) -> None:
    line = data.draw(st.sampled_from(golden_lines(loaded)))
    cut = data.draw(st.integers(0, len(line)))
    junk = data.draw(st.text(max_size=40))
    where = data.draw(st.integers(0, len(line)))
    check(loaded.spec, line[:cut])  # truncated
    check(loaded.spec, line[:where] + junk + line[where:])  # something inserted


@pytest.mark.parametrize("loaded", PARSERS, ids=lambda p: p.spec.id)
def test_megabyte_lines(loaded: LoadedParser) -> None:
    spec = loaded.spec
    for line in golden_lines(loaded)[:5]:
        check(spec, line + "A" * 1_000_000)
        check(spec, line[: len(line) // 2] + '="' * 300_000)


# Characters str.isdigit() accepts but int() refuses (superscripts), and decimal digits of other
# scripts that \d and int() both accept: a parser must turn each into an event or a ParseError.
_ODD_DIGITS = ("\u00b2", "\u2075", "\u0663", "\U0001d7d7", "\uff17")


@pytest.mark.parametrize("loaded", PARSERS, ids=lambda p: p.spec.id)
@FUZZ
@given(data=st.data())
def test_digits_of_other_scripts(loaded: LoadedParser, data: st.DataObject) -> None:
    line = data.draw(st.sampled_from(golden_lines(loaded)))
    digits = [i for i, ch in enumerate(line) if ch.isascii() and ch.isdigit()]
    if not digits:
        return
    where = data.draw(st.sampled_from(digits))
    odd = data.draw(st.sampled_from(_ODD_DIGITS))
    check(loaded.spec, line[:where] + odd + line[where + 1:])
