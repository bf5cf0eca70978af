"""Golden `-fail` cases compare each record's offset and error code, not the human message (issue 12)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from ucsiem.goldens import check_case
from ucsiem.parsing.contract import ParserSpec
from ucsiem.parsing.registry import load_plugin_folder
from ucsiem.scaffold import scaffold


def _plugin(tmp_path: Path) -> tuple[ParserSpec, Path]:
    folder = scaffold("acme_pbx", tmp_path)
    case = folder / "tests" / "garbage-fail.log"
    case.write_text("this is not a record of this source\nnor is this\n")
    spec = load_plugin_folder(folder).spec
    assert check_case(spec, case, generate=True).generated
    return spec, case


def _edit(case: Path, change: Any) -> None:
    expected_path = case.with_name(case.name + "-expected.json")
    events = orjson.loads(expected_path.read_bytes())
    change(events)
    expected_path.write_bytes(orjson.dumps(events, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))


def test_another_message_still_passes(tmp_path: Path) -> None:
    spec, case = _plugin(tmp_path)
    assert check_case(spec, case, generate=False).ok

    def reword(events: list[dict[str, Any]]) -> None:
        for event in events:
            event["error.message"] = "an older wording"
            event["message"] = "acme_pbx: an older wording"

    _edit(case, reword)
    assert check_case(spec, case, generate=False).ok


def test_another_code_fails(tmp_path: Path) -> None:
    spec, case = _plugin(tmp_path)
    _edit(case, lambda events: events[1].update({"error.type": "truncated"}))
    result = check_case(spec, case, generate=False)
    assert not result.ok
    assert "-36 truncated" in result.detail and "+36 no_match" in result.detail, result.detail


def test_another_offset_or_count_fails(tmp_path: Path) -> None:
    spec, case = _plugin(tmp_path)
    _edit(case, lambda events: events[1].update({"log.offset": 37}))
    assert not check_case(spec, case, generate=False).ok
    _edit(case, lambda events: events.pop())
    assert not check_case(spec, case, generate=False).ok


def test_a_fail_case_that_parses_still_fails(tmp_path: Path) -> None:
    spec, case = _plugin(tmp_path)
    case.write_text((case.parent / "sample.log").read_text())
    result = check_case(spec, case, generate=False)
    assert not result.ok and "parsed into normal events" in result.detail
