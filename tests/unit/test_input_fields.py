"""ucsiem.normalize.InputFields / add_missing: an input's fields merged under the parser's, as the plain
recursive merge does it (values, object replacement, key order); the fields' objects are shared by the
events, so merging must never change them (privacy copies what it edits: tests/unit/test_enrich_privacy.py)."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from ucsiem.normalize import InputFields, add_missing

KEYS = st.sampled_from(["log", "syslog", "source", "observer", "ip", "tags", "a", "b"])
LEAVES = st.one_of(st.integers(-3, 3), st.text(max_size=3), st.none(), st.lists(st.integers(0, 3), max_size=3))
TREES = st.recursive(LEAVES, lambda inner: st.dictionaries(KEYS, inner, max_size=4), max_leaves=12)
OBJECTS = st.dictionaries(KEYS, TREES, max_size=5)


def reference_merge(event: dict[str, Any], fields: dict[str, Any]) -> None:
    """The rule, written plainly: recurse into objects, a non-object in the way becomes one, leaves only
    where the event has none."""
    for key, value in fields.items():
        if isinstance(value, dict):
            node = event.get(key)
            if not isinstance(node, dict):
                node = event[key] = {}
            reference_merge(node, value)
        else:
            event.setdefault(key, value)


@settings(max_examples=600, deadline=None)
@given(OBJECTS, OBJECTS)
def test_add_missing_is_the_recursive_merge_key_order_included(event: dict[str, Any], fields: dict[str, Any]) -> None:
    expected = orjson.loads(orjson.dumps(event))
    reference_merge(expected, orjson.loads(orjson.dumps(fields)))
    add_missing(event, InputFields.of(fields))
    assert orjson.dumps(event) == orjson.dumps(expected)


@settings(max_examples=300, deadline=None)
@given(st.lists(OBJECTS, min_size=1, max_size=4), OBJECTS)
def test_merging_never_changes_the_fields(events: list[dict[str, Any]], fields: dict[str, Any]) -> None:
    before = orjson.dumps(fields)
    prepared = InputFields.of(fields)
    for event in events:
        add_missing(event, prepared)
    assert orjson.dumps(fields) == before


def test_the_parsers_values_win_and_an_empty_object_is_made() -> None:
    event: dict[str, Any] = {"log": {"syslog": {"hostname": "from-the-line"}}, "observer": "not an object"}
    add_missing(event, InputFields.of({"log": {"syslog": {"hostname": "peer", "appname": "app"}},
                                       "observer": {"ip": ["192.0.2.1"]}, "labels": {}}))
    assert event == {"log": {"syslog": {"hostname": "from-the-line", "appname": "app"}},
                     "observer": {"ip": ["192.0.2.1"]}, "labels": {}}
