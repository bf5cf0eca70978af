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
from ucsiem.correlate.fields import Extractor, extractor, field_keys, getter, parse_time
from ucsiem.correlate.match import (
    Matcher,
    Predicate,
    RuleSource,
    compile_matcher,
    compile_source,
    logsource_predicate,
    required_values,
    rule_source,
)
from ucsiem.correlate.rules import RuleSet, load_rules


class Hit(NamedTuple):
    """One event that matched one or more detection rules: only what correlation and alerts need."""

    rules: tuple[str, ...]  # ids of the detection rules it matched, in rule-set order
    ts: float  # event time (@timestamp), epoch seconds
    event_id: str | None  # event.id: dedup across restarts, listed in the alert
    fields: dict[str, Any]  # dotted name -> value: group-by, value and context fields of those rules


class _Compiled(NamedTuple):
    key: str
    source: RuleSource  # its condition, written into the matcher of each set of candidates it is in
    predicate: Predicate  # the same alone: for events whose header is not remembered
    fields: tuple[str, ...]
    log_source: int  # index of its log source test, -1 for none
    outcomes: frozenset[str] | None  # the event.outcome values it requires (case-folded), None: any


class _Candidates(NamedTuple):
    """The rules an event header allows, and the function that tries them all on an event."""

    rules: tuple[_Compiled, ...]
    match: Matcher


# event headers (action, outcome, module, dataset, category) whose candidate rules are remembered: a parser
# has a few dozen; odd values from hostile input beyond this are decided per event instead of filling memory
MAX_CANDIDATE_SETS = 4096


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
            source_code = rule_source(rule.sigma, action_set, with_logsource=False, tag=str(len(compiled)))
            predicate = compile_source(source_code, str(rule.sigma.title or key))
            for name in names:  # an unknown field fails here, at load, not on the first event that matches
                field_keys(name)
            compiled.append(_Compiled(key, source_code, predicate, tuple(names), slot,
                                      required_values(rule.sigma, "event.outcome")))
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
        self._candidates: dict[tuple[Any, ...], _Candidates] = {}  # per event header
        self._matchers: dict[tuple[str, ...], Matcher] = {}  # per set of candidate rules (headers share them)
        self._fields: dict[str, tuple[str, ...]] = {c.key: c.fields for c in compiled}
        self._hit_fields: dict[tuple[str, ...], Extractor] = {}  # per set of rules matched
        self.bad_time = 0  # matching events without a usable @timestamp (cannot be placed in time)

    @classmethod
    def from_paths(cls, paths: Sequence[str | Path], config: CorrelationConfig | None = None) -> Detector:
        return cls(load_rules(paths), config)

    def candidates(self, event: Mapping[str, Any]) -> tuple[_Compiled, ...]:
        """The rules this event could match, decided by its `event.*` header alone and remembered per header:
        those its action indexes (or that require no action), less those requiring another outcome (most
        events succeed; most rules want failures), less those whose log source it is not from."""
        return self._lookup(event).rules

    def matched(self, event: Mapping[str, Any]) -> tuple[str, ...]:
        """The keys of the rules the event matches, in rule-set order."""
        return self._lookup(event).match(event)

    def _lookup(self, event: Mapping[str, Any]) -> _Candidates:
        meta = event.get("event")
        if type(meta) is not dict:
            meta = {}
        action, outcome, category = meta.get("action"), meta.get("outcome"), meta.get("category")
        key = (action, outcome, meta.get("module"), meta.get("dataset"),
               tuple(category) if type(category) is list else category)
        try:
            found = self._candidates.get(key)
        except TypeError:  # an unhashable value (an object where text belongs): decided for this event only
            return self._candidate_set(self._select(event, action, outcome))
        if found is None:
            found = self._candidate_set(self._select(event, action, outcome))
            if len(self._candidates) < MAX_CANDIDATE_SETS:
                self._candidates[key] = found
        return found

    def _candidate_set(self, rules: tuple[_Compiled, ...]) -> _Candidates:
        """The rules with their matcher: one generated function per distinct set (a few dozen ever), or, once
        as many sets as headers are remembered, the rules tried one by one (nothing compiled per event)."""
        keys = tuple(c.key for c in rules)
        match = self._matchers.get(keys)
        if match is None:
            if len(self._matchers) >= MAX_CANDIDATE_SETS:
                return _Candidates(rules, lambda ev: tuple(c.key for c in rules if c.predicate(ev)))
            match = self._matchers[keys] = compile_matcher([(c.key, c.source) for c in rules])
        return _Candidates(rules, match)

    def _select(self, event: Mapping[str, Any], action: Any, outcome: Any) -> tuple[_Compiled, ...]:
        by_action = self._by_action.get(action, self._unindexed) if type(action) is str else self._unindexed
        if type(outcome) is str:
            folded = outcome.lower()
            by_outcome = [c for c in by_action if c.outcomes is None or folded in c.outcomes]
        elif outcome is None:  # absent: no rule requiring an outcome can match
            by_outcome = [c for c in by_action if c.outcomes is None]
        else:  # not text: left to the predicates
            by_outcome = list(by_action)
        # log sources test event.module, event.dataset and event.category only: part of the key
        sources = [test(event) for test in self._sources]
        return tuple(c for c in by_outcome if c.log_source < 0 or sources[c.log_source])

    def detect(self, event: Mapping[str, Any]) -> list[Hit]:
        keys = self.matched(event)
        if not keys:
            return []
        ts = parse_time(event.get("@timestamp"))
        if ts is None:
            self.bad_time += 1
            return []
        extract = self._hit_fields.get(keys)
        if extract is None:  # the fields of these rules, each once (a few combinations of rules ever match)
            extract = extractor(list(dict.fromkeys(name for k in keys for name in self._fields[k])))
            if len(self._hit_fields) < MAX_CANDIDATE_SETS:
                self._hit_fields[keys] = extract
        eid = _get_id(event)
        return [Hit(keys, ts, eid if isinstance(eid, str) else None, extract(event))]
