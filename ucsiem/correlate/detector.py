"""The stateless half: which rules an event matches, reduced to a small picklable `Hit`.

Built from the rule files, so each parsing worker builds its own (compiled predicates are closures and
do not pickle); only hits cross process boundaries. Rules are indexed by the `event.action` values their
condition requires, so an event is only tried against the rules that could match its action.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ucsiem.correlate.config import CorrelationConfig
from ucsiem.correlate.fields import Getter, getter, parse_time
from ucsiem.correlate.match import Predicate, compile_rule, logsource_predicate, required_values
from ucsiem.correlate.rules import RuleSet, load_rules


class Hit(NamedTuple):
    """One event that matched one or more detection rules: only what correlation and alerts need."""

    rules: tuple[str, ...]  # ids of the detection rules it matched, in rule-set order
    ts: float  # event time (@timestamp), epoch seconds
    event_id: str | None  # event.id: dedup across restarts, listed in the alert
    fields: dict[str, Any]  # dotted name -> value: group-by, value and context fields of those rules


class _Compiled(NamedTuple):
    key: str
    predicate: Predicate
    fields: tuple[tuple[str, Getter], ...]
    source: int  # index of its log source test, -1 for none


_get_action = getter("event.action")
_get_id = getter("event.id")


class Detector:
    def __init__(self, ruleset: RuleSet, config: CorrelationConfig | None = None) -> None:
        config = config or CorrelationConfig()
        self.ruleset = ruleset
        compiled: list[_Compiled] = []
        actions: list[frozenset[str] | None] = []
        sources: dict[Any, int] = {}  # one test per distinct log source per event, shared by its rules
        self._sources: list[Predicate] = []
        for key, rule in ruleset.detections.items():
            names = list(ruleset.hit_fields.get(key, ()))
            if rule.generates and rule.suppression_group_by is None:
                names += [f for f in config.single_group_by if f not in names]
            action_set = required_values(rule.sigma, "event.action")
            ls = rule.sigma.logsource
            source = logsource_predicate(ls)
            slot = -1
            if source is not None:
                slot = sources.setdefault((ls.product, ls.service, ls.category), len(sources))
                if slot == len(self._sources):
                    self._sources.append(source)
            predicate = compile_rule(rule.sigma, action_set, with_logsource=False)
            compiled.append(_Compiled(key, predicate, tuple((n, getter(n)) for n in names), slot))
            actions.append(action_set)
        unindexed = tuple(c for c, a in zip(compiled, actions, strict=True) if a is None)
        by_action: dict[str, list[_Compiled]] = {}
        for c, a in zip(compiled, actions, strict=True):
            for action in a or ():
                by_action.setdefault(action, []).append(c)
        order = {c.key: i for i, c in enumerate(compiled)}
        # each action's candidates, plus the rules that can match any action, in rule-set order
        self._by_action: dict[str, tuple[_Compiled, ...]] = {
            a: tuple(sorted([*cs, *unindexed], key=lambda c: order[c.key])) for a, cs in by_action.items()}
        self._unindexed = unindexed
        self.bad_time = 0  # matching events without a usable @timestamp (cannot be placed in time)

    @classmethod
    def from_paths(cls, paths: Sequence[str | Path], config: CorrelationConfig | None = None) -> Detector:
        return cls(load_rules(paths), config)

    def detect(self, event: Mapping[str, Any]) -> list[Hit]:
        action = _get_action(event)
        candidates = self._by_action.get(action, self._unindexed) if type(action) is str else self._unindexed
        if not candidates:
            return []
        sources: dict[int, bool] = {}
        matched = []
        for c in candidates:
            if c.source >= 0:
                ok = sources.get(c.source)
                if ok is None:
                    ok = sources[c.source] = self._sources[c.source](event)
                if not ok:
                    continue
            if c.predicate(event):
                matched.append(c)
        if not matched:
            return []
        ts = parse_time(event.get("@timestamp"))
        if ts is None:
            self.bad_time += 1
            return []
        fields: dict[str, Any] = {}
        for c in matched:
            for name, get in c.fields:
                if name not in fields:
                    v = get(event)
                    if v is not None:
                        fields[name] = v
        eid = _get_id(event)
        return [Hit(tuple(c.key for c in matched), ts, eid if isinstance(eid, str) else None, fields)]
