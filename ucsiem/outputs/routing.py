"""Values taken from an event for routing: topic/index templates and message keys.

A template is text with `{field.path}` holes, e.g. `ucsiem.{event.dataset}`; it is compiled once.
"""

from __future__ import annotations

import re
from typing import Any

_HOLE = re.compile(r"\{([A-Za-z0-9_@.]+)\}")


def field_value(doc: dict[str, Any], path: str) -> str | None:
    """The value at a dotted path as text (lists: their first item); None when absent."""
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
    if node is None or isinstance(node, dict):
        return None
    return node if isinstance(node, str) else str(node).lower() if isinstance(node, bool) else str(node)


class Template:
    def __init__(self, text: str, *, missing: str = "unknown") -> None:
        self.text = text
        self.missing = missing
        parts = _HOLE.split(text)
        self._literals = parts[0::2]
        self._fields = parts[1::2]

    @property
    def fields(self) -> list[str]:
        return list(self._fields)

    def render(self, doc: dict[str, Any]) -> str:
        out = [self._literals[0]]
        for field, literal in zip(self._fields, self._literals[1:], strict=True):
            out.append(field_value(doc, field) or self.missing)
            out.append(literal)
        return "".join(out)


def kafka_topic_safe(name: str) -> str:
    """Kafka topic names allow [A-Za-z0-9._-] and 249 characters."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:249]
