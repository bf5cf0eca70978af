"""The correlator (issue 9): every correlation type at its edges, event time and lateness, suppression,
deterministic ids, snapshot/restore mid-attack, duplicates after restore, bounded state, and alerts that
validate as schema events."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ucsiem.correlate import CorrelationConfig, Correlator, Detector, load_rules
from ucsiem.schema.event import UCEvent

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
FAILED = """title: failed registration
id: 66666666-6666-4666-8666-000000000001
name: reg_failed
level: low
logsource: {product: kamailio}
detection:
  sel: {event.action: sip-register, event.outcome: failure}
  condition: sel
---
title: registration ok
id: 66666666-6666-4666-8666-000000000002
name: reg_ok
logsource: {product: kamailio}
detection:
  sel: {event.action: sip-register, event.outcome: success}
  condition: sel
---
title: call
id: 66666666-6666-4666-8666-000000000003
name: call
logsource: {product: kamailio}
detection:
  sel: {event.action: call-attempt}
  condition: sel
"""
CID = "77777777-7777-4777-8777-000000000001"


def corr(body: str, extra: str = "") -> str:
    return f"""---
title: the correlation
id: {CID}
level: high
tags: [attack.credential_access, attack.t1110.001]
{extra}correlation:
{body}"""


class Engine:
    def __init__(self, tmp_path: Path, rules: str, **config: Any) -> None:
        path = tmp_path / "rules.yml"
        path.write_text(rules)
        self.rules = load_rules([path])
        self.config = CorrelationConfig(**config)
        self.detector = Detector(self.rules, self.config)
        self.correlator = Correlator(self.rules, self.config)

    def feed(self, events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for ev in events:
            out += self.correlator.feed(self.detector.detect(ev))
        return out

    def run(self, events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        return self.feed(events) + self.correlator.flush()

    def fresh(self) -> Correlator:
        return Correlator(self.rules, self.config)


_n = 0


def ev(secs: float, action: str = "sip-register", outcome: str = "failure", ip: str = "192.0.2.1",
       user: str | None = None, eid: str | None = None, **more: Any) -> dict[str, Any]:
    global _n
    _n += 1
    doc: dict[str, Any] = {
        "@timestamp": (T0 + timedelta(seconds=secs)).isoformat().replace("+00:00", "Z"),
        "event": {"action": action, "outcome": outcome, "module": "kamailio", "dataset": "kamailio.log",
                  "id": eid or f"e{_n}"},
        "source": {"ip": ip},
    }
    if user:
        doc["user"] = {"name": user}
    for dotted, value in more.items():
        *parents, last = dotted.split("__")
        node = doc
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return doc


def of_rule(alerts: list[dict[str, Any]], rule_id: str = CID) -> list[dict[str, Any]]:
    return [a for a in alerts if a["rule"]["id"] == rule_id]


def ids(alerts: list[dict[str, Any]]) -> set[str]:
    return {a["event"]["id"] for a in alerts}


def valid(alerts: list[dict[str, Any]]) -> None:
    for a in alerts:
        UCEvent.model_validate(a)


COUNT = corr("  type: event_count\n  rules: reg_failed\n  group-by: source.ip\n  timespan: 5m\n  condition: {gte: 8}\n")


# ---- event_count ----

def test_event_count_threshold_n_and_n_minus_1(tmp_path: Path) -> None:
    e = Engine(tmp_path, FAILED + COUNT)
    assert of_rule(e.run(ev(i * 10) for i in range(7))) == []
    e = Engine(tmp_path, FAILED + COUNT)
    alerts = of_rule(e.run(ev(i * 10) for i in range(8)))
    assert len(ids(alerts)) == 1
    a = alerts[0]
    valid(alerts)
    assert a["event"]["kind"] == "alert" and a["event"]["severity"] == 99
    assert a["source"]["ip"] == "192.0.2.1"
    assert a["uc"]["alert"]["count"] == 8 and a["uc"]["alert"]["threshold"] == 8
    assert len(a["uc"]["alert"]["event_ids"]) == 8
    assert a["event"]["start"].startswith("2026-03-02T08:00:00") and a["event"]["end"].startswith("2026-03-02T08:01:10")
    assert a["threat"]["technique"]["id"] == ["T1110"] and a["threat"]["tactic"]["id"] == ["TA0006"]
    assert a["threat"]["technique"]["subtechnique"]["id"] == ["T1110.001"]
    assert a["rule"]["name"] == "the correlation" and a["uc"]["alert"]["level"] == "high"


def test_groups_are_separate(tmp_path: Path) -> None:
    e = Engine(tmp_path, FAILED + COUNT)
    events = [ev(i * 10, ip=f"192.0.2.{i % 2 + 1}") for i in range(14)]  # 7 per source
    assert of_rule(e.run(events)) == []


def test_timespan_edges(tmp_path: Path) -> None:
    # 8 events spanning just under 5 minutes: inside
    e = Engine(tmp_path, FAILED + COUNT)
    assert len(of_rule(e.run(ev(i * 299 / 7) for i in range(8)))) >= 1
    # 8 events whose first and last are exactly 5 minutes apart: outside ("within" is strictly less)
    e = Engine(tmp_path, FAILED + COUNT)
    assert of_rule(e.run(ev(i * 300 / 7) for i in range(8))) == []


def test_sliding_window_catches_a_burst_across_a_fixed_boundary(tmp_path: Path) -> None:
    # 4 events just before a 5-minute boundary (08:05) and 4 just after: fixed windows see 4 + 4
    e = Engine(tmp_path, FAILED + COUNT)
    events = [ev(296 + i) for i in range(4)] + [ev(300 + i) for i in range(4)]
    assert len(ids(of_rule(e.run(events)))) == 1


def test_suppression_one_alert_then_running_count(tmp_path: Path) -> None:
    e = Engine(tmp_path, FAILED + COUNT)
    alerts = of_rule(e.run(ev(i) for i in range(40)))  # 40 failures in 40 s
    assert len(ids(alerts)) == 1
    assert alerts[-1]["uc"]["alert"]["count"] == 40  # the final update carries the running count
    assert [a["uc"]["alert"]["count"] for a in alerts] == sorted(a["uc"]["alert"]["count"] for a in alerts)
    assert len(alerts) <= 5  # updates when the count doubles, not one document per event


def test_new_alert_after_the_suppression_window(tmp_path: Path) -> None:
    e = Engine(tmp_path, FAILED + COUNT)
    events = [ev(i) for i in range(8)] + [ev(400 + i) for i in range(8)]  # two bursts 400 s apart (> 5m)
    assert len(ids(of_rule(e.run(events)))) == 2


def test_lateness_orders_events_and_counts_the_too_late(tmp_path: Path) -> None:
    in_order = [ev(i * 10, eid=f"x{i}") for i in range(8)]
    shuffled = in_order[:]
    shuffled[3], shuffled[6] = shuffled[6], shuffled[3]  # 30 s out of order, lateness 60 s
    a = Engine(tmp_path, FAILED + COUNT, lateness_secs=60)
    b = Engine(tmp_path, FAILED + COUNT, lateness_secs=60)
    assert of_rule(a.run(in_order)) == of_rule(b.run(shuffled))
    assert b.correlator.stats()["late"] == 0
    # beyond lateness: the 8th event arrives after 10 minutes of newer traffic from another source
    c = Engine(tmp_path, FAILED + COUNT, lateness_secs=60)
    late = [*in_order[:7], ev(700, ip="198.51.100.9"), in_order[7]]
    assert of_rule(c.run(late)) == []
    assert c.correlator.stats()["late"] == 1


def test_alerts_wait_for_lateness_then_advance(tmp_path: Path) -> None:
    e = Engine(tmp_path, FAILED + COUNT, lateness_secs=30)
    assert of_rule(e.feed(ev(i) for i in range(8))) == []  # newest-30 s has not passed them yet
    alerts = e.correlator.advance((T0 + timedelta(seconds=60)).timestamp())
    assert len(of_rule(alerts)) == 1


def test_replay_gives_the_same_alerts_and_ids(tmp_path: Path) -> None:
    rng = random.Random(7)
    events = [ev(rng.uniform(0, 3600), ip=f"192.0.2.{rng.randint(1, 4)}") for _ in range(400)]
    events.sort(key=lambda d: d["@timestamp"])
    first = Engine(tmp_path, FAILED + COUNT).run(events)
    assert first  # the data does trigger
    again = Engine(tmp_path, FAILED + COUNT).run(events)
    assert again == first
    # fed in small shuffled batches within the lateness: still the same alerts
    jittered = sorted(events, key=lambda d: datetime.fromisoformat(d["@timestamp"]).timestamp() + rng.uniform(0, 4))
    assert Engine(tmp_path, FAILED + COUNT, lateness_secs=5).run(jittered) == first


def test_snapshot_restore_mid_attack_alerts_once(tmp_path: Path) -> None:
    events = [ev(i * 5, eid=f"s{i}") for i in range(12)]
    whole = of_rule(Engine(tmp_path, FAILED + COUNT).run(events))
    e = Engine(tmp_path, FAILED + COUNT)
    before = e.feed(events[:5])
    state = e.correlator.snapshot()
    restored = e.fresh()
    restored.restore(state)
    after: list[dict[str, Any]] = []
    for x in events[3:]:  # the agent re-reads from its saved position: 2 events come again
        after += restored.feed(e.detector.detect(x))
    after += restored.flush()
    got = of_rule(before + after)
    assert ids(got) == ids(whole) and len(ids(got)) == 1
    assert got[-1]["uc"]["alert"]["count"] == 12  # the two re-read events were not counted twice
    assert restored.stats()["duplicates"] == 2
    assert got == whole


def test_duplicate_event_id_counts_once(tmp_path: Path) -> None:
    e = Engine(tmp_path, FAILED + COUNT)
    events = [ev(i, eid=f"d{i % 7}") for i in range(14)]  # 7 distinct events, each twice
    assert of_rule(e.run(events)) == []


def test_state_is_bounded_under_a_flood_of_keys(tmp_path: Path) -> None:
    e = Engine(tmp_path, FAILED + COUNT, max_groups_per_rule=100)
    events = (ev(i * 0.01, ip=f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}") for i in range(5000))
    e.feed(events)
    stats = e.correlator.stats()
    assert max(len(en.groups) for en in e.correlator.engines) <= 100
    processed = stats["hits"] - stats["buffered"]  # the newest 5 s wait for the lateness
    assert processed > 4000 and stats["evicted"] == processed - 100
    assert stats["memory_bytes"] < 5_000_000


def test_idle_groups_expire(tmp_path: Path) -> None:
    e = Engine(tmp_path, FAILED + COUNT)
    e.feed(ev(i, ip=f"192.0.2.{i + 1}") for i in range(50))
    e.feed([ev(3600, ip="198.51.100.1")])
    assert e.correlator.stats()["groups"] <= 2
    assert e.correlator.stats()["expired"] >= 50


# ---- value_count, value_sum, value_avg ----

def test_value_count_distinct_users_per_source(tmp_path: Path) -> None:
    rule = corr("  type: value_count\n  rules: reg_failed\n  group-by: source.ip\n  timespan: 10m\n"
                "  condition: {gte: 5, field: user.name}\n")
    e = Engine(tmp_path, FAILED + rule)
    assert of_rule(e.run(ev(i, user=f"u{i % 4}") for i in range(40))) == []  # 4 users, many tries
    e = Engine(tmp_path, FAILED + rule)
    alerts = of_rule(e.run(ev(i, user=f"{1000 + i}") for i in range(5)))
    assert len(alerts) == 1
    assert sorted(alerts[0]["uc"]["alert"]["values"]) == [str(1000 + i) for i in range(5)]
    assert alerts[0]["uc"]["alert"]["value"] == 5
    valid(alerts)


def test_value_sum_and_avg(tmp_path: Path) -> None:
    summed = corr("  type: value_sum\n  rules: call\n  group-by: user.name\n  timespan: 1h\n"
                  "  condition: {gt: 600, field: uc.call.duration}\n")
    e = Engine(tmp_path, FAILED + summed)
    calls = [ev(i * 60, "call-attempt", "success", user="bob", uc__call__duration=200.0) for i in range(3)]
    assert of_rule(e.run(calls)) == []  # 600 is not > 600
    e = Engine(tmp_path, FAILED + summed)
    calls.append(ev(200, "call-attempt", "success", user="bob", uc__call__duration=0.5))
    assert len(of_rule(e.run(calls))) == 1
    avg = corr("  type: value_avg\n  rules: call\n  group-by: user.name\n  timespan: 1h\n"
               "  condition: {lt: 5, field: uc.call.duration}\n")
    e = Engine(tmp_path, FAILED + avg)  # wangiri-like: many very short calls
    short = [ev(i * 30, "call-attempt", "success", user="eve", uc__call__duration=2.0) for i in range(10)]
    long = [ev(i * 30, "call-attempt", "success", user="ann", uc__call__duration=120.0) for i in range(10)]
    alerts = of_rule(e.run(short + long))
    assert [a["user"]["name"] for a in alerts] == ["eve"]
    assert alerts[0]["uc"]["alert"]["value"] == pytest.approx(2.0)
    valid(alerts)


def test_event_count_lt_is_evaluated_when_the_window_closes(tmp_path: Path) -> None:
    rule = corr("  type: event_count\n  rules: call\n  group-by: user.name\n  timespan: 10m\n  condition: {lt: 3}\n")
    e = Engine(tmp_path, FAILED + rule)
    events = [ev(0, "call-attempt", user="few"), ev(60, "call-attempt", user="few")]
    events += [ev(i * 10, "call-attempt", user="many") for i in range(5)]
    alerts = of_rule(e.feed(events))
    assert alerts == []  # not before the window ends
    alerts = of_rule(e.correlator.advance((T0 + timedelta(minutes=11)).timestamp()))
    assert [a["user"]["name"] for a in alerts] == ["few"]


# ---- temporal, temporal_ordered ----

TEMPORAL = corr("  type: {kind}\n  rules: [reg_failed, reg_ok]\n  group-by: source.ip\n  timespan: 2m\n")


def test_temporal_any_order(tmp_path: Path) -> None:
    rule = TEMPORAL.replace("{kind}", "temporal")
    e = Engine(tmp_path, FAILED + rule)
    assert len(of_rule(e.run([ev(0, outcome="success"), ev(60)]))) == 1
    e = Engine(tmp_path, FAILED + rule)
    assert of_rule(e.run([ev(0, outcome="success"), ev(120)])) == []  # 2 minutes apart: outside
    e = Engine(tmp_path, FAILED + rule)
    assert of_rule(e.run([ev(0), ev(30), ev(60)])) == []  # one rule only


def test_temporal_ordered_takeover(tmp_path: Path) -> None:
    rule = TEMPORAL.replace("{kind}", "temporal_ordered")
    e = Engine(tmp_path, FAILED + rule)
    alerts = of_rule(e.run([ev(0, eid="f1"), ev(10, eid="f2"), ev(50, outcome="success", eid="ok")]))
    assert len(alerts) == 1
    assert alerts[0]["uc"]["alert"]["event_ids"] == ["f2", "ok"]
    valid(alerts)
    e = Engine(tmp_path, FAILED + rule)
    assert of_rule(e.run([ev(0, outcome="success"), ev(10)])) == []  # wrong order
    e = Engine(tmp_path, FAILED + rule)
    assert of_rule(e.run([ev(0), ev(121, outcome="success")])) == []  # too far apart


# ---- single-event alerts ----

SCANNER = """title: scanner user agent
id: 88888888-8888-4888-8888-000000000001
level: medium
logsource: {product: kamailio}
detection:
  sel: {user_agent.original|contains: [sipvicious, friendly-scanner]}
  condition: sel
"""


def test_unreferenced_detection_raises_single_event_alerts_suppressed_per_source(tmp_path: Path) -> None:
    e = Engine(tmp_path, SCANNER)
    events = [ev(i, "sip-message", ip=f"203.0.113.{i % 2 + 1}", user_agent__original="friendly-scanner")
              for i in range(20)]
    alerts = e.run(events)
    assert len(ids(alerts)) == 2  # one per source within the 5-minute default suppression
    assert {a["source"]["ip"] for a in alerts} == {"203.0.113.1", "203.0.113.2"}
    assert max(a["uc"]["alert"]["count"] for a in alerts) == 10
    assert all(a["uc"]["alert"]["correlation"] == "single" and a["event"]["severity"] == 73 for a in alerts)
    valid(alerts)
    # no suppression: one alert per event
    e = Engine(tmp_path, SCANNER, single_suppression_secs=0)
    assert len(ids(e.run(events))) == 20


def test_referenced_detection_alerts_only_with_generate(tmp_path: Path) -> None:
    e = Engine(tmp_path, FAILED + COUNT)
    assert not of_rule(e.run([ev(0)]), "66666666-6666-4666-8666-000000000001")
    generate = COUNT.replace("  condition: {gte: 8}\n", "  condition: {gte: 8}\n  generate: true\n")
    e = Engine(tmp_path, FAILED + generate)
    assert of_rule(e.run([ev(0)]), "66666666-6666-4666-8666-000000000001")


# ---- first_seen ----

FIRST = corr("  type: first_seen\n  rules: reg_ok\n  group-by: user.name\n  field: source.geo.country_iso_code\n"
             "  timespan: 30d\n  learning: 1d\n")


def geo(secs: float, user: str, country: str, ip: str = "192.0.2.1") -> dict[str, Any]:
    return ev(secs, outcome="success", user=user, ip=ip, source__geo__country_iso_code=country)


def test_first_seen_after_learning(tmp_path: Path) -> None:
    day = 86400
    e = Engine(tmp_path, FAILED + FIRST)
    events = [geo(0, "bob", "DE"), geo(3600, "bob", "FR"), geo(7200, "amy", "DE"),  # learning day
              geo(2 * day, "bob", "FR"),  # known
              geo(2 * day + 60, "bob", "RU"),  # new: alert
              geo(2 * day + 120, "bob", "RU"),  # now known
              geo(2 * day + 180, "zed", "BR"),  # a user never seen: learned, not an alert
              geo(20 * day, "bob", "FR"), geo(35 * day, "bob", "FR"),  # bob stays active...
              geo(40 * day, "bob", "DE")]  # ...but DE was last seen 40 days ago: new again
    alerts = of_rule(e.run(events))
    assert [(a["user"]["name"], a["uc"]["alert"]["values"]) for a in alerts] == [("bob", ["RU"]), ("bob", ["DE"])]
    assert len(ids(alerts)) == 2
    valid(alerts)


def test_first_seen_new_groups_alert_option(tmp_path: Path) -> None:
    rule = FIRST.replace("  learning: 1d\n", "  new-groups: alert\n")
    e = Engine(tmp_path, FAILED + rule)
    assert len(of_rule(e.run([geo(0, "bob", "DE"), geo(10, "amy", "FR")]))) == 2


# ---- baseline_spike ----

SPIKE = corr("  type: baseline_spike\n  rules: call\n  group-by: uc.call.trunk\n  timespan: 1m\n  baseline: 1h\n"
             "  learning: 30m\n  condition: {factor: 3, min: 20}\n")


def calls(minute: int, n: int, trunk: str = "t1") -> list[dict[str, Any]]:
    return [ev(minute * 60 + i * 50 / max(n, 1), "call-attempt", "success", uc__call__trunk=trunk) for i in range(n)]


def test_baseline_spike(tmp_path: Path) -> None:
    normal = [c for m in range(60) for c in calls(m, 5)]  # 5 calls/min for an hour
    e = Engine(tmp_path, FAILED + SPIKE)
    assert of_rule(e.run(normal + calls(60, 15))) == []  # 15 = 3x baseline, not above; and < min 20
    e = Engine(tmp_path, FAILED + SPIKE)
    alerts = of_rule(e.run(normal + calls(60, 40)))
    assert len(ids(alerts)) == 1
    a = alerts[0]
    assert a["uc"]["call"]["trunk"] == "t1"
    assert a["uc"]["alert"]["baseline"] == pytest.approx(5.0)
    assert a["uc"]["alert"]["value"] >= 16
    valid(alerts)


def test_baseline_spike_needs_learning_and_minimum(tmp_path: Path) -> None:
    e = Engine(tmp_path, FAILED + SPIKE)
    assert of_rule(e.run(calls(0, 1) + calls(5, 100))) == []  # group too young
    quiet = [c for m in range(60) for c in calls(m, 1)]
    e = Engine(tmp_path, FAILED + SPIKE)
    assert of_rule(e.run(quiet + calls(60, 10))) == []  # 10x the baseline but under the minimum of 20


def test_spike_snapshot_restore_equals_uninterrupted(tmp_path: Path) -> None:
    events = [c for m in range(60) for c in calls(m, 5)] + calls(60, 40)
    whole = Engine(tmp_path, FAILED + SPIKE).run(events)
    e = Engine(tmp_path, FAILED + SPIKE)
    part = e.feed(events[:200])
    restored = e.fresh()
    restored.restore(e.correlator.snapshot())
    rest: list[dict[str, Any]] = []
    for x in events[200:]:
        rest += restored.feed(e.detector.detect(x))
    assert part + rest + restored.flush() == whole


def test_snapshot_is_versioned(tmp_path: Path) -> None:
    e = Engine(tmp_path, FAILED + COUNT)
    with pytest.raises(ValueError, match="version"):
        e.correlator.restore(b'{"version": 999}')


def test_tick_follows_the_injected_clock(tmp_path: Path) -> None:
    now = [T0.timestamp()]
    path = tmp_path / "r.yml"
    path.write_text(FAILED + COUNT)
    rules = load_rules([path])
    config = CorrelationConfig(lateness_secs=30)
    c = Correlator(rules, config, clock=lambda: now[0])
    d = Detector(rules, config)
    out: list[dict[str, Any]] = []
    for i in range(8):
        out += c.feed(d.detect(ev(i)))
    assert of_rule(out) == []
    assert of_rule(c.tick()) == []  # clock still at T0
    now[0] += 60
    assert len(of_rule(c.tick())) == 1


# ---- impossible_travel ----

TRAVEL = corr("  type: impossible_travel\n  rules: reg_ok\n  group-by: user.name\n  timespan: 24h\n"
              "  condition: {speed_kmh: 900, min_km: 500}\n")
LONDON, LAGOS, PARIS = {"lat": 51.5074, "lon": -0.1278}, {"lat": 6.5244, "lon": 3.3792}, {"lat": 48.8566, "lon": 2.3522}


def sign_in(secs: float, user: str, where: dict[str, float], **more: Any) -> dict[str, Any]:
    return ev(secs, outcome="success", user=user, source__geo__location=where, **more)


def test_haversine_against_a_known_distance() -> None:
    from ucsiem.correlate.windows import haversine_km

    assert round(haversine_km(LONDON["lat"], LONDON["lon"], PARIS["lat"], PARIS["lon"])) == 344  # London-Paris
    assert round(haversine_km(0, 0, 0, 1), 3) == 111.195  # a degree of the equator: 2 pi R / 360, R 6371.0088
    assert round(haversine_km(0, 179.5, 0, -179.5), 3) == 111.195  # across the antimeridian, not round the world


def test_impossible_travel_alerts_when_too_fast_and_far(tmp_path: Path) -> None:
    engine = Engine(tmp_path, FAILED + TRAVEL)
    # London, then Lagos 2 h later (5,000 km: 2,500 km/h): impossible; erin flies it in 7 h: possible
    alerts = of_rule(engine.run([
        sign_in(0, "alice", LONDON), sign_in(7200, "alice", LAGOS),
        sign_in(0, "erin", LONDON), sign_in(7 * 3600, "erin", LAGOS),
        # bob: London to Paris in 10 minutes is fast (2,000 km/h) but within GeoIP's error radius: nothing
        sign_in(0, "bob", LONDON), sign_in(600, "bob", PARIS),
        # carol: Lagos 25 h after London is outside the 24 h timespan: nothing
        sign_in(0, "carol", LONDON), sign_in(25 * 3600, "carol", LAGOS),
        # dave: no place in the event (no GeoIP): nothing, never an error
        ev(0, outcome="success", user="dave"), sign_in(60, "dave", LAGOS),
    ]))
    valid(alerts)
    from ucsiem.correlate.windows import haversine_km

    london_lagos = haversine_km(LONDON["lat"], LONDON["lon"], LAGOS["lat"], LAGOS["lon"])  # about 5,012 km
    assert [(a["user"]["name"], a["uc"]["alert"]["value"]) for a in alerts] == [("alice", round(london_lagos / 2, 1))]
    [alert] = alerts
    assert alert["uc"]["alert"]["threshold"] == 900 and alert["uc"]["alert"]["count"] == 2
    assert alert["uc"]["alert"]["values"] == ["51.5074,-0.1278", "6.5244,3.3792"]
    assert alert["event"]["start"] == "2026-03-02T08:00:00.000000Z"  # the previous sign-in
    assert alert["event"]["end"] == "2026-03-02T10:00:00.000000Z"


def test_impossible_travel_survives_a_restart_and_replays_the_same(tmp_path: Path) -> None:
    engine = Engine(tmp_path, FAILED + TRAVEL)
    first, second = sign_in(0, "alice", LONDON, eid="a1"), sign_in(1800, "alice", LAGOS, eid="a2")
    engine.feed([first])
    saved = engine.correlator.snapshot()
    restored = engine.fresh()
    restored.restore(saved)
    alerts = of_rule(restored.feed(engine.detector.detect(second)) + restored.flush())
    replay = of_rule(Engine(tmp_path, FAILED + TRAVEL).run([first, second]))
    assert len(alerts) == 1 and ids(alerts) == ids(replay)
    assert alerts[0]["uc"]["alert"]["event_ids"] == ["a1", "a2"]
