"""Every built-in parser against its golden files (UCSIEM_GENERATE=1 rewrites the expected files)."""

from pathlib import Path

import pytest

from ucsiem.goldens import check_case, find_cases
from ucsiem.parsing.registry import load_registry

REGISTRY = load_registry(entry_point_plugins=False)
CASES = [
    pytest.param(p.spec, case, id=f"{p.spec.id}/{case.name}")
    for p in REGISTRY.all()
    if p.folder is not None
    for case in find_cases(p.folder)
]


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
