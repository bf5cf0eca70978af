"""Scale-out on Kafka, the pure half: which key each hit is repartitioned by, the records between the two
stages, and the state of one stage-2 partition (its correlators, its event-time frontier, its snapshot).

The Kafka half (`scaleout_kafka.py`) moves these between topics; nothing here does I/O or reads a clock
other than the injected one, so every part is tested without a broker.

**Key classes.** Every engine (a correlation rule, or a detection rule raising its own alerts) groups its
hits by fields of the hit (`group-by`, or a single-event rule's suppression group-by). Engines whose
group-by fields are the same for every detection rule they consume form one *key class*, named after those
fields (`by:source.ip`, `by:user.name`, `by:` for a rule without group-by); an engine whose group-by reads
different fields in different detection rules (Sigma `aliases`) is a class of its own (`rule:<id>`). A hit
goes to each class one of its rules feeds, keyed by `[class, group values]`: all hits of one group of one
engine meet in one repartition partition, wherever their events were. A hit feeding rules of two classes
is written twice, each copy counted only by its class's engines.

**Records on the repartition topic** (JSON): a hit ``{"c": class, "s": source, "h": [rules, ts, id,
fields]}`` or a progress marker ``{"m": source, "t": newest event time, "o": next offset}``, which stage 1
writes to every partition after the hits of each batch of one event partition (the *source*,
``topic:partition``): every hit of that source before the offset is already in the topic before the marker.

**Event time.** A stage-2 partition hears from every source. Its *frontier* is the oldest of the newest
event times of the sources still sending; hits newer than the frontier wait (`pending`), the others go to
the class correlators one at a time in event-time order (the frontier has already taken the minimum over
the sources, so each correlator sees one source), whose watermark is then advanced to the frontier minus
the allowed lateness. A source stops holding time back once stage 1 has read it to its end
(marker offset >= the partition's end offset) for `idle_timeout_secs`; a source whose reader died is not at
its end, so it holds time until the partition's new owner catches up: its hits are not late. When every
source is idle, event time moves on with the wall clock from the newest event, as in the agent (`tick`).
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ucsiem.correlate.config import CorrelationConfig
from ucsiem.correlate.correlator import Correlator
from ucsiem.correlate.detector import Hit
from ucsiem.correlate.rules import RuleSet

STATE_VERSION = 1
SOURCE = "frontier"  # the one source of each class correlator: the frontier already waits for every partition


@dataclass(frozen=True, slots=True)
class KeyClass:
    """Engines that group hits by the same fields: their hits are repartitioned by those fields' values."""

    id: str
    fields: Mapping[str, tuple[str, ...]]  # detection rule key -> the hit fields holding the group values
    correlations: tuple[str, ...]  # correlation rule keys
    singles: tuple[str, ...]  # detection rules raising single-event alerts


def key_classes(ruleset: RuleSet, config: CorrelationConfig) -> list[KeyClass]:
    """The classes of a rule set, in a stable order (the same on every instance with the same rules)."""
    engines: list[tuple[str, Mapping[str, tuple[str, ...]], bool]] = [
        (corr.meta.key, corr.group_fields, False) for corr in ruleset.correlations]
    for key, rule in ruleset.detections.items():
        if rule.generates:
            group_by = rule.suppression_group_by if rule.suppression_group_by is not None \
                else tuple(config.single_group_by)
            engines.append((key, {key: group_by}, True))
    classes: dict[str, tuple[dict[str, tuple[str, ...]], list[str], list[str]]] = {}
    for key, group_fields, single in engines:
        distinct = set(group_fields.values())
        cid = f"by:{','.join(next(iter(distinct)) if distinct else ())}" if len(distinct) <= 1 else f"rule:{key}"
        fields, corrs, singles = classes.setdefault(cid, ({}, [], []))
        fields.update(group_fields)
        (singles if single else corrs).append(key)
    return [KeyClass(cid, fields, tuple(corrs), tuple(singles)) for cid, (fields, corrs, singles) in classes.items()]


def class_ruleset(ruleset: RuleSet, cls: KeyClass) -> RuleSet:
    """The part of the rule set one class's correlator runs."""
    return RuleSet(detections={k: ruleset.detections[k] for k in cls.singles},
                   correlations=[c for c in ruleset.correlations if c.meta.key in cls.correlations],
                   paths=ruleset.paths, hit_fields=ruleset.hit_fields)


class Router:
    """Hit -> the (class, message key) pairs it is repartitioned under (cached per tuple of matched rules)."""

    def __init__(self, classes: Iterable[KeyClass]) -> None:
        self.classes = list(classes)
        self._routes: dict[tuple[str, ...], list[tuple[str, tuple[str, ...]]]] = {}

    def route(self, hit: Hit) -> list[tuple[str, bytes]]:
        routes = self._routes.get(hit.rules)
        if routes is None:
            routes = []
            for cls in self.classes:
                # the first of the hit's rules this class consumes decides the fields, as Engine.group_of does
                for key in hit.rules:
                    if key in cls.fields:
                        routes.append((cls.id, cls.fields[key]))
                        break
            self._routes[hit.rules] = routes
        get = hit.fields.get
        return [(cid, group_key(cid, [get(f) for f in fields])) for cid, fields in routes]


def group_key(cid: str, values: list[Any]) -> bytes:
    """The message key of a repartitioned hit: equal groups give equal bytes, hence one partition."""
    return orjson.dumps([cid, values], option=orjson.OPT_SORT_KEYS)


def encode_hit(cid: str, source: str, hit: Hit) -> bytes:
    return orjson.dumps({"c": cid, "s": source, "h": [list(hit.rules), hit.ts, hit.event_id, hit.fields]})


def encode_marker(source: str, newest: float | None, position: int) -> bytes:
    return orjson.dumps({"m": source, "t": newest, "o": position})


def _hit(data: list[Any]) -> Hit:
    rules, ts, eid, fields = data
    return Hit(tuple(rules), float(ts), eid, fields)


class PartitionState:
    """Everything one repartition partition needs: a correlator per key class, each source's progress, the
    hits waiting for the frontier. `add` records in offset order, `release` for the alerts, `snapshot` /
    `restore` to move it to another instance."""

    def __init__(self, ruleset: RuleSet, classes: Iterable[KeyClass], config: CorrelationConfig, *,
                 idle_timeout_secs: float = 5.0, max_pending: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.idle_timeout = idle_timeout_secs
        self.max_pending = max_pending
        self.clock = clock
        self.correlators = {c.id: Correlator(class_ruleset(ruleset, c), config) for c in classes}
        self.sources: dict[str, list[Any]] = {}  # source -> [newest event time or None, next offset read]
        self._pending: list[tuple[float, int, str, str, Hit]] = []  # (ts, seq, class, source, hit)
        self._seq = 0
        self._caught_up: dict[str, float] = {}  # source -> since when (clock) it has been read to its end
        self._all_idle: float | None = None
        self.counters = {"records": 0, "markers": 0, "unknown_class": 0, "forced": 0}

    # ---- input ----
    def add(self, value: bytes) -> None:
        doc = orjson.loads(value)
        self.counters["records"] += 1
        if "m" in doc:
            self.counters["markers"] += 1
            entry = self.sources.setdefault(doc["m"], [None, 0])
            ts = doc["t"]
            if ts is not None and (entry[0] is None or ts > entry[0]):
                entry[0] = ts
            entry[1] = max(entry[1], int(doc["o"]))
            return
        cid = doc["c"]
        if cid not in self.correlators:  # written by an instance with other rules: no engine here counts it
            self.counters["unknown_class"] += 1
            return
        hit = _hit(doc["h"])
        self._seq += 1
        heapq.heappush(self._pending, (hit.ts, self._seq, cid, doc["s"], hit))

    @property
    def pending(self) -> int:
        return len(self._pending)

    # ---- event time ----
    def frontier(self, ends: Mapping[str, int] | None) -> tuple[float, float]:
        """(frontier, newest): the oldest newest-time of the sources holding time back (inf: none holds),
        and the newest event time heard from any source. `ends`: each source's end offset (None: unknown
        yet, so every source holds)."""
        now = self.clock()
        frontier, newest = math.inf, -math.inf
        if ends is None:  # the event partitions are not known yet: no source may be skipped
            frontier = -math.inf
        names = set(self.sources) | set(ends or ())
        for source in names:
            ts, position = self.sources.get(source, (None, 0))
            if ts is not None and ts > newest:
                newest = ts
            end = ends.get(source) if ends is not None else None  # unknown: it might have anything, it holds
            if end is not None and position >= end:
                since = self._caught_up.setdefault(source, now)
                if now - since >= self.idle_timeout:
                    continue
            else:
                self._caught_up.pop(source, None)
            frontier = min(frontier, -math.inf if ts is None else ts)
        return frontier, newest

    def release(self, ends: Mapping[str, int] | None) -> list[dict[str, Any]]:
        """Feed the hits the frontier allows, advance every class's watermark; return the alerts raised."""
        frontier, newest = self.frontier(ends)
        alerts: list[dict[str, Any]] = []
        pending, correlators = self._pending, self.correlators
        # one hit at a time in event-time order, so each class's watermark follows it as in a single agent
        # (windows close and idle groups expire between hits, not all at the end of a long wait)
        while pending and (pending[0][0] <= frontier or len(pending) > self.max_pending):
            ts, _, cid, _, hit = heapq.heappop(pending)
            if ts > frontier:
                self.counters["forced"] += 1
            alerts += correlators[cid].feed((hit,), SOURCE)
        if math.isfinite(frontier):
            self._all_idle = None
            watermark = frontier - self.config.lateness_secs
        elif frontier > 0 and math.isfinite(newest):  # every source idle: time follows the wall clock
            now = self.clock()
            if self._all_idle is None:
                self._all_idle = now
            watermark = newest + (now - self._all_idle) - self.config.lateness_secs
        else:
            return alerts
        for cid in sorted(self.correlators):
            alerts += self.correlators[cid].advance(watermark)
        return alerts

    # ---- persistence ----
    def snapshot(self) -> bytes:
        return orjson.dumps({
            "version": STATE_VERSION, "sources": self.sources, "counters": self.counters,
            "pending": [[cid, source, [list(h.rules), h.ts, h.event_id, h.fields]]
                        for _, _, cid, source, h in sorted(self._pending, key=lambda p: (p[0], p[1]))],
            "classes": {cid: orjson.Fragment(c.snapshot()) for cid, c in sorted(self.correlators.items())},
        })

    def restore(self, data: bytes) -> list[str]:
        """Continue from a snapshot; return the classes it held that the loaded rules no longer have."""
        doc = orjson.loads(data)
        if doc.get("version") != STATE_VERSION:
            raise ValueError(f"partition state version {doc.get('version')!r}, expected {STATE_VERSION}")
        self.sources = {s: list(v) for s, v in doc["sources"].items()}
        self.counters.update(doc.get("counters", {}))
        self._pending, self._seq = [], 0
        for cid, source, raw in doc["pending"]:
            if cid in self.correlators:
                self._seq += 1
                hit = _hit(raw)
                heapq.heappush(self._pending, (hit.ts, self._seq, cid, source, hit))
        for cid, state in doc["classes"].items():
            if cid in self.correlators:
                self.correlators[cid].restore(orjson.dumps(state))
        return sorted(set(doc["classes"]) - set(self.correlators))

    def stats(self) -> dict[str, Any]:
        totals: dict[str, int] = {}
        for c in self.correlators.values():
            for k, v in c.counters.items():
                totals[k] = totals.get(k, 0) + v
        return {**self.counters, **totals, "pending": len(self._pending), "sources": len(self.sources)}
