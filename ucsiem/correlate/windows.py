"""Per-rule state machines: one engine per correlation rule (and one per rule raising single-event alerts),
each holding its groups in least-recently-hit order.

Engines see hits in event-time order (the correlator sorts them) and never read a clock: the same hits
give the same alerts. Windows are "within timespan" = strictly less than `timespan` apart:
- sliding (conditions gt/gte of event_count, value_count, value_sum, temporal): evaluated at every hit over
  the hits of the last `timespan`, so a burst straddling any boundary is seen;
- tumbling (value_avg, and every lt/lte/eq/neq condition, which only mean something once a window is
  complete): a window opens at a group's first hit and is evaluated when event time reaches its end;
- temporal_ordered: the rules' hits in order, the first and last less than `timespan` apart;
- first_seen: a value of the field(s) not seen for the group within `timespan` (the history);
- impossible_travel: each group's previous place (geo point) against the next, faster than a speed over a
  minimum distance within `timespan`;
- baseline_spike: windows aligned on the epoch; the current one alerts when it exceeds factor x the
  bias-corrected moving average of the previous ones (and the minimum). Windows that alerted do not
  feed the baseline, so an attack does not teach itself as normal.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

import orjson

from ucsiem.correlate.alerts import AlertState, alert_id, render
from ucsiem.correlate.config import CorrelationConfig
from ucsiem.correlate.detector import Hit
from ucsiem.correlate.rules import CorrelationRule, DetectionRule, RuleMeta, value_fields

Group = tuple[Any, ...]
Emit = Callable[[dict[str, Any]], None]
Schedule = Callable[[float, "Engine", Group, str], None]

OPS: dict[str, Callable[[float, float], bool]] = {
    "gt": lambda a, b: a > b, "gte": lambda a, b: a >= b, "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b,
    "eq": lambda a, b: a == b, "neq": lambda a, b: a != b,
}
CONTEXT = ("source.ip", "destination.ip", "user.name", "user.target.name", "observer.hostname")


def _hashable(v: Any) -> Any:
    return tuple(_hashable(x) for x in v) if isinstance(v, list) else v


def _thaw(v: Any) -> Any:
    """Group keys come back from JSON with lists where tuples were."""
    return tuple(_thaw(x) for x in v) if isinstance(v, list) else v


class Engine:
    """Groups of one rule; subclasses define what a hit does to a group."""

    kind = ""

    def __init__(self, meta: RuleMeta, group_by: tuple[str, ...], group_fields: dict[str, tuple[str, ...]],
                 suppression: float, config: CorrelationConfig, emit: Emit, schedule: Schedule) -> None:
        self.meta, self.group_by, self.group_fields = meta, group_by, group_fields
        self.suppression = suppression
        self.config, self.emit, self.schedule = config, emit, schedule
        self.groups: OrderedDict[Group, Any] = OrderedDict()
        self.evicted = 0
        self.overflow = 0

    # ---- groups ----
    def group_of(self, hit: Hit, keys: list[str]) -> Group:
        get = hit.fields.get
        return tuple(v if type(v) is not list else _hashable(v) for v in map(get, self.group_fields[keys[0]]))

    def state(self, group: Group, factory: Callable[[], Any]) -> Any:
        st = self.groups.get(group)
        if st is None:
            st = self.groups[group] = factory()
            if len(self.groups) > self.config.max_groups_per_rule:
                old_group, old = self.groups.popitem(last=False)
                self.evicted += 1
                self.close_alert(old_group, old, final=True)
        else:
            self.groups.move_to_end(group)
        return st

    def expire(self, watermark: float) -> int:
        """Drop idle groups from the least recently hit on; stops at the first one still busy."""
        dropped = 0
        while self.groups:
            st = next(iter(self.groups.values()))
            if not self.idle(st, watermark - self.config.idle_expiry_secs):
                break
            self.groups.popitem(last=False)
            dropped += 1
        return dropped

    def idle(self, st: Any, watermark: float) -> bool:
        raise NotImplementedError

    # ---- alerts ----
    def open_alert(self, group: Group, st: Any, ts: float, first: float, seed: Any = None) -> AlertState:
        aid = alert_id(self.meta.key, list(group) if seed is None else seed, ts)
        alert = AlertState(aid, ts, ts + self.suppression, first, ts)
        st.alert = alert
        if self.suppression > 0:
            self.schedule(alert.until, self, group, "suppression")
        return alert

    def publish(self, group: Group, alert: AlertState, context: dict[str, Any] | None = None) -> None:
        alert.emitted = alert.count
        self.emit(render(self.meta, self.kind, self.group_by, group, alert, context))

    def absorb(self, group: Group, alert: AlertState, hit: Hit, n: int = 1) -> None:
        alert.add(hit.ts, hit.event_id, hit.fields, self.config.max_event_ids, n)
        if alert.count >= 2 * alert.emitted:  # a running count without one document per event
            self.publish(group, alert)

    def close_alert(self, group: Group, st: Any, final: bool) -> None:
        alert = st.alert
        if alert is not None:
            if alert.count > alert.emitted:
                self.publish(group, alert)
            st.alert = None

    def suppressing(self, st: Any, ts: float) -> AlertState | None:
        alert: AlertState | None = st.alert
        return alert if alert is not None and ts < alert.until else None

    def on_timer(self, group: Group, what: str, when: float) -> None:
        st = self.groups.get(group)
        if st is None:
            return
        if what == "suppression" and st.alert is not None and st.alert.until == when:
            self.close_alert(group, st, final=True)

    def deadlines(self, st: Any) -> list[tuple[float, str]]:
        out: list[tuple[float, str]] = []
        if st.alert is not None and self.suppression > 0:
            out.append((st.alert.until, "suppression"))
        return out

    def on_hit(self, hit: Hit, keys: list[str]) -> None:
        raise NotImplementedError

    # ---- snapshot ----
    def dump(self) -> dict[str, Any]:
        return {"groups": [[list(g), self.dump_state(st)] for g, st in self.groups.items()],
                "evicted": self.evicted, "overflow": self.overflow, **self.dump_extra()}

    def load(self, data: dict[str, Any]) -> None:
        self.groups = OrderedDict((_thaw(g), self.load_state(s)) for g, s in data["groups"])
        self.evicted, self.overflow = data["evicted"], data["overflow"]
        self.load_extra(data)
        for group, st in self.groups.items():
            for when, what in self.deadlines(st):
                self.schedule(when, self, group, what)

    def dump_state(self, st: Any) -> Any:
        raise NotImplementedError

    def load_state(self, data: Any) -> Any:
        raise NotImplementedError

    def dump_extra(self) -> dict[str, Any]:
        return {}

    def load_extra(self, data: dict[str, Any]) -> None:
        return None

    def size(self) -> int:
        """Rough bytes held, for stats()."""
        return 200 * len(self.groups)


def _alert_json(alert: AlertState | None) -> Any:
    return alert.to_json() if alert is not None else None


def _alert_load(data: Any) -> AlertState | None:
    return AlertState.from_json(data) if data is not None else None


# ---- single-event alerts ----

class SingleState:
    __slots__ = ("alert", "last")

    def __init__(self) -> None:
        self.alert: AlertState | None = None
        self.last = 0.0


class SingleEngine(Engine):
    """A detection rule no correlation consumes: each match is an alert, repeats suppressed per group."""

    kind = "single"

    def on_hit(self, hit: Hit, keys: list[str]) -> None:
        group = self.group_of(hit, keys)
        st: SingleState = self.state(group, SingleState)
        st.last = hit.ts
        alert = self.suppressing(st, hit.ts)
        if alert is not None:
            self.absorb(group, alert, hit)
            return
        self.close_alert(group, st, final=True)
        seed = [*group, hit.event_id] if self.suppression <= 0 else None  # no suppression: one alert per event
        alert = self.open_alert(group, st, hit.ts, hit.ts, seed)
        alert.add(hit.ts, hit.event_id, hit.fields, self.config.max_event_ids)
        context = {f: hit.fields[f] for f in CONTEXT if f in hit.fields}
        self.publish(group, alert, context)
        if self.suppression <= 0:
            st.alert = None

    def idle(self, st: SingleState, watermark: float) -> bool:
        return st.alert is None and st.last < watermark

    def dump_state(self, st: SingleState) -> Any:
        return [st.last, _alert_json(st.alert)]

    def load_state(self, data: Any) -> SingleState:
        st = SingleState()
        st.last, st.alert = data[0], _alert_load(data[1])
        return st


# ---- event_count, value_count, value_sum, value_avg, temporal ----

class WindowState:
    __slots__ = ("alert", "counts", "entries", "last", "start", "total")

    def __init__(self) -> None:
        self.entries: deque[list[Any]] = deque()  # [ts, event id, value]
        self.counts: dict[Any, int] = {}  # value -> hits in the window (distinct values, temporal's rules)
        self.total = 0.0
        self.start: float | None = None  # tumbling: when the open window began
        self.alert: AlertState | None = None
        self.last = 0.0


class WindowEngine(Engine):
    def __init__(self, rule: CorrelationRule, config: CorrelationConfig, emit: Emit, schedule: Schedule) -> None:
        super().__init__(rule.meta, rule.group_by, rule.group_fields, rule.suppression_secs, config, emit, schedule)
        self.rule = rule
        self.kind = rule.type
        self.span = rule.timespan
        assert rule.op is not None and rule.threshold is not None
        self.test, self.threshold = OPS[rule.op], rule.threshold
        self.sliding = rule.op in ("gt", "gte") and rule.type != "value_avg"
        self.field = rule.value_field

    def _value(self, hit: Hit, keys: list[str]) -> Any:
        if self.kind == "temporal":
            return [self.rule.rules.index(k) for k in keys]
        if self.field is None:
            return None
        v = hit.fields.get(self.field)
        if self.kind in ("value_sum", "value_avg"):
            return v if type(v) in (int, float) else None
        return _hashable(v)

    def _add(self, st: WindowState, ts: float, eid: str | None, value: Any) -> None:
        st.entries.append([ts, eid, value])
        for v in (value if self.kind == "temporal" else (value,)):
            if v is not None:
                st.counts[v] = st.counts.get(v, 0) + 1
        if type(value) in (int, float):
            st.total += value
        if len(st.entries) > self.config.max_window_events:
            self._drop(st)
            self.overflow += 1

    def _drop(self, st: WindowState) -> None:
        _, _, value = st.entries.popleft()
        for v in (value if self.kind == "temporal" else (value,)):
            if v is not None:
                n = st.counts[v] - 1
                if n:
                    st.counts[v] = n
                else:
                    del st.counts[v]
        if type(value) in (int, float):
            st.total -= value

    def measure(self, st: WindowState) -> float:
        if self.kind == "event_count":
            return len(st.entries)
        if self.kind in ("value_count", "temporal"):
            return len(st.counts)
        if self.kind == "value_sum":
            return st.total
        n = sum(1 for e in st.entries if e[2] is not None)
        return st.total / n if n else math.nan

    def on_hit(self, hit: Hit, keys: list[str]) -> None:
        value = self._value(hit, keys)
        if self.field is not None and value is None:
            return  # a value rule counts events that have the value
        group = self.group_of(hit, keys)
        st: WindowState = self.state(group, WindowState)
        st.last = hit.ts
        if self.sliding:
            self._slide(group, st, hit, value)
        else:
            if st.start is None:
                st.start = hit.ts
                self.schedule(hit.ts + self.span, self, group, "window")
            self._add(st, hit.ts, hit.event_id, value)

    def _slide(self, group: Group, st: WindowState, hit: Hit, value: Any) -> None:
        lo = hit.ts - self.span
        while st.entries and st.entries[0][0] <= lo:
            self._drop(st)
        self._add(st, hit.ts, hit.event_id, value)
        alert = self.suppressing(st, hit.ts)
        if alert is not None:
            self.absorb(group, alert, hit)
            self._sample(alert, value)
            return
        measured = self.measure(st)
        if self.test(measured, self.threshold):
            self.close_alert(group, st, final=True)
            self._raise(group, st, hit.ts, measured, hit)

    def _raise(self, group: Group, st: WindowState, ts: float, measured: float, hit: Hit | None) -> None:
        first = st.entries[0][0] if st.entries else ts
        alert = self.open_alert(group, st, ts, first)
        alert.value, alert.threshold = float(measured), self.threshold
        for e_ts, eid, value in st.entries:
            alert.add(e_ts, eid, {}, self.config.max_event_ids)
            self._sample(alert, value)
        if hit is not None:
            alert.add(hit.ts, None, hit.fields, 0, 0)  # related values of the triggering event
        self.publish(group, alert)

    def _sample(self, alert: AlertState, value: Any) -> None:
        if self.kind == "temporal":
            for i in value:
                alert.add_value(self.rule.rules[i], self.config.max_values)
        elif self.kind == "value_count" and value is not None:
            alert.add_value(list(value) if isinstance(value, tuple) else value, self.config.max_values)

    def on_timer(self, group: Group, what: str, when: float) -> None:
        st: WindowState | None = self.groups.get(group)
        if st is None:
            return
        if what == "window" and st.start is not None and st.start + self.span == when:
            measured = self.measure(st)
            if st.entries and not math.isnan(measured) and self.test(measured, self.threshold):
                alert = self.suppressing(st, when)
                if alert is not None:
                    alert.value = float(measured)
                    for e_ts, eid, _ in st.entries:
                        alert.add(e_ts, eid, {}, self.config.max_event_ids)
                    if alert.count >= 2 * alert.emitted:
                        self.publish(group, alert)
                else:
                    self.close_alert(group, st, final=True)
                    self._raise(group, st, when, measured, None)
            st.entries.clear()
            st.counts.clear()
            st.total = 0.0
            st.start = None
            return
        super().on_timer(group, what, when)

    def deadlines(self, st: WindowState) -> list[tuple[float, str]]:
        out = super().deadlines(st)
        if st.start is not None:
            out.append((st.start + self.span, "window"))
        return out

    def idle(self, st: WindowState, watermark: float) -> bool:
        return st.alert is None and st.start is None and st.last + self.span <= watermark

    def dump_state(self, st: WindowState) -> Any:
        return [st.last, st.start, [list(e) for e in st.entries], _alert_json(st.alert)]

    def load_state(self, data: Any) -> WindowState:
        st = WindowState()
        st.last, st.start = data[0], data[1]
        for ts, eid, value in data[2]:
            self._add(st, ts, eid, _thaw(value))
        st.alert = _alert_load(data[3])
        return st

    def size(self) -> int:
        return sum(200 + 90 * len(st.entries) for st in self.groups.values())


# ---- temporal_ordered ----

class ChainState:
    __slots__ = ("alert", "chain", "last")

    def __init__(self, n: int) -> None:
        # chain[i]: the latest-starting partial sequence that has matched rules 0..i: [start, [event ids]]
        self.chain: list[list[Any] | None] = [None] * n
        self.alert: AlertState | None = None
        self.last = 0.0


class OrderedEngine(Engine):
    def __init__(self, rule: CorrelationRule, config: CorrelationConfig, emit: Emit, schedule: Schedule) -> None:
        super().__init__(rule.meta, rule.group_by, rule.group_fields, rule.suppression_secs, config, emit, schedule)
        self.rule, self.kind, self.span = rule, rule.type, rule.timespan

    def on_hit(self, hit: Hit, keys: list[str]) -> None:
        group = self.group_of(hit, keys)
        n = len(self.rule.rules)
        st: ChainState = self.state(group, lambda: ChainState(n))
        st.last = hit.ts
        steps = sorted((self.rule.rules.index(k) for k in keys), reverse=True)  # one event is one step, not two
        done = None
        for i in steps:
            if i == 0:
                st.chain[0] = [hit.ts, [hit.event_id]]
                continue
            prev = st.chain[i - 1]
            if prev is None or hit.ts - prev[0] >= self.span:
                continue
            cur = st.chain[i]
            if cur is None or prev[0] >= cur[0]:
                st.chain[i] = [prev[0], [*prev[1], hit.event_id]]
            if i == n - 1:
                done = st.chain[i]
                st.chain[i] = None
        if done is None:
            return
        alert = self.suppressing(st, hit.ts)
        if alert is not None:
            self.absorb(group, alert, hit, n)
            return
        self.close_alert(group, st, final=True)
        alert = self.open_alert(group, st, hit.ts, done[0])
        alert.value = alert.threshold = float(n)
        alert.add(hit.ts, None, hit.fields, 0, 0)
        alert.count = n
        alert.event_ids = [e for e in done[1] if e is not None][: self.config.max_event_ids]
        for key in self.rule.rules:
            alert.add_value(key, self.config.max_values)
        self.publish(group, alert)

    def idle(self, st: ChainState, watermark: float) -> bool:
        return st.alert is None and st.last + self.span <= watermark

    def dump_state(self, st: ChainState) -> Any:
        return [st.last, st.chain, _alert_json(st.alert)]

    def load_state(self, data: Any) -> ChainState:
        st = ChainState(len(self.rule.rules))
        st.last, st.chain, st.alert = data[0], data[1], _alert_load(data[2])
        return st


# ---- first_seen ----

class KnownState:
    __slots__ = ("alert", "known", "last")

    def __init__(self) -> None:
        self.known: dict[str, float] = {}  # value (JSON text) -> last seen
        self.alert: AlertState | None = None
        self.last = 0.0


class FirstSeenEngine(Engine):
    def __init__(self, rule: CorrelationRule, config: CorrelationConfig, emit: Emit, schedule: Schedule) -> None:
        # each new value is its own alert: no suppression window to merge them
        super().__init__(rule.meta, rule.group_by, rule.group_fields, 0.0, config, emit, schedule)
        self.rule, self.kind, self.span = rule, rule.type, rule.timespan
        self.fields = value_fields(rule)
        self.learn_until: float | None = None  # event time before which values are only learned

    def on_hit(self, hit: Hit, keys: list[str]) -> None:
        values = [hit.fields.get(f) for f in self.fields]
        if all(v is None for v in values):
            return
        if self.learn_until is None:
            self.learn_until = hit.ts + self.rule.learning_secs
        group = self.group_of(hit, keys)
        new_group = group not in self.groups
        st: KnownState = self.state(group, KnownState)
        st.last = hit.ts
        term = orjson.dumps(values[0] if len(values) == 1 else values).decode()
        seen = st.known.pop(term, None)
        st.known[term] = hit.ts  # re-inserted: the dict stays in last-seen order
        if len(st.known) > self.config.max_values * 50:
            st.known.pop(next(iter(st.known)))
            self.overflow += 1
        if seen is not None and hit.ts - seen < self.span:
            return
        if hit.ts < self.learn_until or (new_group and self.rule.new_groups == "learn"):
            return
        alert = self.open_alert(group, st, hit.ts, hit.ts, [*group, term])
        alert.add(hit.ts, hit.event_id, hit.fields, self.config.max_event_ids)
        alert.add_value(values[0] if len(values) == 1 else values, self.config.max_values)
        alert.value = float(len(st.known))
        self.publish(group, alert, {f: hit.fields[f] for f in CONTEXT if f in hit.fields})
        st.alert = None

    def idle(self, st: KnownState, watermark: float) -> bool:
        return st.last + self.span <= watermark

    def dump_state(self, st: KnownState) -> Any:
        return [st.last, list(st.known.items())]

    def load_state(self, data: Any) -> KnownState:
        st = KnownState()
        st.last, st.known = data[0], dict(data[1])
        return st

    def dump_extra(self) -> dict[str, Any]:
        return {"learn_until": self.learn_until}

    def load_extra(self, data: dict[str, Any]) -> None:
        self.learn_until = data.get("learn_until")

    def size(self) -> int:
        return sum(200 + 100 * len(st.known) for st in self.groups.values())


# ---- baseline_spike ----

class SpikeState:
    __slots__ = ("alert", "alerted", "bucket", "count", "ewma", "history", "ids", "last", "periods", "value")

    def __init__(self) -> None:
        self.bucket = 0.0  # start of the current window
        self.value = 0.0  # its count or sum
        self.count = 0
        self.ids: list[str] = []
        self.alerted = False
        self.ewma = 0.0
        self.periods = 0  # windows averaged (empty ones included)
        self.history = 0.0  # start of the group's first window
        self.alert: AlertState | None = None
        self.last = 0.0


class SpikeEngine(Engine):
    def __init__(self, rule: CorrelationRule, config: CorrelationConfig, emit: Emit, schedule: Schedule) -> None:
        super().__init__(rule.meta, rule.group_by, rule.group_fields, rule.suppression_secs, config, emit, schedule)
        self.rule, self.kind, self.span = rule, rule.type, rule.timespan
        self.alpha = 2.0 / (rule.baseline_secs / rule.timespan + 1.0)

    def baseline(self, st: SpikeState) -> float:
        if st.periods == 0:
            return 0.0
        return st.ewma / (1.0 - (1.0 - self.alpha) ** st.periods)  # bias-corrected: no warm-up from zero

    def _roll(self, st: SpikeState, bucket: float) -> None:
        """Close the current window into the baseline; windows without events count as zero."""
        if not st.alerted:
            st.ewma = self.alpha * st.value + (1 - self.alpha) * st.ewma
            st.periods += 1
        empty = min(round((bucket - st.bucket) / self.span) - 1, 100_000)
        if empty > 0:
            st.ewma *= (1 - self.alpha) ** empty
            st.periods += empty
        st.bucket, st.value, st.count, st.ids, st.alerted = bucket, 0.0, 0, [], False

    def on_hit(self, hit: Hit, keys: list[str]) -> None:
        if self.rule.value_field:
            v = hit.fields.get(self.rule.value_field)
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                return
            amount = float(v)
        else:
            amount = 1.0
        bucket = math.floor(hit.ts / self.span) * self.span
        group = self.group_of(hit, keys)
        fresh = group not in self.groups
        st: SpikeState = self.state(group, SpikeState)
        if fresh:
            st.bucket = st.history = bucket
        elif bucket > st.bucket:
            self._roll(st, bucket)
        st.last = hit.ts
        st.value += amount
        st.count += 1
        if hit.event_id is not None and len(st.ids) < self.config.max_event_ids:
            st.ids.append(hit.event_id)
        alert = self.suppressing(st, hit.ts)
        if alert is not None:
            st.alerted = True
            alert.value = max(alert.value or 0.0, st.value)
            self.absorb(group, alert, hit)
            return
        if st.bucket - st.history < self.rule.learning_secs or st.value < self.rule.minimum:
            return  # not learned yet, or below the floor: the baseline is not needed
        base = self.baseline(st)
        if st.value > self.rule.factor * base:
            st.alerted = True
            self.close_alert(group, st, final=True)
            alert = self.open_alert(group, st, hit.ts, st.bucket)
            alert.value, alert.baseline = st.value, base
            alert.threshold = max(self.rule.minimum, self.rule.factor * base)
            alert.count = st.count
            alert.event_ids = list(st.ids)
            alert.add(hit.ts, None, hit.fields, 0, 0)
            alert.first = st.bucket
            self.publish(group, alert)

    def idle(self, st: SpikeState, watermark: float) -> bool:
        return st.alert is None and st.last + 2 * self.rule.baseline_secs <= watermark

    def dump_state(self, st: SpikeState) -> Any:
        return [st.last, st.bucket, st.value, st.count, st.ids, st.alerted, st.ewma, st.periods, st.history,
                _alert_json(st.alert)]

    def load_state(self, data: Any) -> SpikeState:
        st = SpikeState()
        (st.last, st.bucket, st.value, st.count, st.ids, st.alerted, st.ewma, st.periods, st.history, a) = data
        st.alert = _alert_load(a)
        return st


# ---- impossible_travel ----

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


class PlaceState:
    __slots__ = ("alert", "last", "place")

    def __init__(self) -> None:
        self.alert: AlertState | None = None
        self.last = 0.0
        self.place: tuple[float, float, float, str | None] | None = None  # time, lat, lon, event id


class TravelEngine(Engine):
    """The previous place of each group (a user's last sign-in) against the next one: faster than
    `speed_kmh` over at least `min_km` within `timespan` is travel nobody can do (a stolen credential used
    from elsewhere; a VPN exit or a mobile carrier's gateway can look the same)."""

    def __init__(self, rule: CorrelationRule, config: CorrelationConfig, emit: Emit, schedule: Schedule) -> None:
        super().__init__(rule.meta, rule.group_by, rule.group_fields, rule.suppression_secs, config, emit, schedule)
        self.rule, self.kind, self.span = rule, rule.type, rule.timespan
        assert rule.value_field is not None and rule.threshold is not None
        self.field, self.speed, self.min_km = rule.value_field, rule.threshold, rule.minimum

    def on_hit(self, hit: Hit, keys: list[str]) -> None:
        point = _point(hit.fields.get(self.field))
        if point is None:
            return
        group = self.group_of(hit, keys)
        st: PlaceState = self.state(group, PlaceState)
        st.last = hit.ts
        before, st.place = st.place, (hit.ts, point[0], point[1], hit.event_id)
        if before is None or hit.ts - before[0] >= self.span:
            return
        km = haversine_km(before[1], before[2], point[0], point[1])
        hours = max(hit.ts - before[0], 1.0) / 3600.0  # two sign-ins in the same second: one second apart
        speed = km / hours
        if km < self.min_km or speed <= self.speed:
            return
        alert = self.suppressing(st, hit.ts)
        if alert is not None:
            self.absorb(group, alert, hit)
            return
        alert = self.open_alert(group, st, hit.ts, before[0])
        alert.add(before[0], before[3], {}, self.config.max_event_ids)
        alert.add(hit.ts, hit.event_id, hit.fields, self.config.max_event_ids)
        for lat, lon in ((before[1], before[2]), point):
            alert.add_value(f"{lat:.4f},{lon:.4f}", self.config.max_values)
        alert.value, alert.threshold = round(speed, 1), self.speed  # km/h
        self.publish(group, alert, {f: hit.fields[f] for f in CONTEXT if f in hit.fields})

    def idle(self, st: PlaceState, watermark: float) -> bool:
        return st.alert is None and st.last + self.span <= watermark

    def dump_state(self, st: PlaceState) -> Any:
        return [st.last, list(st.place) if st.place is not None else None, _alert_json(st.alert)]

    def load_state(self, data: Any) -> PlaceState:
        st = PlaceState()
        st.last, place, alert = data
        st.place = (place[0], place[1], place[2], place[3]) if place is not None else None
        st.alert = _alert_load(alert)
        return st


def _point(value: Any) -> tuple[float, float] | None:
    """A geo point as the schema writes it ({lat, lon}); anything else is no place."""
    if not isinstance(value, dict):
        return None
    lat, lon = value.get("lat"), value.get("lon")
    if not isinstance(lat, int | float) or not isinstance(lon, int | float) or isinstance(lat, bool):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return float(lat), float(lon)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def make_engine(rule: CorrelationRule | DetectionRule, config: CorrelationConfig, emit: Emit,
                schedule: Schedule) -> Engine:
    if isinstance(rule, DetectionRule):
        group_by = rule.suppression_group_by if rule.suppression_group_by is not None \
            else tuple(config.single_group_by)
        suppression = rule.suppression_secs if rule.suppression_secs is not None else config.single_suppression_secs
        return SingleEngine(rule.meta, group_by, {rule.meta.key: group_by}, suppression, config, emit, schedule)
    if rule.type == "temporal_ordered":
        return OrderedEngine(rule, config, emit, schedule)
    if rule.type == "first_seen":
        return FirstSeenEngine(rule, config, emit, schedule)
    if rule.type == "baseline_spike":
        return SpikeEngine(rule, config, emit, schedule)
    if rule.type == "impossible_travel":
        return TravelEngine(rule, config, emit, schedule)
    return WindowEngine(rule, config, emit, schedule)
