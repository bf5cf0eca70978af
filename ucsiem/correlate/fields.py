"""Field names of rules: which dotted names exist in the schema, and fast getters over nested event dicts.

Events arrive as the JSON objects the agent ships (nested dicts); a dotted name walks the nesting. Under
a field the schema stores as one object of free keys (`uc.vendor`, `labels`), the rest of the name is one
key, dots included, because vendor keys may contain dots.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from ucsiem.codegen import generated
from ucsiem.schema.event import field_paths

Getter = Callable[[Mapping[str, Any]], Any]


def _free_keys(annotation: Any) -> bool:
    """A dict-typed field: its keys are data, not schema."""
    if typing.get_origin(annotation) is dict:
        return True
    return any(_free_keys(a) for a in typing.get_args(annotation))


@cache
def _schema() -> tuple[frozenset[str], tuple[str, ...]]:
    leaves = field_paths()
    known = frozenset(name for name, _ in leaves)
    free = tuple(name for name, info in leaves if _free_keys(info.annotation))
    return known, free


def known_fields() -> frozenset[str]:
    return _schema()[0]


def split_field(name: str) -> tuple[str, ...] | None:
    """The keys to walk for a dotted name, or None when the schema has no such field."""
    known, free = _schema()
    if name in known:
        return (name,) if name == "@timestamp" else tuple(name.split("."))
    for prefix in free:
        if name.startswith(prefix + ".") and len(name) > len(prefix) + 1:
            return (*prefix.split("."), name[len(prefix) + 1:])
    return None


def field_keys(name: str) -> tuple[str, ...]:
    """`split_field`, for names already checked when the rules were read: ValueError names one that is not."""
    keys = split_field(name)
    if keys is None:
        raise ValueError(f"unknown field {name!r}")
    return keys


def getter(name: str) -> Getter:
    """A function returning the value at `name` in an event, None when any step is missing.

    Unrolled for the usual depths: this runs for every rule tried on every event.
    """
    keys = field_keys(name)
    if len(keys) == 1:
        (a,) = keys
        return lambda ev: ev.get(a)
    if len(keys) == 2:
        a, b = keys

        def get2(ev: Mapping[str, Any]) -> Any:
            x = ev.get(a)
            return x.get(b) if type(x) is dict else None
        return get2
    if len(keys) == 3:
        a, b, c = keys

        def get3(ev: Mapping[str, Any]) -> Any:
            x = ev.get(a)
            if type(x) is not dict:
                return None
            x = x.get(b)
            return x.get(c) if type(x) is dict else None
        return get3

    def get_n(ev: Mapping[str, Any]) -> Any:
        x: Any = ev
        for key in keys:
            if type(x) is not dict and x is not ev:
                return None
            x = x.get(key)
            if x is None:
                return None
        return x
    return get_n


Extractor = Callable[[Mapping[str, Any]], dict[str, Any]]


def extractor(names: Sequence[str]) -> Extractor:
    """A function returning {name: value} for the `names` an event has (not None), in the order given: what
    `getter` reads for each name, in one call that walks each shared object once (`source` once for
    `source.ip` and `source.user.name`). A hit takes its rules' fields, about twenty, for every matched
    event; a call per name cost more than matching the rules.

    The function is generated as Python source (`generated`); only `repr` of the schema's keys is written
    into it."""
    paths = [(name, field_keys(name)) for name in names]
    nodes: dict[tuple[str, ...], str] = {(): "ev"}
    head: list[str] = []

    def node(prefix: tuple[str, ...]) -> str:
        """The local holding the object at `prefix` (None when it is missing or not an object)."""
        if prefix not in nodes:
            parent = node(prefix[:-1])
            var = f"n{len(nodes)}"
            nodes[prefix] = var
            head.extend([f"    {var} = {_read(parent, prefix[-1])}", f"    if type({var}) is not dict:",
                         f"        {var} = None"])
        return nodes[prefix]

    body = ["    out = {}"]
    for name, keys in paths:
        body.extend([f"    v = {_read(node(keys[:-1]), keys[-1])}", "    if v is not None:",
                     f"        out[{name!r}] = v"])
    source = "\n".join(["def match(ev):", *head, *body, "    return out", ""])
    extract: Extractor = generated(source, {}, f"<fields extractor {len(names)}>")
    return extract


def _read(parent: str, key: str) -> str:
    return f"ev.get({key!r})" if parent == "ev" else f"{parent}.get({key!r}) if {parent} is not None else None"


def parse_time(value: Any) -> float | None:
    """Epoch seconds of an RFC 3339 time as the schema writes it (`...Z` or an offset), or of an aware datetime
    (the agent's workers detect on validated events, before they are serialized); None if it is neither."""
    if isinstance(value, datetime):
        return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).timestamp()
    if not isinstance(value, str):
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return None
    if t.tzinfo is None:  # the schema only writes aware times; a naive one is read as UTC, never as local time
        t = t.replace(tzinfo=UTC)
    return t.timestamp()


def iso_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
