"""Sigma detections compiled once into Python predicates over event dicts.

pySigma parses a rule into a condition tree (AND/OR/NOT over `field = value` leaves whose values its
modifiers have already turned into typed values: strings with wildcards, regular expressions, CIDR
networks, comparisons...). Each leaf becomes a closure here, so matching an event runs no Sigma code.

Sigma semantics kept: strings match case-insensitively (`cased` and `re` are case-sensitive), `*` and `?`
are wildcards, a list of values is OR (`all`: AND), `null` means the field is absent or null, and a
field holding a list matches when any element does (ECS). Numbers compare with numbers or numeric text.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from ipaddress import IPv4Network
from typing import Any, NamedTuple

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.modifiers import reverse_modifier_mapping
from sigma.rule import SigmaDetection, SigmaLogSource, SigmaRule
from sigma.types import (
    CompareOperators,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SigmaType,
    SpecialChars,
    TimestampPart,
)

from ucsiem.codegen import generated
from ucsiem.correlate.fields import field_keys, getter, parse_time, split_field

Predicate = Callable[[Mapping[str, Any]], bool]
Test = Callable[[Any], bool]  # on one scalar value of a field

# Modifiers with a meaning on our events. Not here: wide/utf16* (UTF-16 bytes never appear in JSON text),
# expand (placeholders filled by a conversion pipeline, which we do not have).
SUPPORTED_MODIFIERS = frozenset({
    "contains", "startswith", "endswith", "all", "re", "i", "ignorecase", "m", "multiline", "s", "dotall",
    "cidr", "gt", "gte", "lt", "lte", "neq", "exists", "base64", "base64offset", "windash", "cased", "fieldref",
    "minute", "hour", "day", "week", "month", "year",
})

_PY_FLAGS = {SigmaRegularExpressionFlag.IGNORECASE: re.IGNORECASE, SigmaRegularExpressionFlag.MULTILINE: re.MULTILINE,
             SigmaRegularExpressionFlag.DOTALL: re.DOTALL}


class UnsupportedRule(ValueError):
    """A construct this engine cannot evaluate; the message says which."""


# ---- checks done before compiling, so every problem of a rule is reported ----

def rule_problems(rule: SigmaRule) -> list[str]:
    problems: list[str] = []
    for name, detection in rule.detection.detections.items():
        _item_problems(name, detection, problems)
    return problems


def _item_problems(name: str, detection: SigmaDetection, problems: list[str]) -> None:
    for item in detection.detection_items:
        if isinstance(item, SigmaDetection):
            _item_problems(name, item, problems)
            continue
        if item.field is None:
            problems.append(f"detection {name!r}: keyword (field-less) values are not supported; name a field")
        elif split_field(item.field) is None:
            problems.append(f"detection {name!r}: unknown field {item.field!r} (not in the event schema)")
        for mod in item.modifiers:
            ident = reverse_modifier_mapping.get(mod.__name__, mod.__name__)
            if ident not in SUPPORTED_MODIFIERS:
                problems.append(f"detection {name!r}: modifier {ident!r} is not supported")
        for value in item.value:
            if isinstance(value, SigmaFieldReference) and split_field(value.field) is None:
                problems.append(f"detection {name!r}: fieldref to unknown field {value.field!r}")
            if isinstance(value, SigmaRegularExpression):
                problems += _regex_problems(name, item.field, value)


def _regex_problems(name: str, field: str | None, value: SigmaRegularExpression) -> list[str]:
    """A rule's regex runs on every matching event's field, which a log writer controls: refuse one that can
    backtrack catastrophically (the same check as parser plugins' patterns, regexploit)."""
    from ucsiem.parsing.registry import catastrophic_example

    flags = 0
    for flag in value.flags:
        flags |= _PY_FLAGS[flag]
    pattern = str(value.regexp)
    try:
        re.compile(pattern, flags)
    except re.error as exc:
        return [f"detection {name!r}: field {field!r}: {pattern!r} is not a valid regular expression ({exc})"]
    example = catastrophic_example(pattern, flags)
    if example is None:
        return []
    return [f"detection {name!r}: field {field!r}: regex {pattern!r} can backtrack catastrophically (a value such "
            f"as {example} takes exponential time); rewrite it without nested or overlapping quantifiers"]


# ---- compiling ----

class RuleSource(NamedTuple):
    """A rule's condition as a Python expression over `ev`, and the names that expression uses."""

    body: str
    scope: dict[str, Any]


def rule_source(rule: SigmaRule, implied: frozenset[str] | None = None, with_logsource: bool = True,
                tag: str = "") -> RuleSource:
    """The rule's condition (AND its log source unless the caller checks that) as one expression.

    `implied`: `event.action` values the caller guarantees (the detector's index); a top-level test that
    event.action is one of a superset of them is then left out. `tag` keeps the names of different rules
    apart when their expressions go into one function (`compile_matcher`).
    """
    trees = [cond.parsed for cond in rule.detection.parsed_condition]
    emit = _Emitter(tag)
    if implied is not None and len(trees) == 1 and isinstance(trees[0], ConditionAND):
        kept = [a for a in _flat_args(trees[0]) if not _implied_action(a, implied)]
        body = emit.all_of(kept) if kept else "True"
    else:
        body = emit.any_of([emit.expr(t) for t in trees])
    source = logsource_predicate(rule.logsource) if with_logsource else None
    if source is not None:
        test = f"{emit.bind(source, 'source')}(ev)"
        body = test if body == "True" else f"({test} and {body})"
    return RuleSource(body, emit.scope)


def compile_rule(rule: SigmaRule, implied: frozenset[str] | None = None, with_logsource: bool = True) -> Predicate:
    """`rule_source` as a function of the event."""
    return compile_source(rule_source(rule, implied, with_logsource), str(rule.title or rule.id))


def compile_source(source: RuleSource, title: str) -> Predicate:
    predicate: Predicate = _function(f"def match(ev):\n    return {source.body}\n", source.scope, title)
    return predicate


Matcher = Callable[[Mapping[str, Any]], tuple[str, ...]]


def compile_matcher(rules: Sequence[tuple[str, RuleSource]]) -> Matcher:
    """One function trying several rules on an event, in order: the keys of those it matches. The detector
    makes one per set of candidate rules (rules an event's header allows), saving a call per rule tried."""
    scope: dict[str, Any] = {}
    lines = ["def match(ev):", "    out = ()"]
    for key, (body, names) in rules:
        scope.update(names)
        lines += [f"    if {body}:", f"        out += ({key!r},)"]
    matcher: Matcher = _function("\n".join([*lines, "    return out", ""]), scope, f"{len(rules)} rules")
    return matcher


def _function(source: str, scope: dict[str, Any], title: str) -> Any:
    try:
        return generated(source, scope, f"<rule {title!r}>")
    except (SyntaxError, RecursionError, MemoryError) as exc:
        raise UnsupportedRule(f"the condition is nested too deeply to compile ({type(exc).__name__})") from exc


def _implied_action(node: Any, implied: frozenset[str]) -> bool:
    values = _required(node, "event.action")
    if values is None:
        return False
    leaves = node.args if isinstance(node, ConditionOR) else [node]
    only_action = all(isinstance(a, ConditionFieldEqualsValueExpression) and a.field == "event.action" for a in leaves)
    return only_action and implied <= values


def _flat_args(node: ConditionAND | ConditionOR) -> list[Any]:
    """The operands of an AND of ANDs (an OR of ORs) as one list, in order. pySigma nests a selection of
    several items in the condition that names it (`call and (early or late)` is AND(AND(action,
    international), OR(early, late))): flat, the action the detector's index implies is left out, and the
    values of one field in nested ORs are looked up together."""
    out: list[Any] = []
    for arg in node.args:
        if type(arg) is type(node):
            out.extend(_flat_args(arg))
        else:
            out.append(arg)
    return out


class _Emitter:
    """Writes a condition tree as the body of one Python function over the event `ev`: AND, OR and NOT as
    Python's, each field read inline (`event.outcome` is two `dict.get`s, not three calls), the common
    leaves (a string, null, exists) inline too, and every other value test a closure it calls. One call per
    rule and event, where a closure per node cost about three calls per leaf: matching the pack was most
    of what detection cost. Only `repr` of values from the rule and names of bound closures are written
    into the source; `_leaf` is the same leaf as a closure, which the tests hold the inline code to."""

    def __init__(self, tag: str = "") -> None:
        self.scope: dict[str, Any] = {}
        self.tag = tag
        self.count = 0

    def bind(self, obj: Any, prefix: str) -> str:
        self.count += 1
        name = f"{prefix}{self.tag}_{self.count}"
        self.scope[name] = obj
        return name

    def local(self) -> str:
        self.count += 1
        return f"v{self.tag}_{self.count}"

    def all_of(self, nodes: list[Any]) -> str:
        parts = [self.expr(n) for n in nodes]
        return parts[0] if len(parts) == 1 else "(" + " and ".join(parts) + ")"

    @staticmethod
    def any_of(parts: list[str]) -> str:
        return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"

    def expr(self, node: Any) -> str:
        if isinstance(node, ConditionAND):
            return self.all_of(_flat_args(node))
        if isinstance(node, ConditionOR):
            return self.any_of(self._or_parts(_flat_args(node)))
        if isinstance(node, ConditionNOT):
            return f"(not {self.expr(node.args[0])})"
        if isinstance(node, ConditionFieldEqualsValueExpression):
            return self.leaf(node.field, node.value)
        if isinstance(node, ConditionValueExpression):
            raise UnsupportedRule("keyword (field-less) values are not supported; name a field")
        raise UnsupportedRule(f"unsupported condition element {type(node).__name__}")

    def _or_parts(self, args: list[Any]) -> list[str]:
        """OR of values of one field (a Sigma list: user agents, actions, numbers) becomes one test that reads
        the field once and looks plain strings up in a set; everything else is written as it is. On real
        events the pack's lists made the detector read one field thirty times per event."""
        by_field: dict[str, list[SigmaType]] = {}
        others: list[Any] = []
        for a in args:
            if isinstance(a, ConditionFieldEqualsValueExpression) and not isinstance(
                    a.value, SigmaNull | SigmaExists | SigmaFieldReference):
                by_field.setdefault(a.field, []).append(a.value)
            else:
                others.append(a)
        parts = [self.leaf(f, vals[0]) if len(vals) == 1 else self.on_values(f, any_value_test(f, vals))
                 for f, vals in by_field.items()]
        return parts + [self.expr(a) for a in others]

    def read(self, field: str) -> str:
        """An expression of the field's value, None when a step is missing or not an object (`getter`'s rule)."""
        keys = field_keys(field)
        out = f"ev.get({keys[0]!r})"
        for key in keys[1:]:
            node = self.local()
            out = f"({node}.get({key!r}) if type({node} := {out}) is dict else None)"
        return out

    def leaf(self, field: str, value: SigmaType) -> str:
        if isinstance(value, SigmaNull):
            return f"({self.read(field)} in (None, []))"
        if isinstance(value, SigmaExists):
            return f"({self.read(field)} {'not in' if bool(value) else 'in'} (None, []))"
        if isinstance(value, SigmaFieldReference):
            return f"{self.bind(_leaf(field, value), 'ref')}(ev)"
        kind, target = _simple_string(value)
        if kind == "equals":  # the most common leaf
            v, other = self.local(), self.bind(_equals_other(target), "equals")
            return (f"({v}.lower() == {target!r} if type({v} := {self.read(field)}) is str "
                    f"else ({v} is not None and {other}({v})))")
        return self.on_values(field, value_test(value, field))

    def on_values(self, field: str, test: Test) -> str:
        """The field's value passes `test`; a list-valued field when any element does (`_on_values`)."""
        v, name = self.local(), self.bind(test, "test")
        return (f"(False if ({v} := {self.read(field)}) is None "
                f"else (any(map({name}, {v})) if type({v}) is list else {name}({v})))")


def _equals_other(target: str) -> Test:
    """A plain string's test on a value that is not text: an element of a list, or a scalar's JSON text."""
    def is_target(x: Any) -> bool:
        s = text(x)
        return s is not None and s.lower() == target

    def other(v: Any) -> bool:
        if type(v) is list:
            return any(is_target(x) for x in v)
        return is_target(v)
    return other


def any_value_test(field: str, values: list[SigmaType]) -> Test:
    """A value equal to any of `values`. Plain strings are looked up in a set, and `contains`, `startswith`
    and `endswith` strings are searched for in one pass each, on the value lower-cased once: the scanner
    rule's ten user agents cost ten lower-casings and ten calls per event when tested one by one."""
    plain: set[str] = set()
    contains: list[str] = []
    prefixes: list[str] = []
    suffixes: list[str] = []
    tests: list[Test] = []
    for v in values:
        kind, needle = _simple_string(v)
        if kind == "equals":
            plain.add(needle)
        elif kind == "contains":
            contains.append(needle)
        elif kind == "startswith":
            prefixes.append(needle)
        elif kind == "endswith":
            suffixes.append(needle)
        else:
            tests.append(value_test(v, field))
    equal = frozenset(plain)
    found = re.compile("|".join(re.escape(n) for n in dict.fromkeys(contains))).search if contains else None
    starts, ends = tuple(prefixes), tuple(suffixes)
    folded = bool(equal or found or starts or ends)

    def one(x: Any) -> bool:
        if folded:
            s = x if type(x) is str else text(x)
            if s is not None:
                low = s.lower()
                if (low in equal or (found is not None and found(low) is not None)
                        or (starts and low.startswith(starts)) or (ends and low.endswith(ends))):
                    return True
        return any(t(x) for t in tests)
    return one


def _simple_string(value: SigmaType) -> tuple[str, str]:
    """(kind, lower-cased text) of a case-insensitive string without wildcards ("equals") or with `*` at
    one or both ends only ("startswith", "endswith", "contains"), as `_string_test` reads them; ("", "")
    for any other value."""
    if type(value) is not SigmaString:  # a cased string is a subclass: tested as it is
        return "", ""
    parts = list(value.iter_parts())
    multi = SpecialChars.WILDCARD_MULTI
    if all(isinstance(p, str) for p in parts):
        return "equals", "".join(parts).lower()  # type: ignore[arg-type]
    if len(parts) == 3 and parts[0] is multi and parts[2] is multi and isinstance(parts[1], str):
        return "contains", parts[1].lower()
    if len(parts) == 2 and parts[1] is multi and isinstance(parts[0], str):
        return "startswith", parts[0].lower()
    if len(parts) == 2 and parts[0] is multi and isinstance(parts[1], str):
        return "endswith", parts[1].lower()
    return "", ""


def _on_values(get: Callable[[Mapping[str, Any]], Any], test: Callable[[Any], bool]) -> Predicate:
    """The field's value passes `test`; a list-valued field when any element does (ECS)."""
    def leaf(ev: Mapping[str, Any]) -> bool:
        v = get(ev)
        if v is None:
            return False
        if type(v) is list:
            return any(test(x) for x in v)
        return test(v)
    return leaf


def _leaf(field: str, value: SigmaType) -> Predicate:
    """One leaf as a closure: what `_Emitter` writes inline, and field references, which it calls."""
    get = getter(field)
    if isinstance(value, SigmaNull):
        return lambda ev: get(ev) in (None, [])
    if isinstance(value, SigmaExists):
        want = bool(value)
        return lambda ev: (get(ev) not in (None, [])) is want
    if isinstance(value, SigmaFieldReference):
        return _fieldref(get, value)
    if type(value) is SigmaString and not value.contains_special():
        target = "".join(str(p) for p in value.iter_parts()).lower()
        other = _equals_other(target)

        def equals(ev: Mapping[str, Any]) -> bool:
            v = get(ev)
            if type(v) is str:
                return v.lower() == target
            return v is not None and other(v)
        return equals
    return _on_values(get, value_test(value, field))


def _fieldref(get: Callable[[Mapping[str, Any]], Any], ref: SigmaFieldReference) -> Predicate:
    other = getter(ref.field)

    def same(ev: Mapping[str, Any]) -> bool:
        a, b = get(ev), other(ev)
        if a is None or b is None:
            return False
        if type(a) is str and type(b) is str:
            a, b = a.lower(), b.lower()
            if ref.starts_with:
                return a.startswith(b)
            if ref.ends_with:
                return a.endswith(b)
        return bool(a == b)
    return same


def text(v: Any) -> str | None:
    """The text Sigma compares a string pattern with: JSON's own spelling of scalars, None for objects."""
    t = type(v)
    if t is str:
        return v  # type: ignore[no-any-return]
    if t is bool:
        return "true" if v else "false"
    if t is int or t is float:
        return str(v)
    return None


def _number(v: Any) -> float | None:
    t = type(v)
    if t is int or t is float:
        return v  # type: ignore[no-any-return]
    if t is str:
        try:
            return float(v)
        except ValueError:
            return None
    return None


def value_test(value: SigmaType, field: str = "") -> Test:
    """A test on one scalar value."""
    if isinstance(value, SigmaExpansion):  # base64offset, windash: alternatives, always OR-linked
        tests = [value_test(v, field) for v in value.values]
        return lambda v: any(t(v) for t in tests)
    if isinstance(value, SigmaTimestampPart):
        part, want = value.timestamp_part, value.number
        return lambda v: _time_part(v, part) == want
    if isinstance(value, SigmaString):  # SigmaCasedString is one too
        return _string_test(value, cased=isinstance(value, SigmaCasedString))
    if isinstance(value, SigmaBool):
        b = bool(value)
        return lambda v: v is b
    if isinstance(value, SigmaNumber):
        n = value.number
        return lambda v: type(v) is not bool and _number(v) == n
    if isinstance(value, SigmaRegularExpression):
        flags = 0
        for flag in value.flags:
            flags |= _PY_FLAGS[flag]
        rx = re.compile(str(value.regexp), flags)

        def search(v: Any) -> bool:
            s = text(v)
            return s is not None and rx.search(s) is not None
        return search
    if isinstance(value, SigmaCIDRExpression):
        return _cidr_test(value)
    if isinstance(value, SigmaCompareExpression):
        return _compare_test(value)
    raise UnsupportedRule(f"field {field!r}: values of type {type(value).__name__} are not supported")


def _string_test(value: SigmaString, cased: bool) -> Test:
    parts = list(value.iter_parts())
    for part in parts:
        if not isinstance(part, (str, SpecialChars)):
            raise UnsupportedRule(f"placeholder {part!r} in a value is not supported")
    fold: Callable[[str], str] = (lambda s: s) if cased else str.lower
    plain = [p for p in parts if isinstance(p, str)]
    specials = [i for i, p in enumerate(parts) if not isinstance(p, str)]
    multi = SpecialChars.WILDCARD_MULTI
    if not specials:
        want = fold("".join(plain))

        def equals(v: Any) -> bool:
            s = text(v)
            return s is not None and fold(s) == want
        return equals
    if len(parts) == 3 and parts[0] is multi and parts[2] is multi and isinstance(parts[1], str):
        needle = fold(parts[1])

        def contains(v: Any) -> bool:
            s = text(v)
            return s is not None and needle in fold(s)
        return contains
    if len(parts) == 2 and parts[1] is multi and isinstance(parts[0], str):
        prefix = fold(parts[0])

        def startswith(v: Any) -> bool:
            s = text(v)
            return s is not None and fold(s).startswith(prefix)
        return startswith
    if len(parts) == 2 and parts[0] is multi and isinstance(parts[1], str):
        suffix = fold(parts[1])

        def endswith(v: Any) -> bool:
            s = text(v)
            return s is not None and fold(s).endswith(suffix)
        return endswith
    pattern = "".join(re.escape(p) if isinstance(p, str) else (".*" if p is multi else ".") for p in parts)
    rx = re.compile(pattern, re.DOTALL | (0 if cased else re.IGNORECASE))

    def wildcard(v: Any) -> bool:
        s = text(v)
        return s is not None and rx.fullmatch(s) is not None
    return wildcard


@lru_cache(maxsize=65_536)
def _ip_int(s: str) -> tuple[int, int] | None:
    """(version, address as an integer): inet_pton is ~20x faster than ipaddress, and caching helps more."""
    try:
        return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, s), "big")
    except OSError:
        pass
    try:
        return 6, int.from_bytes(socket.inet_pton(socket.AF_INET6, s), "big")
    except OSError:
        return None


def _cidr_test(value: SigmaCIDRExpression) -> Test:
    net = value.network
    version = 4 if isinstance(net, IPv4Network) else 6
    base, mask = int(net.network_address), int(net.netmask)

    def in_net(v: Any) -> bool:
        if type(v) is not str:
            return False
        ip = _ip_int(v)
        return ip is not None and ip[0] == version and ip[1] & mask == base
    return in_net


_OPS: dict[CompareOperators, Callable[[float, float], bool]] = {
    CompareOperators.LT: lambda a, b: a < b,
    CompareOperators.LTE: lambda a, b: a <= b,
    CompareOperators.GT: lambda a, b: a > b,
    CompareOperators.GTE: lambda a, b: a >= b,
    CompareOperators.NEQ: lambda a, b: a != b,
}


def _compare_test(value: SigmaCompareExpression) -> Test:
    op, n = _OPS[value.op], value.number.number
    if isinstance(value.number, SigmaTimestampPart):
        part = value.number.timestamp_part

        def compare_time(v: Any) -> bool:
            x = _time_part(v, part)
            return x is not None and op(x, n)
        return compare_time

    def compare(v: Any) -> bool:
        if type(v) is bool:
            return False
        x = _number(v)
        return x is not None and op(x, n)
    return compare


def _time_part(v: Any, part: TimestampPart) -> int | None:
    """Minute, hour... of a time value, in UTC (event times are UTC; local business hours are the rule's job)."""
    epoch = parse_time(v)
    if epoch is None:
        return None
    t = datetime.fromtimestamp(epoch, UTC)
    if part is TimestampPart.MINUTE:
        return t.minute
    if part is TimestampPart.HOUR:
        return t.hour
    if part is TimestampPart.DAY:
        return t.day
    if part is TimestampPart.WEEK:
        return t.isocalendar().week
    if part is TimestampPart.MONTH:
        return t.month
    return t.year


# ---- log sources ----

LOGSOURCE_KEYS = frozenset({"product", "service", "category", "definition"})


def logsource_predicate(source: SigmaLogSource) -> Predicate | None:
    """`product` = event.module, `service` = event.dataset (whole, or its part after the module),
    `category` = one of event.category; all compared case-insensitively. None: no constraint."""
    tests: list[Predicate] = []
    if source.product:
        product = source.product.lower()
        get_module = getter("event.module")
        tests.append(lambda ev: str(get_module(ev) or "").lower() == product)
    if source.service:
        service = source.service.lower()
        get_dataset = getter("event.dataset")

        def dataset(ev: Mapping[str, Any]) -> bool:
            ds = str(get_dataset(ev) or "").lower()
            return ds == service or ds.partition(".")[2] == service
        tests.append(dataset)
    if source.category:
        category = source.category.lower()
        get_category = getter("event.category")

        def in_category(ev: Mapping[str, Any]) -> bool:
            cats = get_category(ev)
            return isinstance(cats, list) and category in cats
        tests.append(in_category)
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]
    return lambda ev: all(t(ev) for t in tests)


# ---- prefilter ----

def required_values(rule: SigmaRule, field: str) -> frozenset[str] | None:
    """Exact values `field` must have for the rule to match (case-folded), None when any value could.

    Lets the detector try a rule only on events whose `event.action` can match it.
    """
    found: list[frozenset[str] | None] = [_required(cond.parsed, field) for cond in rule.detection.parsed_condition]
    if any(f is None for f in found):
        return None
    return frozenset().union(*[f for f in found if f is not None])


def _required(node: Any, field: str) -> frozenset[str] | None:
    if isinstance(node, ConditionFieldEqualsValueExpression):
        v = node.value
        if node.field == field and isinstance(v, SigmaString) and not isinstance(v, SigmaCasedString) \
                and not v.contains_special():
            return frozenset({"".join(str(p) for p in v.iter_parts()).lower()})
        return None
    if isinstance(node, ConditionAND):
        sets = [s for s in (_required(a, field) for a in node.args) if s is not None]
        return frozenset.intersection(*sets) if sets else None
    if isinstance(node, ConditionOR):
        subs = [_required(a, field) for a in node.args]
        if any(s is None for s in subs):
            return None
        return frozenset().union(*[s for s in subs if s is not None])
    return None
