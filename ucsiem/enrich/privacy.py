"""What may leave the agent: chosen fields replaced by a keyed hash (HMAC-SHA256) or removed.

A keyed hash lets a SOC correlate (the same number always gives the same value, so counts, joins and
alerts per caller still work) without seeing the number or the name; without the key, a short value
such as an extension cannot be found by trying every candidate. It runs last, before `related.*` is
filled, so `related.user` holds what is shipped.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from ucsiem.enrich.config import PrivacyConfig


class Privacy:
    def __init__(self, cfg: PrivacyConfig, key: bytes | None) -> None:
        self.hash_paths = [tuple(p.split(".")) for p in cfg.hash_fields]
        self.redact_paths = [tuple(p.split(".")) for p in cfg.redact_fields]
        self._key = key or b""

    def pseudonym(self, value: str) -> str:
        return hmac.new(self._key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    def apply(self, event: dict[str, Any]) -> None:
        """Edits the event in place, but never an object it shares with other events (the agent's `agent`
        and `host`, an input's `log.syslog`): each object on the way to a changed field is copied first.
        Hashing a shared `host.name` in place hashed it again for every event."""
        for path in self.redact_paths:
            _remove(event, path)
        for path in self.hash_paths:
            parent = _own_parent(event, path)
            if parent is None or path[-1] not in parent:
                continue
            value = parent[path[-1]]
            if isinstance(value, str):
                parent[path[-1]] = self.pseudonym(value)
            elif isinstance(value, list):
                parent[path[-1]] = [self.pseudonym(v) if isinstance(v, str) else v for v in value]


def _own_parent(event: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
    """The object holding the field, after replacing it and each object above it with a copy."""
    node = event
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            return None
        node[part] = node = dict(child)
    return node


def _remove(node: dict[str, Any], path: tuple[str, ...]) -> None:
    """Remove the field, and the objects it leaves empty (an empty `source.user: {}` says nothing); the
    objects on the way are copies (see `Privacy.apply`)."""
    if len(path) == 1:
        node.pop(path[0], None)
        return
    child = node.get(path[0])
    if isinstance(child, dict):
        node[path[0]] = child = dict(child)
        _remove(child, path[1:])
        if not child:
            del node[path[0]]
