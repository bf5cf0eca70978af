"""The Kafka output's routing of a document (topic, key, dataset header) as `send` computes it, held to the
plain reading: the template rendered from the event, then made a legal topic or sent to fallback_topic."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from ucsiem.outputs.base import SendResult
from ucsiem.outputs.kafka import KafkaOutput
from ucsiem.outputs.registry import KafkaOutputConfig
from ucsiem.outputs.routing import Template, field_value, kafka_topic_safe, topic_problem

TEMPLATES = ["ucsiem.{event.dataset}", "{event.dataset}", "uc-{event.kind}.{observer.vendor}", "static.topic",
             "x.{event.category}.{event.outcome}"]

EVENTS: list[dict[str, Any]] = [
    {"event": {"dataset": "cisco.expressway", "kind": "event"}, "observer": {"vendor": "Cisco"},
     "source": {"ip": "192.0.2.1"}},
    {"event": {"dataset": "cisco.expressway", "kind": "event", "category": ["network", "session"]}},
    {"event": {"dataset": "ucsiem.alert", "kind": "alert", "id": "a1"}, "source": {"ip": "192.0.2.2"}},
    {"event": {"dataset": "__consumer_offsets"}},
    {"event": {"dataset": "a b/c", "outcome": True}},
    {"event": {"dataset": ["list.first", "second"]}},
    {"event": {"dataset": None, "kind": 3}},
    {"event": {"dataset": {"nested": "object"}}},
    {"event": "not an object"},
    {"observer": {"vendor": "Only vendor"}},
    {},
]


def plain_topic(template: str, event: dict[str, Any], fallback: str) -> str:
    topic = kafka_topic_safe(Template(template).render(event))
    return fallback if topic_problem(topic) is not None else topic


@pytest.mark.parametrize("template", TEMPLATES)
def test_each_document_goes_where_its_rendered_template_says(template: str) -> None:
    out = KafkaOutput(KafkaOutputConfig(bootstrap_servers=["127.0.0.1:1"], topic=template, key_field="source.ip"), {})
    result = SendResult()
    for round_no in range(2):  # the second time from the output's cache
        for i, event in enumerate(EVENTS):
            message = out._message(i, orjson.dumps(event), result)
            assert message is not None
            assert message.topic == plain_topic(template, event, out.cfg.fallback_topic), (round_no, event)
            assert message.topic == out.topic_for(event)
            dataset = field_value(event, "event.dataset") or ""
            assert dict(message.headers)["ucsiem.dataset"] == dataset.encode()
            key = out.key_for(event)
            assert message.key == (key.encode() if key is not None else None)
    assert not result.rejected
