"""Where correlation alerts go in each output, decided from the event's own fields (no server needed).

Alerts are sent again with the same event.id as their count grows: Elasticsearch writes them with `index` and
external versioning on uc.alert.count to a plain alerts index; Kafka keys them by event.id. Everything else
keeps its route: `create` into the data streams, key_field as the key.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from ucsiem.config import ElasticsearchOutputConfig, KafkaOutputConfig, parse_config
from ucsiem.correlate.alerts import AlertState, render
from ucsiem.correlate.rules import RuleMeta
from ucsiem.errors import ConfigError
from ucsiem.outputs.base import Rejected
from ucsiem.outputs.elasticsearch import ElasticsearchOutput
from ucsiem.outputs.kafka import KafkaOutput
from ucsiem.outputs.routing import MAX_ES_VERSION, alert_version, index_problem, is_alert
from ucsiem.pipeline.delivery import dead_letter
from ucsiem.schema.fast import dump_event, validate_event

INPUTS = [{"id": "a", "paths": ["x.log"], "parser": "linetest"}]
META = RuleMeta(key="084104cf-8397-4627-b29d-0f3c75e804f6", title="SIP registration brute force from one source",
                name="sip_bruteforce", path="rules/uc/sip_bruteforce.yml", ruleset="uc", level="high")


def alert(count: int, ip: str = "203.0.113.80") -> dict[str, Any]:
    """An alert document as the agent ships it: rendered by the correlator, validated, serialized, read back."""
    state = AlertState("a1b2c3d4e5f60718293a4b5c6d7e8f90", 1_709_633_400.0, 1_709_633_700.0, 1_709_633_400.0,
                       1_709_633_400.0 + count, count=count)
    parsed: dict[str, Any] = orjson.loads(dump_event(validate_event(
        render(META, "event_count", ("source.ip",), (ip,), state))))
    return parsed


def event(dataset: str = "asterisk.security", **fields: Any) -> dict[str, Any]:
    return {"@timestamp": "2024-03-05T10:20:00Z", "event": {"kind": "event", "dataset": dataset, "id": "e1",
                                                              "ingested": "2024-03-05T10:20:01Z", **fields}}


def es_output(**cfg: Any) -> ElasticsearchOutput:
    return ElasticsearchOutput(ElasticsearchOutputConfig(hosts=["http://127.0.0.1:9200"], namespace="ns", **cfg))


def kafka_output(**cfg: Any) -> KafkaOutput:
    return KafkaOutput(KafkaOutputConfig(bootstrap_servers=["127.0.0.1:9092"], **cfg), {})


# -- what an alert is -------------------------------------------------------------------------------------


def test_an_alert_is_kind_alert_of_dataset_ucsiem_alert() -> None:
    assert is_alert(alert(10))
    assert not is_alert(event())
    assert not is_alert(event("ucsiem.alert"))  # kind event: not ours to update in place
    assert not is_alert(event(kind="alert"))  # a vendor's alert (an IDS log line) is an ordinary event
    assert not is_alert({"event": "alert"}) and not is_alert([1]) and not is_alert(None)


def test_the_dead_letter_of_a_refused_alert_is_not_an_alert() -> None:
    letter = orjson.loads(dead_letter(orjson.dumps(alert(10)), Rejected(0, "mapping", "400 x"), "elasticsearch:es"))
    assert letter["event"]["dataset"] == "ucsiem.alert" and letter["event"]["kind"] == "pipeline_error"
    assert not is_alert(letter)


@pytest.mark.parametrize(("count", "version"), [
    (0, 0), (1, 1), (12, 12), (MAX_ES_VERSION, MAX_ES_VERSION),
    (MAX_ES_VERSION + 1, None), (-1, None), (True, None), (3.0, None), ("12", None), (None, None),
])
def test_the_version_is_the_running_count(count: Any, version: int | None) -> None:
    doc = alert(5)
    doc["uc"]["alert"]["count"] = count
    assert alert_version(doc) == version


def test_an_alert_without_a_count_has_no_version() -> None:
    doc = alert(5)
    del doc["uc"]["alert"]["count"]
    assert alert_version(doc) is None
    assert alert_version({"uc": {"alert": None}}) is None and alert_version({}) is None


# -- Elasticsearch ----------------------------------------------------------------------------------------


def test_alerts_are_indexed_with_external_versions_into_the_alerts_index() -> None:
    doc = alert(20)
    op, action = es_output().action_for(doc)
    assert (op, action) == ("index", {"_index": "ucsiem-alerts-ns", "_id": doc["event"]["id"], "version": 20,
                                      "version_type": "external_gte"})


@pytest.mark.parametrize("mode", ["data_stream", "index"])
def test_ordinary_events_are_still_created_in_their_data_stream_or_daily_index(mode: str) -> None:
    out = es_output(index_mode=mode)
    op, action = out.action_for(event())
    expected = "logs-uc.asterisk.security-ns" + ("-2024.03.05" if mode == "index" else "")
    assert (op, action) == ("create", {"_index": expected, "_id": "e1"})


def test_daily_index_mode_keeps_alerts_in_one_index() -> None:
    assert es_output(index_mode="index").action_for(alert(10))[1]["_index"] == "ucsiem-alerts-ns"


def test_alerts_index_is_configurable() -> None:
    assert es_output(alerts_index="soc-alerts").action_for(alert(10))[1]["_index"] == "soc-alerts"


def test_an_alert_without_a_usable_count_or_id_is_created_never_overwriting() -> None:
    doc = alert(10)
    doc["uc"]["alert"]["count"] = "many"
    assert es_output().action_for(doc) == ("create", {"_index": "ucsiem-alerts-ns", "_id": doc["event"]["id"]})
    del doc["event"]["id"]
    assert es_output().action_for(doc) == ("create", {"_index": "ucsiem-alerts-ns"})


def test_a_dead_letter_of_an_alert_goes_to_the_data_stream_with_create() -> None:
    letter = orjson.loads(dead_letter(orjson.dumps(alert(10)), Rejected(0, "mapping", "400 x"), "elasticsearch:es"))
    op, action = es_output().action_for(letter)
    assert (op, action["_index"]) == ("create", "logs-uc.ucsiem.alert-ns")


@pytest.mark.parametrize(("name", "problem"), [
    ("ucsiem-alerts-prod", None), ("soc.alerts_1", None), ("a", None),
    ("", "cannot be empty"), ("Alerts", "lowercase"), ("-alerts", "starts with"), (".alerts", "starts with"),
    ("..", "starts with"), ("alerts*", "lowercase"), ("a b", "lowercase"), ("a" * 256, "255 bytes"),
    ("logs-uc.ucsiem.alert-default", "data streams"),
])
def test_alerts_index_names_are_checked(name: str, problem: str | None) -> None:
    found = index_problem(name)
    assert (found is None) if problem is None else (found is not None and problem in found), found


def test_a_bad_alerts_index_is_refused_at_config_load_with_its_key_path() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"inputs": INPUTS, "outputs": [{"type": "elasticsearch", "hosts": ["http://127.0.0.1:9200"],
                                                      "alerts_index": "logs-uc.alerts-x"}]}, "test")
    text = "\n".join(info.value.problems)
    assert "alerts_index" in text and "data streams" in text


# -- Kafka ------------------------------------------------------------------------------------------------


def test_alerts_go_to_their_own_topic_by_default() -> None:
    out = kafka_output()
    assert out.topic_for(alert(10)) == "ucsiem.ucsiem.alert"
    assert out.topic_for(event()) == "ucsiem.asterisk.security"


def test_alerts_are_keyed_by_event_id_with_or_without_key_field() -> None:
    doc = alert(10)
    assert kafka_output().key_for(doc) == doc["event"]["id"]
    assert kafka_output(key_field="source.ip").key_for(doc) == doc["event"]["id"]
    assert kafka_output().key_for(event()) is None
    assert kafka_output(key_field="event.id").key_for(event()) == "e1"


def test_every_version_of_an_alert_has_the_same_key() -> None:
    out = kafka_output(key_field="source.ip")
    assert {out.key_for(alert(n)) for n in (10, 20, 40, 41)} == {alert(10)["event"]["id"]}


def test_alert_key_field_null_keys_alerts_like_other_events() -> None:
    doc = alert(10)
    assert kafka_output(alert_key_field=None).key_for(doc) is None
    assert kafka_output(alert_key_field=None, key_field="source.ip").key_for(doc) == "203.0.113.80"
    assert kafka_output(alert_key_field="rule.id").key_for(doc) == META.key


def test_kafka_keys_of_non_objects_are_none() -> None:
    assert kafka_output(key_field="event.id").key_for([1, 2]) is None
