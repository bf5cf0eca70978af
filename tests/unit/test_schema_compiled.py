"""The compiled (msgspec) validation must accept, reject and serialize exactly like the pydantic path.

`validate_event` tries the Structs generated from the models first and falls back to the models for
what msgspec refuses or what needs an after-validator; these tests hold the result to the models' own
(`validate_with_models`) byte for byte: on every golden event, and on events generated from the schema's
own fields with valid and hostile values of every kind (the coercions pydantic makes and msgspec does
not, bounds, NaN, naive and non-UTC times, non-canonical and bad addresses, None, unknown keys).
"""

from __future__ import annotations

import copy
import math
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.unit.test_schema_fast import NOW, RECORDS
from ucsiem.errors import ParseError
from ucsiem.parsing.contract import ParseContext, RawRecord
from ucsiem.schema import compiled
from ucsiem.schema.compile import COMPILED, render_compiled
from ucsiem.schema.event import UCEvent, field_paths
from ucsiem.schema.fast import dump_event, validate_event, validate_with_models
from ucsiem.schema.generate import es_type

REPO = Path(__file__).resolve().parents[2]
KEEP = (datetime,)


def same_outcome(event: dict[str, Any]) -> None:
    """Both paths on their own copy: the same bytes, or both refuse with the same errors."""
    try:
        expected: bytes | None = dump_event(validate_with_models(copy.deepcopy(event)))
        expected_errors = None
    except ValidationError as exc:
        expected, expected_errors = None, exc.errors(include_url=False)
    try:
        got: bytes | None = dump_event(validate_event(copy.deepcopy(event)))
        got_errors = None
    except ValidationError as exc:
        got, got_errors = None, exc.errors(include_url=False)
    assert got == expected, f"{event!r}"
    assert repr(got_errors) == repr(expected_errors)


def test_the_committed_module_is_what_the_models_generate() -> None:
    assert COMPILED.read_text() == render_compiled(), "run `ucsiem mappings generate` and commit the result"


@pytest.mark.parametrize(("spec", "text", "offset"), RECORDS, ids=lambda x: str(x)[:30] if isinstance(x, int) else "")
def test_golden_events_the_same_on_both_paths(spec: Any, text: str, offset: int) -> None:
    try:
        parsed = spec.parse(RawRecord(text, offset, "case.log", ()), ParseContext(reference_time=NOW))
    except ParseError:
        return
    for event in parsed:
        same_outcome(event)


def test_golden_events_take_the_compiled_path() -> None:
    """The fast path is the usual one: a golden event the Structs refuse (or that needs fixing by the
    models) would mean a parser emits something the models must coerce."""
    refused = []
    for spec, text, offset in RECORDS:
        try:
            parsed = spec.parse(RawRecord(text, offset, "case.log", ()), ParseContext(reference_time=NOW))
        except ParseError:
            continue
        for event in parsed:
            try:  # the conversion validate_event makes first
                out = msgspec.to_builtins(msgspec.convert(event, compiled.UCEvent, builtin_types=KEEP),
                                          builtin_types=KEEP)
            except msgspec.ValidationError as exc:
                refused.append((spec.id, text[:80], str(exc)))
                continue
            if not compiled.canonicalise(out):
                refused.append((spec.id, text[:80], "canonicalise"))
    assert refused == []


T0 = datetime(2024, 5, 1, 12, 30, 15, 250000, tzinfo=UTC)
# per Elasticsearch type of a leaf: values the schema takes as they are, values pydantic coerces, and
# values both must refuse
CANDIDATES: dict[str, list[Any]] = {
    "keyword": ["abc", "", "ünï \u2028", 5, b"bytes", None, True, ["x"]],
    "text": ["free text", 1.5, None],
    "long": [0, -1, 7, 2**63 - 1, 2**63, -(2**63) - 1, 70000, 5.0, 5.5, "12", True, None, math.nan],
    "float": [0.0, 1.5, 3, -2, True, "2.5", math.nan, math.inf, -math.inf, 1e308, None],
    "boolean": [True, False, 0, 1, "true", "no", 2, None],
    "ip": ["192.0.2.1", "2001:DB8:0:0::1", "2001:db8::1", "::ffff:192.0.2.1", "999.1.1.1", "01.2.3.4", "",
           "fe80::1%eth0", 7, None],
    "date": [T0, T0.astimezone(timezone(timedelta(hours=5))), T0.replace(tzinfo=ZoneInfo("UTC")),
             T0.replace(tzinfo=None), datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
             "2024-05-01T12:30:15Z", 1714566615, None],
    "flattened": [{"a": "b"}, {"n": 5, "f": 1.5, "b": True, "l": ["x", "y"]}, {"big": 2**70}, {"nan": math.nan},
                  {"nested": {"no": 1}}, {"l": ["x", 5]}, {5: "int key"}, None],
    "geo_point": [{"lat": 1.5, "lon": -2}, {"lat": 91, "lon": 0}, {"lat": 1}, {"lat": 1, "lon": 2, "alt": 3}, None],
}
LEAVES = [(path, es_type(info)) for path, info in field_paths()]
LIST_FIELDS = frozenset(path for path, info in field_paths() if "list[" in str(info.annotation))


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    event: dict[str, Any] = {}
    if draw(st.integers(0, 9)):  # now and then no @timestamp at all
        event["@timestamp"] = draw(st.sampled_from(CANDIDATES["date"]))
    for path, kind in draw(st.lists(st.sampled_from(LEAVES), max_size=12)):
        node = event
        *heads, last = path.split(".")
        for head in heads:
            if not isinstance(node.get(head), dict):
                node[head] = {}
            node = node[head]
        values = CANDIDATES[kind if kind in CANDIDATES else "keyword"]
        value = draw(st.sampled_from(values))
        if path in LIST_FIELDS and value is not None and draw(st.booleans()):
            value = draw(st.sampled_from([[value], (value,), [value, value], [value, None]]))
        node[last] = value
    if draw(st.integers(0, 19)) == 0:
        event.setdefault("uc", {})["unknown_key"] = "x"
    return event


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events())
def test_generated_events_the_same_on_both_paths(event: dict[str, Any]) -> None:
    same_outcome(event)


@pytest.mark.parametrize("value", [
    {"@timestamp": T0, "event": {"kind": "event", "outcome": "success"}, "source": {"ip": "192.0.2.1", "port": 5060}},
    {"@timestamp": T0.astimezone(timezone(timedelta(hours=-7))), "observer": {"ip": ["2001:DB8::1", "192.0.2.9"]}},
    {"@timestamp": T0, "uc": {"media": {"mos": 4, "jitter_ms": 3}, "vendor": {"n": 5, "big": 2**64}}},
    {"@timestamp": T0, "source": {"port": "5060"}, "tls": {"established": 1}},
    {"@timestamp": T0, "message": None, "source": {"user": {"name": "a", "domain": None}}},
])
def test_known_shapes_the_same_on_both_paths(value: dict[str, Any]) -> None:
    same_outcome(value)


def test_the_model_matches_the_fast_paths_on_a_plain_event() -> None:
    event = {"@timestamp": T0, "event": {"kind": "event"}, "uc": {"media": {"mos": 4}}, "source": {"ip": "2001:DB8::1"}}
    assert dump_event(validate_event(copy.deepcopy(event))) == UCEvent.model_validate(event).to_json()


def test_a_worker_never_builds_the_models() -> None:
    """The point of the generated Structs for memory: parsing every golden record of a parser builds no
    pydantic schema of the event (about 6 MiB a process)."""
    code = (
        "import sys\n"
        "from datetime import UTC, datetime\n"
        "from ucsiem.pipeline.worker import WorkerSetup, prepare, run_job\n"
        "from ucsiem.pipeline.work import BatchJob\n"
        f"lines = open({str(REPO / 'parsers/cisco_expressway/tests/event-log.log')!r}, 'rb').read().splitlines()\n"
        "prepared = prepare(WorkerSetup([], [{'id': 't', 'parser': 'cisco_expressway', 'where': 'x'}], 'h', None))\n"
        "now = datetime.now(UTC)\n"
        "out = run_job(prepared, BatchJob('t', 'k', 'p', list(range(len(lines))), lines, {}, {}, now, now))\n"
        "assert out.count == len(lines), out\n"
        "print('ucsiem.schema.event' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
