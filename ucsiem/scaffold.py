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

PARSER = '''"""Parse one record into common-schema events: header -> body -> classification -> event.

Pure: no I/O, no clock, no globals that change. Import from `ucsiem.parsing` only (its `__all__` is the
plugin API), never from another plugin. The layout is the one every built-in parser has (parsers/README.md).
"""

from __future__ import annotations

from ucsiem.parsing import ParseContext, ParsedEvent, RawRecord

from .body import read_body
from .classify import classify
from .event import assemble
from .header import read_header


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    header = read_header(record.text, ctx)
    body = read_body(header.rest)
    return [assemble(header, body, classify(body))]
'''

HEADER = '''"""The envelope: `<ISO time> <host> <program>: <body>`."""

from __future__ import annotations

import re
from datetime import datetime
from typing import NamedTuple

from ucsiem.parsing import ParseContext, ParseError, parse_iso_time

# anchored, no nested quantifiers (linear time on any input)
LINE = re.compile(r"^(?P<ts>\\S+) (?P<host>\\S+) (?P<program>[^:\\s]+): (?P<rest>.*)$")


class Header(NamedTuple):
    time: datetime
    host: str
    program: str
    rest: str  # the body, for body.py


def read_header(text: str, ctx: ParseContext) -> Header:
    match = LINE.match(text)
    if match is None:
        raise ParseError("no_match", "expected '<ISO time> <host> <program>: key=\\"value\\" ...'")
    return Header(parse_iso_time(match["ts"], ctx.timezone), match["host"], match["program"], match["rest"])
'''

BODY = '''"""The product's payload: `key="value"` pairs, read into the values the next steps use."""

from __future__ import annotations

from typing import NamedTuple

from ucsiem.parsing import parse_kv_quoted


class Body(NamedTuple):
    text: str
    event_name: str | None  # the vendor's own name of the event (kept as event.code)
    result: str | None
    user: str | None
    source_ip: str | None


def read_body(text: str) -> Body:
    kv = parse_kv_quoted(text)
    return Body(text, kv.get("Event"), kv.get("Result"), kv.get("User"), kv.get("Src-ip"))
'''

CLASSIFY = '''"""The vendor's event names to a `Kind`: action, category, type and outcome from the shared table."""

from __future__ import annotations

from ucsiem.parsing import Kind, kind

from .body import Body

# the vendor's event name and result -> a Kind; category, type and the default outcome come from the
# shared CATEGORISATION table (mappings/fields.md), refined where the line says more
KINDS: dict[tuple[str, str | None], Kind] = {
    ("Register", "ok"): kind("sip-register", "success", add_type=("allowed",)),
    ("Register", "failed"): kind("sip-register", "failure", add_type=("denied",)),
    ("Login", "ok"): kind("admin-login", "success"),
    ("Login", "failed"): kind("admin-login", "failure"),
}
OTHER = kind("diagnostic")


def classify(body: Body) -> Kind:
    return KINDS.get((body.event_name or "", body.result), OTHER)
'''

EVENT = '''"""Event assembly: the only place that writes the event."""

from __future__ import annotations

from ucsiem.parsing import Kind, ParsedEvent, kind_fields, prune

from .body import Body
from .header import Header


def assemble(header: Header, body: Body, found: Kind) -> ParsedEvent:
    return prune({
        "@timestamp": header.time,
        "message": body.text,
        "event": kind_fields(found) | {"code": body.event_name},
        "observer": {"hostname": header.host},
        "process": {"name": header.program},
        "source": {"ip": body.source_ip},
        "user": {"name": body.user},
    })
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
    for name, text in (("parser", PARSER), ("header", HEADER), ("body", BODY), ("classify", CLASSIFY),
                       ("event", EVENT)):
        (folder / f"{name}.py").write_text(text)
    (folder / "tests" / "sample.log").write_text(SAMPLE)
    (folder / "tests" / "garbage-fail.log").write_text(FAIL)
    (folder / "tests" / f"test_{parser_id}.py").write_text(TEST.format(id=parser_id))
    from ucsiem.goldens import check_parser
    from ucsiem.parsing.registry import load_plugin_folder

    check_parser(load_plugin_folder(folder), generate=True)
    return folder
