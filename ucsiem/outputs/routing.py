"""Values taken from an event for routing: topic/index templates and message keys.

A template is text with `{field.path}` holes, e.g. `ucsiem.{event.dataset}`; it is compiled once.
Names of topics and indices must never be chosen by log content: a topic template may only name the
fields in TOPIC_TEMPLATE_FIELDS (set by the agent or the parser, never copied from a log line), and a
rendered name is checked against Kafka's rules before use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TypedDict

import msgspec
import orjson

HOLE = re.compile(r"\{([A-Za-z0-9_@.]+)\}")
# Fields whose values come from the parser's spec, the schema's fixed vocabularies or the agent's
# config. `{observer.hostname}` or `{user.name}` would let whoever writes a log line pick the topic
# (`__consumer_offsets`, or one topic per line until the broker falls over).
TOPIC_TEMPLATE_FIELDS = frozenset({
    "event.dataset", "event.module", "event.kind", "event.category", "event.type", "event.outcome",
    "observer.vendor", "observer.product", "observer.type", "agent.name",
})
_TOPIC_CHARS = re.compile(r"[A-Za-z0-9._-]+")
_NOT_TOPIC_CHAR = re.compile(r"[^A-Za-z0-9._-]")
MAX_TOPIC_CHARS = 249


def field_value(doc: dict[str, Any], path: str) -> str | None:
    """The value at a dotted path as text (lists: their first item); None when absent or not a scalar."""
    node: Any = doc
    if path in doc:  # "@timestamp" and other flat keys
        node = doc[path]
    else:
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
    if isinstance(node, list):
        node = node[0] if node else None
    if node is None or isinstance(node, (dict, list)):  # no text of a nested object or list is a route
        return None
    return node if isinstance(node, str) else str(node).lower() if isinstance(node, bool) else str(node)


class RoutingView:
    """The few fields an output routes a document by, read without decoding the rest of it.

    An output needs a handful of values of each ~1 KB document (its topic, key, index, id); `orjson.loads`
    builds every object of it (~5 µs), a decoder of just these fields skips the rest in C (~1.5 µs).
    `read` gives a dict holding, at each of `paths`, what `orjson.loads` would hold there, so the output's
    own code (`field_value`, `is_alert`, ...) reads it as it reads a whole document. A document whose shape
    the fields cannot take (a string where an object is expected, not an object at all) and one that is
    not JSON are decoded whole, as before: the full decode has the last word on anything odd."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths = tuple(dict.fromkeys(paths))
        self._decoder = msgspec.json.Decoder(_shape(self.paths))

    def read(self, doc: bytes) -> Any:
        """The document's values at `paths` (see the class); raises orjson.JSONDecodeError when it is not JSON."""
        try:
            return self._decoder.decode(doc)
        # DecodeError includes msgspec.ValidationError: another shape than the paths expect. msgspec stops at
        # ~1,000 levels of nesting where orjson goes on to 1,024: that depth is orjson's to judge too.
        except (msgspec.DecodeError, RecursionError):
            return orjson.loads(doc)


def _shape(paths: tuple[str, ...]) -> Any:
    """A TypedDict of `paths`: each path's parents an object (a TypedDict: other keys are skipped unread), its
    last part any value; each dotted path also as a flat key of the document, which `field_value` reads first."""
    tree: dict[str, Any] = {}
    for path in paths:
        tree[path] = None  # the flat key (a path without a dot is just that key)
        node = tree
        parts = path.split(".")
        for part in parts[:-1]:
            below = node.get(part)
            if below is None and part in node:  # a shorter path takes the whole value already
                break
            node = node.setdefault(part, {})
        else:
            node[parts[-1]] = None  # any value, whatever lies below (it wins over a longer path)
    return _typed_dict(tree, "Document")


def _typed_dict(tree: dict[str, Any], name: str) -> Any:
    fields = {key: Any if below is None else _typed_dict(below, f"{name}.{key}") for key, below in tree.items()}
    make: Any = TypedDict  # keys computed from the configuration: opaque to the type checker on purpose
    return make(name, fields, total=False)


class Template:
    def __init__(self, text: str, *, missing: str = "unknown") -> None:
        self.text = text
        self.missing = missing
        parts = HOLE.split(text)
        self._literals = parts[0::2]
        self._fields = parts[1::2]

    @property
    def fields(self) -> list[str]:
        return list(self._fields)

    def render(self, doc: dict[str, Any]) -> str:
        return self.join(self.values(doc))

    def values(self, doc: dict[str, Any]) -> tuple[str | None, ...]:
        """The holes' values in `doc`: all that its rendering depends on."""
        return tuple(field_value(doc, field) for field in self._fields)

    def join(self, values: tuple[str | None, ...]) -> str:
        out = [self._literals[0]]
        for value, literal in zip(values, self._literals[1:], strict=True):
            out.append(value or self.missing)
            out.append(literal)
        return "".join(out)


def topic_problem(name: str) -> str | None:
    """Why `name` cannot be a topic we write to (Kafka's own rules, plus: not an internal topic); None if it can."""
    if not name:
        return "a topic name cannot be empty"
    if len(name) > MAX_TOPIC_CHARS:
        return f"a topic name has at most {MAX_TOPIC_CHARS} characters"
    if not _TOPIC_CHARS.fullmatch(name):
        return "a topic name has only letters, digits, '.', '_' and '-'"
    if name in (".", ".."):
        return "'.' and '..' are not topic names"
    if name.startswith("__"):
        return "topics starting with '__' are Kafka's internal topics (__consumer_offsets...)"
    return None


def template_problem(text: str) -> str | None:
    """What is wrong with a topic template, checked once at config load; None if nothing."""
    fields = HOLE.findall(text)
    for field in fields:
        if field not in TOPIC_TEMPLATE_FIELDS:
            return (f"{{{field}}} may come from log content and cannot choose a topic; "
                    f"use only {', '.join('{' + f + '}' for f in sorted(TOPIC_TEMPLATE_FIELDS))}")
    literal = HOLE.sub("", text)
    if literal and not _TOPIC_CHARS.fullmatch(literal):
        return "outside {field} holes a topic template has only letters, digits, '.', '_' and '-'"
    if text.startswith("__"):
        return "topics starting with '__' are Kafka's internal topics (__consumer_offsets...)"
    if not fields:
        return topic_problem(text)
    return None


def kafka_topic_safe(name: str) -> str:
    """Characters Kafka refuses become '_', and the name is cut to Kafka's limit (check topic_problem after)."""
    return _NOT_TOPIC_CHAR.sub("_", name)[:MAX_TOPIC_CHARS]


# -- alerts ----------------------------------------------------------------------------------------------
# Correlation alerts are re-sent with the same event.id as their running count grows and when their window
# closes. Outputs keep the newest version: Elasticsearch writes them to a plain index with `index` and
# external versioning (uc.alert.count), Kafka keys them by event.id (a compacted topic keeps the last one).

ALERT_DATASET = "ucsiem.alert"
ALERT_KIND = "alert"
MAX_ES_VERSION = 2**63 - 1
ALERTS_INDEX_PREFIX = "ucsiem-alerts-"  # the alerts index template's pattern is ucsiem-alerts-*
_INDEX_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
_EVENT_INDEX_PREFIX = "logs-uc."  # the events' data streams and daily indices: `create` only


def is_alert(event: Any) -> bool:
    """A correlation alert of ours: event.kind `alert` and event.dataset `ucsiem.alert`.

    A dead letter standing for a refused alert keeps the dataset but is a `pipeline_error`: not an alert."""
    ev = event.get("event") if isinstance(event, dict) else None
    return isinstance(ev, dict) and ev.get("dataset") == ALERT_DATASET and ev.get("kind") == ALERT_KIND


def alert_version(event: Any) -> int | None:
    """The alert's version: uc.alert.count, which only grows between two sends of one alert id.

    None when it is missing or no Elasticsearch version (a bool, a float, negative, above 2^63-1)."""
    uc = event.get("uc") if isinstance(event, dict) else None
    alert = uc.get("alert") if isinstance(uc, dict) else None
    count = alert.get("count") if isinstance(alert, dict) else None
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_ES_VERSION:
        return None
    return count


def index_problem(name: str) -> str | None:
    """Why `name` cannot be the alerts index (Elasticsearch's naming rules, plus ours); None if it can."""
    if not name:
        return "an index name cannot be empty"
    if len(name.encode()) > 255:
        return "an index name has at most 255 bytes"
    if not _INDEX_NAME.fullmatch(name):
        return "an index name has only lowercase letters, digits, '.', '_' and '-', and starts with a letter or digit"
    if name.startswith(_EVENT_INDEX_PREFIX):
        return ("names under logs-uc.* are the events' data streams, which take no updates: use another name "
                f"(the alerts template covers {ALERTS_INDEX_PREFIX}*)")
    return None
