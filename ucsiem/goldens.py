"""Golden-file harness for parsers (Filebeat style): `<case>.log` beside `<case>.log-expected.json`.

The raw file goes through the file input's framer and the pipeline's batch code, exactly as the agent
would read it; the events are flattened to sorted dotted keys, pipeline-owned volatile fields are left
out, and the result must equal the expected file (missing and extra fields both fail).
`*-fail.log` cases must yield only pipeline errors, one per record, and are compared by what the parser
decides: the record's offset (`log.offset`) and the error code (`error.type`), in order. The human message
(`error.message`, `message`) is written to the expected file as documentation but not compared, so a
parser may improve its wording without touching its golden files. Per-case settings come from
`<case>.log-config.yml`, else `common-config.yml` in the same folder:

    timezone: Europe/Paris             # zone for naive timestamps (default UTC)
    reference_time: 2024-03-01T00:00:00Z   # "now" for year-less stamps (default 2024-06-15T12:00:00Z)
    max_record_bytes: 1048576
    options: {...}                     # the parser's options model
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field

from ucsiem.inputs.framing import Framer
from ucsiem.normalize import Normalizer
from ucsiem.parsing.contract import ParseContext, ParserSpec
from ucsiem.parsing.registry import LoadedParser
from ucsiem.pipeline.work import BatchJob, run_batch

VOLATILE = ("event.id", "event.ingested", "agent.", "host.")
GENERATE_ENV = "UCSIEM_GENERATE"


class CaseConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timezone: str = "UTC"
    reference_time: datetime = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)
    max_record_bytes: int = Field(1_048_576, gt=0)
    options: dict[str, Any] | None = None


@dataclass
class CaseResult:
    case: Path
    ok: bool
    detail: str = ""
    generated: bool = False


def find_cases(folder: Path) -> list[Path]:
    tests = folder / "tests" if (folder / "tests").is_dir() else folder
    return sorted(p for p in tests.glob("*.log") if p.is_file())


def case_config(case: Path) -> CaseConfig:
    for candidate in (case.with_name(case.name + "-config.yml"), case.with_name("common-config.yml")):
        if candidate.is_file():
            return CaseConfig.model_validate(yaml.safe_load(candidate.read_text()) or {})
    return CaseConfig()


def run_case_events(spec: ParserSpec, case: Path) -> list[dict[str, Any]]:
    """The flattened events the agent makes of one case file."""
    return [strip_volatile(flatten(orjson.loads(doc))) for doc in case_documents(spec, case)]


def case_documents(spec: ParserSpec, case: Path) -> list[bytes]:
    """The JSON documents the agent makes of one case file (events and dead letters), as it ships them."""
    cfg = case_config(case)
    options = spec.options.model_validate(cfg.options or {}) if spec.options is not None else None
    ctx = ParseContext(timezone=ZoneInfo(cfg.timezone), options=options)
    framer = Framer(spec.framing, cfg.max_record_bytes)
    data = case.read_bytes()
    frames = framer.feed(data) + framer.flush(final=True)
    normalizer = Normalizer(spec, host_name=None, agent_name=None)
    job = BatchJob.of("golden", f"golden:{case.name}", case.name, frames, {}, cfg.reference_time, cfg.reference_time)
    return run_batch(normalizer, ctx, job).docs


def check_case(spec: ParserSpec, case: Path, generate: bool | None = None) -> CaseResult:
    generate = os.environ.get(GENERATE_ENV) == "1" if generate is None else generate
    events = run_case_events(spec, case)
    errors = [e for e in events if e.get("event.kind") == "pipeline_error"]
    fail_case = case.name.endswith("-fail.log")
    if fail_case and len(errors) != len(events):
        return CaseResult(case, False, "a -fail case parsed into normal events: "
                          + "; ".join(str(e.get("log.offset")) for e in events if e not in errors))
    if not fail_case and errors:
        shown = "; ".join(f"offset {e.get('log.offset')}: {e.get('error.message')}" for e in errors[:5])
        return CaseResult(case, False, f"{len(errors)} pipeline error(s): {shown}")
    expected_path = case.with_name(case.name + "-expected.json")
    rendered = orjson.dumps(events, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"
    if generate:
        expected_path.write_text(rendered)
        return CaseResult(case, True, "written", generated=True)
    if not expected_path.is_file():
        return CaseResult(case, False, f"{expected_path.name} is missing; run with {GENERATE_ENV}=1 to create it")
    expected = expected_path.read_text()
    if fail_case:
        return _compare_failures(case, expected, events)
    if expected == rendered:
        return CaseResult(case, True)
    diff = difflib.unified_diff(expected.splitlines(), rendered.splitlines(), "expected", "actual", lineterm="", n=2)
    return CaseResult(case, False, "\n".join(list(diff)[:80]))


FAIL_KEYS = ("log.offset", "error.type")
"""What a `-fail` case compares per record: where it was and the code; never the message."""


def _compare_failures(case: Path, expected_text: str, events: list[dict[str, Any]]) -> CaseResult:
    try:
        expected_events = orjson.loads(expected_text)
    except orjson.JSONDecodeError as exc:
        return CaseResult(case, False, f"{case.name}-expected.json is not JSON: {exc}")
    if not isinstance(expected_events, list) or not all(isinstance(e, dict) for e in expected_events):
        return CaseResult(case, False, f"{case.name}-expected.json must be a list of objects")
    want = [_fail_line(e) for e in expected_events]
    got = [_fail_line(e) for e in events]
    if want == got:
        return CaseResult(case, True)
    diff = difflib.unified_diff(want, got, "expected (offset code)", "actual (offset code)", lineterm="", n=2)
    return CaseResult(case, False, "\n".join(list(diff)[:80]))


def _fail_line(event: dict[str, Any]) -> str:
    return " ".join(str(event.get(key)) for key in FAIL_KEYS)


def check_parser(loaded: LoadedParser, generate: bool | None = None) -> list[CaseResult]:
    if loaded.folder is None:
        return []
    return [check_case(loaded.spec, case, generate) for case in find_cases(loaded.folder)]


def flatten(obj: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def strip_volatile(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if not (k in VOLATILE or k.startswith(VOLATILE))}
