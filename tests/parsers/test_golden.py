"""Every built-in parser against its golden files (UCSIEM_GENERATE=1 rewrites the expected files)."""

import copy
import dataclasses
from pathlib import Path

import pytest

from ucsiem.goldens import check_case, find_cases, run_case_events
from ucsiem.parsing.registry import load_registry

REGISTRY = load_registry(entry_point_plugins=False)
CASE_FILES = [(p.spec, case) for p in REGISTRY.all() if p.folder is not None for case in find_cases(p.folder)]
CASES = [pytest.param(spec, case, id=f"{spec.id}/{case.name}") for spec, case in CASE_FILES]


@pytest.mark.parametrize(("spec", "case"), CASES)
def test_golden(spec: object, case: Path) -> None:
    from ucsiem.parsing.contract import ParserSpec

    assert isinstance(spec, ParserSpec)
    result = check_case(spec, case)
    assert result.ok, f"{case}:\n{result.detail}"


def test_every_parser_has_golden_and_fail_cases() -> None:
    for loaded in REGISTRY.all():
        assert loaded.folder is not None
        cases = find_cases(loaded.folder)
        assert any(not c.name.endswith("-fail.log") for c in cases), f"{loaded.spec.id}: no golden case"
        assert any(c.name.endswith("-fail.log") for c in cases), f"{loaded.spec.id}: no negative case"


@pytest.mark.parametrize(("spec", "case"), [pytest.param(spec, case, id=f"{spec.id}/{case.name}")
                                            for spec, case in CASE_FILES if not case.name.endswith("-fail.log")])
def test_parsers_return_events_without_empty_values(spec: object, case: Path) -> None:
    """What a parser returns is already pruned (`prune` would change nothing), whether it calls `prune` or,
    as the hot parsers do to save its walk, writes only the values present."""
    from ucsiem.parsing import prune
    from ucsiem.parsing.contract import ParseContext, ParsedEvent, ParserSpec, RawRecord

    assert isinstance(spec, ParserSpec)
    returned: list[ParsedEvent] = []

    def recording(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
        events = spec.parse(record, ctx)
        returned.extend(copy.deepcopy(events))  # validation may change the events it is given
        return events

    run_case_events(dataclasses.replace(spec, parse=recording), case)
    assert returned
    for event in returned:
        assert prune(event) == event
