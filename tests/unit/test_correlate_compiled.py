"""The detector's short cuts held equal to the plain rules (issue 9): the hit fields read in one call, a
field's list of strings tested in one pass, nested conditions flattened. Each is compared with what it
replaces, on generated events and on every rule of the shipped pack."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sigma.conditions import ConditionAND, ConditionFieldEqualsValueExpression, ConditionNOT, ConditionOR
from sigma.types import SigmaBool, SigmaCasedString, SigmaNumber, SigmaString, SigmaType

from ucsiem.correlate import Detector, load_rules
from ucsiem.correlate.fields import extractor, getter, split_field
from ucsiem.correlate.match import _leaf, _on_values, any_value_test, compile_rule, required_values, value_test

PACK = load_rules([Path(__file__).resolve().parents[2] / "rules"])

# -- events ----------------------------------------------------------------------------------------------

DOTLESS_I, SMALL_SIGMA = "\u0131", "\u03c3"  # case rules of their own: lower() and upper() are not inverses
TEXT = st.text(alphabet=st.sampled_from(f"aAbBsSiI\u0130{DOTLESS_I}\u00df {SMALL_SIGMA}\u03a3-_.:0129*?"), max_size=12)
SCALAR = st.one_of(st.none(), TEXT, st.booleans(), st.integers(-3, 30), st.floats(allow_nan=False, width=32))
VALUE = st.one_of(SCALAR, st.lists(SCALAR, max_size=3), st.just({"x": 1}))


def put(doc: dict[str, Any], name: str, value: Any) -> None:
    keys = split_field(name)
    assert keys is not None
    node = doc
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            if child is not None:  # a value where an object belongs: the walk stops there
                return
            child = node[key] = {}
        node = child
    node[keys[-1]] = value


def build(draw: Callable[..., Any], names: list[str], values: list[Any]) -> dict[str, Any]:
    """An event setting some of `names` to a rule's own values (case changed at times), other values, or a
    scalar where an object belongs."""
    doc: dict[str, Any] = {}
    for name in draw(st.permutations(names)):
        kind = draw(st.integers(0, 4))
        if kind == 0:
            continue
        if kind == 1 and values:
            value = draw(st.sampled_from(values))
            if isinstance(value, str) and draw(st.booleans()):
                value = value.upper()
        elif kind == 2:
            keys = split_field(name)
            assert keys is not None
            if len(keys) > 1:
                doc.setdefault(keys[0], draw(SCALAR))  # `source: "x"`: nothing below it
            continue
        else:
            value = draw(VALUE)
        put(doc, name, value)
    return doc


# -- the hit fields ----------------------------------------------------------------------------------------

NAMES = ["@timestamp", "source.ip", "source.user.name", "source.user.domain", "destination.ip", "user.name",
         "user.target.name", "event.action", "event.outcome", "observer.hostname", "log.offset",
         "uc.call.trunk", "uc.call.callee_international", "uc.vendor.Src-alias.type", "source.geo.country_iso_code",
         "related.ip"]


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_extractor_reads_what_the_getters_read_in_the_same_order(data: st.DataObject) -> None:
    names = data.draw(st.lists(st.sampled_from(NAMES), unique=True, min_size=1))
    event = build(data.draw, names, ["a", 1])
    expected = {n: v for n in names if (v := getter(n)(event)) is not None}
    got = extractor(names)(event)
    assert list(got.items()) == list(expected.items())


def test_extractor_names_an_unknown_field() -> None:
    try:
        extractor(["source.ip", "no.such.field"])
    except ValueError as exc:
        assert "no.such.field" in str(exc)
    else:
        raise AssertionError("an unknown field was accepted")


# -- one field, many strings -------------------------------------------------------------------------------

PATTERNS = st.sampled_from([
    "scan", "*scan*", "sip*", f"*{DOTLESS_I}ss", "*s", "*\u0130", "a*", f"*{SMALL_SIGMA}", "*SS*", "\u00df*", "*",
    "a*b", "s?p", "\u0130", "*\u0130*", "", "**", f"*{SMALL_SIGMA}*", "\u03a3*", "*-*", "0", "1*"])


@settings(max_examples=600, deadline=None)
@given(st.lists(st.tuples(PATTERNS, st.booleans()), min_size=2, max_size=6), VALUE)
def test_a_fields_strings_match_as_tested_one_by_one(patterns: list[tuple[str, bool]], value: Any) -> None:
    values: list[SigmaType] = [SigmaCasedString(p) if cased else SigmaString(p) for p, cased in patterns]
    values += [SigmaNumber(1), SigmaBool(True)]
    event = {"user_agent": {"original": value}}
    tests = [value_test(v, "user_agent.original") for v in values]
    one_by_one = _on_values(getter("user_agent.original"), lambda x: any(t(x) for t in tests))
    together = _on_values(getter("user_agent.original"), any_value_test("user_agent.original", values))
    assert together(event) == one_by_one(event)


# -- whole rules: flattened and grouped against the tree as pySigma parsed it ---------------------------------

def reference(node: Any, event: Mapping[str, Any]) -> bool:
    """The condition tree evaluated as written, node by node, each leaf on its own."""
    if isinstance(node, ConditionAND):
        return all(reference(a, event) for a in node.args)
    if isinstance(node, ConditionOR):
        return any(reference(a, event) for a in node.args)
    if isinstance(node, ConditionNOT):
        return not reference(node.args[0], event)
    assert isinstance(node, ConditionFieldEqualsValueExpression)
    return _leaf(node.field, node.value)(event)


def leaves(node: Any) -> list[ConditionFieldEqualsValueExpression]:
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return [node]
    return [leaf for a in node.args for leaf in leaves(a)]


def literal(value: SigmaType) -> Any:
    if isinstance(value, SigmaString):
        return "".join(p for p in value.iter_parts() if isinstance(p, str))
    if isinstance(value, SigmaBool):
        return bool(value)
    if isinstance(value, SigmaNumber):
        return value.number
    return None


# Every leaf kind the emitter writes inline or binds, with NOT, nesting and lists, beside the pack's rules.
KINDS = """
  a: {user.name: null}
  b: {source.user.name|exists: true, destination.user.name|exists: false}
  c: {uc.call.callee_international: true, log.offset: 3}
  d: {user.name|fieldref: source.user.name}
  e: {user_agent.original|contains|all: [s, a]}
  f: {user_agent.original: ['sip*', '*ss', 's?p', scan, 1]}
  g: {log.offset|gte: 2, user.target.name|cased: Scan}
  condition: (a or not b) and (c or d) or (e and not (f or g))
"""


def _kinds_rules() -> list[Any]:
    """The combined condition, and each selection alone (so that each leaf decides some events)."""
    import tempfile
    *selections, _ = KINDS.strip("\n").splitlines()
    conditions = ["(a or not b) and (c or d) or (e and not (f or g))", *"abcdefg", "not a", "not b"]
    docs = [f"title: kinds {i}\nid: 11111111-1111-4111-8111-{i:012d}\nlogsource: {{product: x}}\ndetection:\n"
            + "\n".join(selections) + f"\n  condition: {condition}\n" for i, condition in enumerate(conditions)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "kinds.yml"
        path.write_text("---\n".join(docs))
        return list(load_rules([path]).detections.values())


RULES = [*PACK.detections.values(), *_kinds_rules()]


@settings(max_examples=2000, deadline=None)
@given(st.sampled_from(RULES), st.data())
def test_every_pack_rule_matches_as_its_condition_tree(rule: Any, data: st.DataObject) -> None:
    tree = rule.sigma.detection.parsed_condition[0].parsed
    found = leaves(tree)
    names = sorted({leaf.field for leaf in found})
    values = [v for leaf in found if (v := literal(leaf.value)) is not None]
    event = build(data.draw, names, values)
    want = reference(tree, event)
    assert compile_rule(rule.sigma, with_logsource=False)(event) == want
    implied = required_values(rule.sigma, "event.action")
    if implied:  # as the detector calls it: the event's action is one the index chose the rule for
        action = data.draw(st.sampled_from(sorted(implied)))
        put(event, "event.action", action)
        if getter("event.action")(event) == action:
            assert compile_rule(rule.sigma, implied, with_logsource=False)(event) == reference(tree, event)


# -- the rule files ------------------------------------------------------------------------------------------

def test_rule_files_read_the_same_with_libyaml_as_with_pure_python() -> None:
    import yaml

    from ucsiem.correlate.rules import SAFE_LOADER

    root = Path(__file__).resolve().parents[2]
    files = sorted((root / "rules").rglob("*.yml"))
    assert len(files) >= 10
    assert SAFE_LOADER is getattr(yaml, "CSafeLoader", None)  # else the pack loads at the pure-Python speed
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert list(yaml.load_all(text, Loader=SAFE_LOADER)) == list(yaml.load_all(text, Loader=yaml.SafeLoader))


# -- a set of candidates in one function ---------------------------------------------------------------------

DETECTOR = Detector(PACK)
PACK_NAMES = sorted({leaf.field for r in PACK.detections.values()
                     for leaf in leaves(r.sigma.detection.parsed_condition[0].parsed)}
                    | {"event.action", "event.outcome", "event.category", "event.module", "event.dataset"})
PACK_VALUES = [v for r in PACK.detections.values() for leaf in leaves(r.sigma.detection.parsed_condition[0].parsed)
               if (v := literal(leaf.value)) is not None] + ["session", "network", "authentication", ["session"]]


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(list(PACK.detections.values())), st.data())
def test_the_candidates_matcher_matches_each_rule_as_its_condition_tree(rule: Any, data: st.DataObject) -> None:
    event = build(data.draw, PACK_NAMES, PACK_VALUES)
    # a header the rule is a candidate for, most of the time: its action, outcome and log source category
    if (actions := required_values(rule.sigma, "event.action")) and data.draw(st.integers(0, 5)):
        put(event, "event.action", data.draw(st.sampled_from(sorted(actions))))
    if (outcomes := required_values(rule.sigma, "event.outcome")) and data.draw(st.integers(0, 5)):
        put(event, "event.outcome", data.draw(st.sampled_from(sorted(outcomes))))
    if rule.sigma.logsource.category and data.draw(st.integers(0, 5)):
        put(event, "event.category", [rule.sigma.logsource.category])
    by_rule = tuple(c.key for c in DETECTOR.candidates(event) if c.predicate(event))
    assert DETECTOR.matched(event) == by_rule
    assert DETECTOR.matched(event) == by_rule  # the second time from the remembered matcher
    for key in by_rule:
        assert reference(PACK.detections[key].sigma.detection.parsed_condition[0].parsed, event)
