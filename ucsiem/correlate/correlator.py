"""The stateful half: hits in event-time order through every rule's engine, alerts out.

Hits are held back until the watermark passes them, then processed sorted by (time, event id): any
arrival order within the lateness gives the same alerts, so a replay equals the live run. A hit older than
the watermark is late: counted in `stats()`, not used. The watermark is the allowed lateness behind the
newest event time of the *slowest* source still sending (an input: Flink's min-of-inputs rule), so files
of different days replayed side by side merge in time order instead of making each other late; a source
that ended (`finish`) or went quiet (`retire_idle`, live only) stops holding it back.
Timers (window ends, suppression ends) fire in event time too, before any later hit. Nothing here reads
the wall clock except `tick()`, whose clock is injected.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from ucsiem.correlate.config import CorrelationConfig
from ucsiem.correlate.detector import Hit
from ucsiem.correlate.rules import RuleSet
from ucsiem.correlate.windows import Engine, Group, make_engine

SNAPSHOT_VERSION = 1


class Correlator:
    def __init__(self, ruleset: RuleSet, config: CorrelationConfig | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config or CorrelationConfig()
        self.clock = clock
        self._out: list[dict[str, Any]] = []
        self._timers: list[tuple[float, int, str, str, Group]] = []
        self.engines: list[Engine] = []
        for corr in ruleset.correlations:
            self.engines.append(make_engine(corr, self.config, self._out.append, self._schedule))
        for rule in ruleset.detections.values():
            if rule.generates:
                self.engines.append(make_engine(rule, self.config, self._out.append, self._schedule))
        self._index = {id(e): i for i, e in enumerate(self.engines)}
        self._consumers: dict[str, list[Engine]] = {}
        for engine in self.engines:
            for key in engine.group_fields:
                self._consumers.setdefault(key, []).append(engine)
        self._routes: dict[tuple[str, ...], list[tuple[Engine, list[str]]]] = {}
        # event ids are remembered this long behind the watermark (longer windows re-count harmlessly: first_seen)
        spans = [getattr(e, "span", 0.0) for e in self.engines if e.kind not in ("first_seen", "single")]
        self._dedup_horizon = max([*spans, self.config.single_suppression_secs]) + self.config.lateness_secs
        self._buffer: list[tuple[float, int, str, int, Hit]] = []
        self._seq = 0
        self.max_ts = -math.inf
        self.watermark = -math.inf
        self._seen: dict[str, float] = {}
        self._sources: dict[str, float] = {}  # newest event time of each source still sending
        self._heard: dict[str, float] = {}  # when each source last sent a hit (injected clock): idleness
        self.counters = {"hits": 0, "late": 0, "duplicates": 0, "alerts": 0, "expired": 0}

    # ---- time ----
    def _schedule(self, when: float, engine: Engine, group: Group, what: str) -> None:
        # ties broken by rule and group, never by arrival: a restored correlator fires in the same order
        heapq.heappush(self._timers, (when, self._index.get(id(engine), len(self.engines)), what,
                                      orjson.dumps(list(group), option=orjson.OPT_SORT_KEYS).decode(), group))

    def _fire(self, until: float, inclusive: bool) -> None:
        timers = self._timers
        while timers and (timers[0][0] <= until if inclusive else timers[0][0] < until):
            when, index, what, _, group = heapq.heappop(timers)
            self.engines[index].on_timer(group, what, when)

    # ---- input ----
    def feed(self, hits: Iterable[Hit], source: str = "") -> list[dict[str, Any]]:
        """Take hits of one source (any order); return the alerts that event time now allows to raise."""
        newest = self._sources.get(source, -math.inf)
        counters, seen, buffer, watermark = self.counters, self._seen, self._buffer, self.watermark
        push = heapq.heappush
        for hit in hits:
            ts = hit.ts
            if ts > newest:
                newest = ts
            counters["hits"] += 1
            if ts < watermark:
                counters["late"] += 1
                continue
            eid = hit.event_id
            if eid is not None:
                if eid in seen:
                    counters["duplicates"] += 1
                    continue
                seen[eid] = ts
            self._seq += 1
            push(buffer, (ts, _position(hit), eid or "", self._seq, hit))
            if ts > self.max_ts:
                self.max_ts = ts
        if math.isfinite(newest):
            self._sources[source] = newest
            self._heard[source] = self.clock()
        return self._release(self._low_watermark())

    def _low_watermark(self) -> float:
        newest = min(self._sources.values()) if self._sources else self.max_ts
        return newest - self.config.lateness_secs

    def finish(self, source: str) -> list[dict[str, Any]]:
        """A source ended (the last batch of an input in a --once run): it no longer holds time back."""
        self._sources.pop(source, None)
        self._heard.pop(source, None)
        return self._release(self._low_watermark())

    def retire_idle(self, idle_secs: float) -> list[dict[str, Any]]:
        """Live only: sources that sent no hit for `idle_secs` (injected clock) stop holding time back until
        their next hit (a hit then older than the watermark is late, and counted)."""
        quiet = self.clock() - idle_secs
        for source in [s for s, heard in self._heard.items() if heard < quiet]:
            del self._sources[source], self._heard[source]
        return self._release(self._low_watermark())

    def advance(self, watermark: float) -> list[dict[str, Any]]:
        """Declare that no hit older than `watermark` will come (an input that went quiet)."""
        return self._release(watermark)

    def tick(self) -> list[dict[str, Any]]:
        """Live mode only: event time follows the injected clock while inputs are idle, so windows and
        suppressions close without waiting for the next event. Never call it when replaying old logs."""
        return self._release(self.clock() - self.config.lateness_secs)

    def flush(self) -> list[dict[str, Any]]:
        """End of input: process every held hit and close every window and suppression."""
        out = self._release(math.inf, keep_watermark=True)
        self._fire(math.inf, inclusive=True)
        return out + self._take()

    def _release(self, watermark: float, keep_watermark: bool = False) -> list[dict[str, Any]]:
        if watermark > self.watermark:
            buffer, timers, pop = self._buffer, self._timers, heapq.heappop
            while buffer and buffer[0][0] < watermark:
                ts, *_, hit = pop(buffer)
                if timers and timers[0][0] <= ts:  # `_fire`, called only when a timer is due
                    self._fire(ts, inclusive=True)
                self._process(hit)
            if not keep_watermark:
                self.watermark = watermark
                self._fire(watermark, inclusive=False)
                self._expire(watermark)
            else:
                self.watermark = max(self.watermark, self.max_ts)
        return self._take()

    def _take(self) -> list[dict[str, Any]]:
        out = list(self._out)
        self._out.clear()
        self.counters["alerts"] += len(out)
        return out

    def _process(self, hit: Hit) -> None:
        routes = self._routes.get(hit.rules)
        if routes is None:
            by_engine: dict[int, tuple[Engine, list[str]]] = {}
            for key in hit.rules:
                for engine in self._consumers.get(key, ()):
                    by_engine.setdefault(id(engine), (engine, []))[1].append(key)
            routes = self._routes[hit.rules] = list(by_engine.values())
        for engine, keys in routes:
            engine.on_hit(hit, keys)

    def _expire(self, watermark: float) -> None:
        for engine in self.engines:
            self.counters["expired"] += engine.expire(watermark)
        seen, horizon = self._seen, watermark - self._dedup_horizon
        while seen:
            eid, ts = next(iter(seen.items()))
            if ts >= horizon and len(seen) <= self.config.max_seen_ids:
                break
            del seen[eid]

    # ---- introspection and persistence ----
    def stats(self) -> dict[str, Any]:
        groups = sum(len(e.groups) for e in self.engines)
        memory = sum(e.size() for e in self.engines) + 120 * len(self._seen) + 400 * len(self._buffer)
        return {**self.counters, "buffered": len(self._buffer), "groups": groups, "timers": len(self._timers),
                "evicted": sum(e.evicted for e in self.engines), "overflow": sum(e.overflow for e in self.engines),
                "seen_ids": len(self._seen), "memory_bytes": memory,
                "watermark": self.watermark if math.isfinite(self.watermark) else None}

    def snapshot(self) -> bytes:
        """Everything needed to continue exactly: held hits, remembered ids, every group of every rule."""
        return orjson.dumps({
            "version": SNAPSHOT_VERSION,
            "max_ts": self.max_ts if math.isfinite(self.max_ts) else None,
            "watermark": self.watermark if math.isfinite(self.watermark) else None,
            "sources": self._sources,
            "buffer": [[list(h.rules), h.ts, h.event_id, h.fields] for *_, h in sorted(self._buffer)],
            "seen": list(self._seen.items()),
            "counters": self.counters,
            "rules": {e.meta.key: e.dump() for e in self.engines},
        })

    def restore(self, data: bytes) -> None:
        """Continue from a snapshot. Rules no longer loaded are dropped; new rules start empty."""
        doc = orjson.loads(data)
        if doc.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"correlation snapshot version {doc.get('version')!r}, expected {SNAPSHOT_VERSION}")
        self.max_ts = -math.inf if doc["max_ts"] is None else doc["max_ts"]
        self.watermark = -math.inf if doc["watermark"] is None else doc["watermark"]
        self._seen = dict(doc["seen"])
        self._sources = dict(doc.get("sources", {}))
        now = self.clock()
        self._heard = dict.fromkeys(self._sources, now)
        self.counters.update(doc["counters"])
        self._timers, self._buffer, self._seq = [], [], 0
        for rules, ts, eid, fields in doc["buffer"]:
            self._seq += 1
            hit = Hit(tuple(rules), ts, eid, fields)
            heapq.heappush(self._buffer, (ts, _position(hit), eid or "", self._seq, hit))
        for engine in self.engines:
            state = doc["rules"].get(engine.meta.key)
            if state is not None:
                engine.load(state)


def _position(hit: Hit) -> int:
    """Events of the same time are taken in the order of their source (log.offset), not of their ids: lines
    that carry no time of their own (a console log) all get the time they were read, and a success logged
    after twelve failures must not be counted before them (a false account takeover)."""
    offset = hit.fields.get("log.offset")
    return offset if type(offset) is int else -1
