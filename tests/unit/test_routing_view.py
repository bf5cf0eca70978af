"""`RoutingView`: the Kafka and Elasticsearch outputs read the few fields they route by without decoding a
whole document, and must decide exactly as the whole decode would.

Held three ways: the view holds the whole decode's value at each of its paths (every document the parsers
make of their golden files, alerts, dead letters, odd shapes, generated documents); each output's decisions
(topic, key, headers; bulk action) are the same from the view as from `orjson.loads`; and the outputs read
nothing of a document outside the paths their view declares, so a new field read cannot go unnoticed.
"""

from __future__ import annotations

import functools
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ucsiem.correlate.alerts import AlertState, render
from ucsiem.correlate.rules import RuleMeta
from ucsiem.goldens import case_documents, find_cases
from ucsiem.outputs.base import Rejected, SendResult
from ucsiem.outputs.elasticsearch import ACTION_FIELDS, ElasticsearchOutput
from ucsiem.outputs.kafka import KafkaOutput
from ucsiem.outputs.registry import ElasticsearchOutputConfig, KafkaOutputConfig
from ucsiem.outputs.routing import RoutingView, alert_version, field_value, is_alert
from ucsiem.parsing.registry import load_registry
from ucsiem.pipeline.delivery import dead_letter
from ucsiem.schema.fast import dump_event, validate_event

KAFKA_CONFIGS: list[dict[str, Any]] = [
    {},
    {"topic": "uc-{event.kind}.{observer.vendor}", "key_field": "source.ip"},
    {"topic": "{event.dataset}.{event.outcome}", "key_field": "uc.call.id", "alert_key_field": None},
    {"topic": "x.{event.category}", "key_field": "@timestamp"},
    {"key_field": "event"},  # a key field whose value is an object: no key
]
ES_CONFIGS: list[dict[str, Any]] = [{}, {"index_mode": "index"}]


def kafka_outputs() -> list[KafkaOutput]:
    return [KafkaOutput(KafkaOutputConfig(bootstrap_servers=["127.0.0.1:9092"], **cfg), {}) for cfg in KAFKA_CONFIGS]


def es_outputs() -> list[ElasticsearchOutput]:
    return [ElasticsearchOutput(ElasticsearchOutputConfig(hosts=["http://127.0.0.1:9200"], namespace="ns", **cfg))
            for cfg in ES_CONFIGS]


@functools.cache
def golden_documents() -> tuple[bytes, ...]:
    """Every document the built-in parsers make of their golden files (events and dead letters), as shipped."""
    return tuple(doc for loaded in load_registry(entry_point_plugins=False).all() if loaded.folder is not None
                 for case in find_cases(loaded.folder) for doc in case_documents(loaded.spec, case))


def alert_documents() -> list[bytes]:
    meta = RuleMeta(key="084104cf-8397-4627-b29d-0f3c75e804f6", title="SIP registration brute force",
                    name="sip_bruteforce", path="rules/uc/sip_bruteforce.yml", ruleset="uc", level="high")
    docs = []
    for count in (1, 7, 2**40):
        state = AlertState("a1b2c3d4e5f60718293a4b5c6d7e8f90", 1_709_633_400.0, 1_709_633_700.0, 1_709_633_400.0,
                           1_709_633_460.0, count=count)
        docs.append(dump_event(validate_event(render(meta, "event_count", ("source.ip",), ("203.0.113.80",), state))))
    docs.append(dead_letter(docs[0], Rejected(0, "mapping", "refused by the destination"), "elasticsearch:es"))
    return docs


ODD_DOCUMENTS = [
    b"{}", b"[]", b"[1, 2]", b'"text"', b"3", b"null", b'{"event": "not an object"}', b'{"event": null}',
    b'{"event": {"dataset": ["list.first", "second"], "kind": 3}}', b'{"event": {"dataset": {"nested": 1}}}',
    b'{"event.dataset": "flat.key", "event": {"dataset": "nested"}}', b'{"event.dataset": null}',
    b'{"@timestamp": 17, "event": {"ingested": [], "id": 5}}',
    b'{"event": {"kind": "alert", "dataset": "ucsiem.alert", "id": "x"}, "uc": {"alert": {"count": true}}}',
    b'{"event": {"kind": "alert", "dataset": "ucsiem.alert", "id": "x"}, "uc": {"alert": "none"}}',
    b'{"event": {"kind": "alert", "dataset": "ucsiem.alert", "id": "x"}, "uc": {"alert": {"count": 3.0}}}',
    b'{"event": {"dataset": "a"}, "event": {"kind": "alert"}}',  # a repeated key: the last one counts
    b'{"source": {"ip": "192.0.2.1", "ip": "192.0.2.2"}, "event": {"outcome": false}}',
    b'{"observer": {"vendor": "V\\u00e9ndor \\ud83d\\ude00"}, "event": {"kind": "event"}}',
    # nesting msgspec refuses (RecursionError at ~1,000 levels) where orjson reads it (up to 1,024) or not
    b'{"event": {"dataset": ' + b"[" * 1000 + b"]" * 1000 + b', "kind": "event"}}',
    b'{"other": ' + b'{"a": ' * 1010 + b"1" + b"}" * 1010 + b', "event": {"dataset": "d"}}',
    b'{"event": {"dataset": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
]


def same_decisions(doc: bytes) -> None:
    """Every output decides the same from the view as from the whole document."""
    try:
        whole: Any = orjson.loads(doc)
    except orjson.JSONDecodeError:
        whole = None
    for out in kafka_outputs():
        if isinstance(whole, dict):
            view = out._view.read(doc)
            for path in out._view.paths:
                assert field_value(view, path) == field_value(whole, path), (path, doc[:200])
        result = SendResult()
        assert out._message(0, doc, result) == _plain_message(out, doc), (out.cfg.topic, doc[:200])
    for es in es_outputs():
        if isinstance(whole, dict):
            view = es._view.read(doc)
            assert es.action_for(view) == es.action_for(whole), doc[:200]
            assert is_alert(view) == is_alert(whole)
            assert alert_version(view) == alert_version(whole)


def _plain_message(out: KafkaOutput, doc: bytes) -> Any:
    """`_message` as it was: from the whole decode."""
    read = out._view
    try:
        out._view = _Whole()  # type: ignore[assignment]
        return out._message(0, doc, SendResult())
    finally:
        out._view = read


class _Whole:
    @staticmethod
    def read(doc: bytes) -> Any:
        return orjson.loads(doc)


def test_the_outputs_decide_every_golden_document_as_from_the_whole_document() -> None:
    docs = golden_documents()
    assert len(docs) > 900  # every parser's golden files (942 documents today)
    for doc in docs:
        same_decisions(doc)


def test_alerts_and_their_dead_letters_are_routed_as_from_the_whole_document() -> None:
    docs = alert_documents()
    assert is_alert(orjson.loads(docs[0])) and not is_alert(orjson.loads(docs[-1]))
    for doc in docs:
        same_decisions(doc)


@pytest.mark.parametrize("doc", ODD_DOCUMENTS)
def test_odd_shapes_are_decided_as_from_the_whole_document(doc: bytes) -> None:
    same_decisions(doc)


def test_what_is_not_json_is_refused_as_before() -> None:
    view = RoutingView(["event.dataset"])
    for doc in (b"", b"{", b'{"event": }', b"\xff\xfe", b'{"a": 1} trailing'):
        with pytest.raises(orjson.JSONDecodeError):
            view.read(doc)


def test_a_shorter_path_takes_the_whole_value_below_it_in_either_order() -> None:
    doc = b'{"uc": {"alert": {"count": 3, "rule": {"name": "r"}}, "call": {"id": "c"}}, "x": 1}'
    for paths in (["uc.alert", "uc.alert.count"], ["uc.alert.count", "uc.alert"]):
        view = RoutingView(paths).read(doc)
        assert view == {"uc": {"alert": {"count": 3, "rule": {"name": "r"}}}}


def test_the_view_skips_what_no_path_names() -> None:
    view = RoutingView(["event.dataset", "@timestamp"]).read(
        b'{"@timestamp": "t", "event": {"dataset": "d", "id": "i"}, "message": "m"}')
    assert view == {"@timestamp": "t", "event": {"dataset": "d"}}


# generated documents: objects, lists and scalars under the keys the outputs route by, and others
_KEYS = st.sampled_from(["event", "dataset", "kind", "id", "ingested", "@timestamp", "uc", "alert", "count",
                         "source", "ip", "observer", "vendor", "event.dataset", "category", "outcome", "other"])
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**64 - 1), st.floats(allow_nan=False,
                     allow_infinity=False), st.text(max_size=8), st.sampled_from(["alert", "ucsiem.alert", "event"]))
_JSON = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(_KEYS, inner, max_size=5)), max_leaves=25)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.dictionaries(_KEYS, _JSON, max_size=6), _JSON))
def test_generated_documents_are_decided_as_from_the_whole_document(value: Any) -> None:
    same_decisions(orjson.dumps(value))


# -- the outputs read nothing outside their view ---------------------------------------------------------


class _Reads(dict[str, Any]):
    """A decoded document that records the dotted path of every key read of it."""

    def __init__(self, value: dict[str, Any], path: str, seen: set[str]) -> None:
        super().__init__({k: _recording(v, f"{path}{k}.", seen) for k, v in value.items()})
        self._path, self._seen = path, seen

    def __contains__(self, key: object) -> bool:
        self._seen.add(f"{self._path}{key}")
        return super().__contains__(key)

    def __getitem__(self, key: str) -> Any:
        self._seen.add(f"{self._path}{key}")
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._seen.add(f"{self._path}{key}")
        return super().get(key, default)


def _recording(value: Any, path: str, seen: set[str]) -> Any:
    return _Reads(value, path, seen) if isinstance(value, dict) else value


class _Recorder:
    """A view that is the whole document, recording what is read of it."""

    def __init__(self, seen: set[str]) -> None:
        self.seen = seen

    def read(self, doc: bytes) -> Any:
        return _recording(orjson.loads(doc), "", self.seen)


def _covered(read: str, paths: tuple[str, ...]) -> bool:
    """A read is inside the view: a declared path, a parent of one, or below one."""
    return any(read == p or p.startswith(read + ".") or read.startswith(p + ".") for p in paths)


def test_the_outputs_read_only_the_fields_their_view_holds() -> None:
    shallow = (d for d in ODD_DOCUMENTS if d.startswith(b"{") and len(d) < 1000)  # the recorder recurses
    docs = [*golden_documents()[::25], *alert_documents(), *shallow]
    for out in kafka_outputs():
        seen: set[str] = set()
        declared, out._view = out._view.paths, _Recorder(seen)  # type: ignore[assignment]
        for doc in docs:
            out._message(0, doc, SendResult())
        assert seen and all(_covered(read, declared) for read in seen), (out.cfg.topic, sorted(seen))
    for es in es_outputs():
        seen = set()
        for doc in docs:
            es.action_for(_recording(orjson.loads(doc), "", seen))
        assert seen and all(_covered(read, ACTION_FIELDS) for read in seen), sorted(seen)


def test_a_nested_list_or_object_is_no_route() -> None:
    """A route is text: a list's first item that is itself a list or an object gives none (its repr, 1,000
    levels deep, raised RecursionError and stopped the send)."""
    raw = b'{"event": {"dataset": ' + b"[" * 1000 + b"]" * 1000 + b', "id": "i"}}'  # deeper than orjson writes
    deep = orjson.loads(raw)
    assert field_value({"event": {"dataset": [["a"]]}}, "event.dataset") is None
    assert field_value({"event": {"dataset": [{"a": 1}]}}, "event.dataset") is None
    assert field_value({"event": {"dataset": ["a", "b"]}}, "event.dataset") == "a"
    assert field_value(deep, "event.dataset") is None
    assert es_outputs()[0].action_for(deep) == ("create", {"_index": "logs-uc.unknown-ns", "_id": "i"})
    message = kafka_outputs()[0]._message(0, raw, SendResult())
    assert message is not None and message.topic == "ucsiem.unknown"
