"""The hot-path dict validation must accept, reject and serialize exactly like the UCEvent models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from ucsiem.errors import ParseError
from ucsiem.goldens import find_cases
from ucsiem.inputs.framing import Framer
from ucsiem.normalize import Normalizer, RecordMeta, event_id_of, record_hash
from ucsiem.parsing.contract import ParseContext, ParserSpec, RawRecord
from ucsiem.parsing.registry import load_registry
from ucsiem.schema.event import UCEvent
from ucsiem.schema.fast import dump_event, validate_event

NOW = datetime(2024, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)


def golden_records() -> list[tuple[ParserSpec, str, int]]:
    """Every framed record of every golden case that parses into events."""
    out = []
    for loaded in load_registry(entry_point_plugins=False).all():
        assert loaded.folder is not None
        for case in find_cases(loaded.folder):
            if case.name.endswith("-fail.log"):
                continue
            framer = Framer(loaded.spec.framing, 1 << 20)
            for frame in framer.feed(case.read_bytes()) + framer.flush(final=True):
                out.append((loaded.spec, frame.data.decode("utf-8", "replace"), frame.start))
    return out


RECORDS = golden_records()


def test_there_is_something_to_compare() -> None:
    assert len(RECORDS) > 50


@pytest.mark.parametrize(("spec", "text", "offset"), RECORDS, ids=lambda x: str(x)[:30] if isinstance(x, int) else "")
def test_agent_output_equals_the_model_path(spec: ParserSpec, text: str, offset: int) -> None:
    """What the agent ships (dict validation, pipeline fields added after it) == validating the whole
    completed event with the UCEvent models."""
    meta = RecordMeta("key", "case.log", offset, ("multiline",))
    ctx = ParseContext(reference_time=NOW)
    normalizer = Normalizer(spec, host_name="h", agent_name="a")
    shipped = [orjson.loads(doc) for doc in normalizer.process(text, meta, ctx, NOW)]
    try:
        parsed = spec.parse(RawRecord(text, offset, "case.log", meta.flags), ctx)
    except ParseError:
        assert [e["event"]["kind"] for e in shipped] == ["pipeline_error"]
        return
    expected = []
    digest = record_hash(meta.source_key, meta.offset, text)
    for index, event in enumerate(parsed):
        normalizer._complete(event, meta, NOW, event_id_of(digest, index), None)
        expected.append(orjson.loads(UCEvent.model_validate(event).to_json()))
    assert shipped == expected


BAD: list[dict[str, Any]] = [
    {},  # no @timestamp
    {"@timestamp": datetime(2024, 1, 1)},  # naive
    {"@timestamp": datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))},  # out of range in UTC
    {"@timestamp": datetime(2024, 1, 1, tzinfo=UTC), "bogus": 1},
    {"@timestamp": datetime(2024, 1, 1, tzinfo=UTC), "event": {"action": "made-up", "kind": "event"}},
    {"@timestamp": datetime(2024, 1, 1, tzinfo=UTC), "event": {"kind": "event", "category": ["nope"]}},
    {"@timestamp": datetime(2024, 1, 1, tzinfo=UTC), "source": {"ip": "999.1.1.1"}},
    {"@timestamp": datetime(2024, 1, 1, tzinfo=UTC), "source": {"port": 70000}},
    {"@timestamp": datetime(2024, 1, 1, tzinfo=UTC), "uc": {"sip": {"status_code": 1000}}},
    {"@timestamp": datetime(2024, 1, 1, tzinfo=UTC), "uc": {"vendor": {"x": {"nested": "no"}}}},
    {"@timestamp": datetime(2024, 1, 1, tzinfo=UTC), "uc": {"call": {"extra_field": 1}}},
]


@pytest.mark.parametrize("bad", BAD)
def test_same_rejections(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as model_error:
        UCEvent.model_validate(bad)
    with pytest.raises(ValidationError) as fast_error:
        validate_event(bad)
    locations = {tuple(e["loc"]) for e in model_error.value.errors()}
    assert locations == {tuple(e["loc"]) for e in fast_error.value.errors()}


def test_none_means_absent_on_both_paths() -> None:
    event: dict[str, Any] = {"@timestamp": datetime(2024, 1, 1, tzinfo=UTC), "message": None,
                             "source": {"ip": "192.0.2.1", "user": {"name": "a", "domain": None}}}
    normalizer = Normalizer(load_registry().get("cisco_expressway").spec, host_name=None, agent_name=None)
    normalizer._complete(event, RecordMeta("k", "p", 0), datetime.now(UTC), "id", None)
    assert dump_event(validate_event(event)) == UCEvent.model_validate(event).to_json()
    assert b"null" not in dump_event(validate_event(event))


def test_canonical_values() -> None:
    event = {"@timestamp": datetime(2024, 1, 1, 5, tzinfo=timezone(timedelta(hours=5))), "event": {"kind": "event"},
             "source": {"ip": "2001:DB8:0:0::1"}}
    assert orjson.loads(dump_event(validate_event(event))) == {
        "@timestamp": "2024-01-01T00:00:00Z", "event": {"kind": "event"}, "source": {"ip": "2001:db8::1"}}

