"""`ucsiem parsers new ID`: a working plugin to start from (parser, sample, expected output, test)."""

from __future__ import annotations

from pathlib import Path

from ucsiem.errors import PluginError
from ucsiem.parsing.contract import ID_PATTERN

INIT = '''"""{id}: TODO one line saying which product and log this parses."""

from ucsiem.parsing import Framing, ParserSpec

from .parser import parse

PARSER = ParserSpec(
    id="{id}",
    version="0.1.0",
    description="TODO: product and log type",
    vendor="TODO vendor",
    product="TODO product",
    observer_type="pbx",
    dataset="{module}.{source}",
    framing=Framing(),
    parse=parse,
)
'''

PARSER = '''"""Parse one record into common-schema events. Pure: no I/O, no clock, no globals that change.

Import from `ucsiem.parsing` only (its `__all__` is the plugin API), never from another plugin.
"""

from __future__ import annotations

import re

from ucsiem.parsing import (
    CATEGORISATION,
    ParseContext,
    ParsedEvent,
    ParseError,
    RawRecord,
    parse_iso_time,
    parse_kv_quoted,
    prune,
)

# "<ISO time> <host> <program>: key="value" ..." -- anchored, no nested quantifiers (linear time)
LINE = re.compile(r"^(?P<ts>\\S+) (?P<host>\\S+) (?P<program>[^:\\s]+): (?P<body>.*)$")

# the vendor's event name (kept in event.code) -> an action of the shared vocabulary (mappings/fields.md)
ACTIONS = {{"Register": "sip-register", "Login": "admin-login"}}
OUTCOMES = {{"ok": "success", "failed": "failure"}}


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    match = LINE.match(record.text)
    if match is None:
        raise ParseError("no_match", "expected '<ISO time> <host> <program>: key=\\"value\\" ...'")
    kv = parse_kv_quoted(match["body"])
    action = ACTIONS.get(kv.get("Event", ""), "diagnostic")
    # category, type and default outcome come from the shared table, so every parser agrees; refine the
    # type where the line says more (a registration accepted is `allowed`, refused is `denied`)
    category, types, outcome = CATEGORISATION[action]
    outcome = OUTCOMES.get(kv.get("Result", ""), outcome)
    extra = {{"success": ["allowed"], "failure": ["denied"]}}.get(outcome or "", []) if action == "sip-register" else []
    event = {{
        "@timestamp": parse_iso_time(match["ts"], ctx.timezone),
        "message": match["body"],
        "event": {{"kind": "event", "action": action, "code": kv.get("Event"), "outcome": outcome,
                   "category": list(category), "type": [*types, *extra]}},
        "observer": {{"hostname": match["host"]}},
        "process": {{"name": match["program"]}},
        "source": {{"ip": kv.get("Src-ip")}},
        "user": {{"name": kv.get("User")}},
    }}
    return [prune(event)]
'''

SAMPLE = '''2024-05-01T10:00:00.000+00:00 pbx01 demo: Event="Register" User="alice" Src-ip="192.0.2.10" Result="ok"
2024-05-01T10:00:05.000+00:00 pbx01 demo: Event="Register" User="mallory" Src-ip="203.0.113.66" Result="failed"
'''

FAIL = '''this is not a record of this source
'''

TEST = '''"""Golden-file test of the {id} plugin.

Run it from the folder above the plugin: `pytest {id}` or `ucsiem parsers test {id}`.
"""

from pathlib import Path

from ucsiem.goldens import check_case, find_cases
from ucsiem.parsing.registry import load_plugin_folder

FOLDER = Path(__file__).resolve().parents[1]


def test_golden_files() -> None:
    loaded = load_plugin_folder(FOLDER)
    cases = find_cases(FOLDER)
    assert cases
    for case in cases:
        result = check_case(loaded.spec, case, generate=False)
        assert result.ok, f"{{case.name}}: {{result.detail}}"
'''


def scaffold(parser_id: str, parent: Path) -> Path:
    if not ID_PATTERN.match(parser_id):
        raise PluginError(f"parser id {parser_id!r} must be lowercase letters, digits and '_', starting with a letter")
    folder = parent / parser_id
    if folder.exists():
        raise PluginError(f"{folder} already exists; pick another id or remove it")
    module, _, source = parser_id.partition("_")
    (folder / "tests").mkdir(parents=True)
    (folder / "__init__.py").write_text(INIT.format(id=parser_id, module=module, source=source or "log"))
    (folder / "parser.py").write_text(PARSER.format())
    (folder / "tests" / "sample.log").write_text(SAMPLE)
    (folder / "tests" / "garbage-fail.log").write_text(FAIL)
    (folder / "tests" / f"test_{parser_id}.py").write_text(TEST.format(id=parser_id))
    from ucsiem.goldens import check_parser
    from ucsiem.parsing.registry import load_plugin_folder

    check_parser(load_plugin_folder(folder), generate=True)
    return folder
