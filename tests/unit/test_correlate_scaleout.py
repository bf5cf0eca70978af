"""Scale-out, the pure parts (ucsiem/correlate/scaleout.py): key classes of the shipped pack, the keying of
hits, the event-time frontier of a partition, state snapshots, and the whole repartitioned pipeline
simulated without a broker: the same alerts, by id and count, as one Correlator over the same events."""

from __future__ import annotations

import random
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from ucsiem.correlate import CorrelationConfig, Correlator, Detector, load_rules
from ucsiem.correlate.detector import Hit
from ucsiem.correlate.fields import parse_time
from ucsiem.correlate.rules import RuleSet
from ucsiem.correlate.scaleout import (
    PartitionState,
    Router,
    encode_hit,
    encode_marker,
    group_key,
    key_classes,
)
from ucsiem.correlate.scaleout_config import DEFAULT_INPUT_PATTERN, parse_scaleout_config
from ucsiem.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "rules"
CASES = ROOT / "tests" / "rules" / "cases"
CONFIG = CorrelationConfig()


@pytest.fixture(scope="module")
def pack() -> RuleSet:
    return load_rules([PACK])


def case_events(*names: str) -> list[dict[str, Any]]:
    """The events of the rule pack's cases, in time order. Cases are made from the same golden events, so
    their event ids repeat from file to file: each gets an id of its own, as real events have."""
    out: list[dict[str, Any]] = []
    for name in names:
        for path in sorted(CASES.glob(f"*/{name}*.ndjson")):
            for line in path.read_bytes().splitlines():
                if line.strip():
                    event = orjson.loads(line)
                    event["event"]["id"] = f"{zlib.crc32(path.name.encode()):08x}{event['event']['id']}"
                    out.append(event)
    assert out, names
    return sorted(out, key=lambda e: str(e["@timestamp"]))


def reference(ruleset: RuleSet, events: list[dict[str, Any]]) -> Counter[tuple[str, int]]:
    detector, correlator = Detector(ruleset), Correlator(ruleset)
    alerts: list[dict[str, Any]] = []
    for event in events:
        alerts += correlator.feed(detector.detect(event))
    alerts += correlator.flush()
    return Counter((a["event"]["id"], a["uc"]["alert"]["count"]) for a in alerts)


# ---------------------------------------------------------------- key classes and keys

def test_pack_key_classes_group_rules_by_their_group_by_fields(pack: RuleSet) -> None:
    classes = {c.id: c for c in key_classes(pack, CONFIG)}
    names = {cid: sorted(pack.find(k).name or k for k in (*c.correlations, *c.singles))  # type: ignore[union-attr]
             for cid, c in classes.items()}
    assert names["by:source.ip"] == ["sip_bruteforce_source", "sip_extension_enumeration",
                                     "sip_password_spraying", "sip_scanner_user_agent"]
    assert names["by:user.name"] == ["admin_config_change_after_failures", "sign_in_impossible_travel",
                                     "sign_in_multiple_countries", "sign_in_new_country", "sip_account_takeover"]
    assert "sip_flood_block" in names["by:observer.hostname,source.ip"]
    assert all(cid.startswith("by:") for cid in classes), "the pack has no aliased group-by"
    assert len({k for c in classes.values() for k in (*c.correlations, *c.singles)}) == \
        len(pack.correlations) + sum(d.generates for d in pack.detections.values())


def test_a_failed_registration_is_keyed_once_per_group_by(pack: RuleSet) -> None:
    events = case_events("positive-sip_account_takeover")
    hit = Detector(pack).detect(events[0])[0]
    routes = dict(Router(key_classes(pack, CONFIG)).route(hit))
    assert routes["by:source.ip"] == group_key("by:source.ip", ["203.0.113.60"])
    assert routes["by:user.name"] == group_key("by:user.name", ["1001"])
    assert orjson.loads(routes["by:user.name"]) == ["by:user.name", ["1001"]]
    assert len(routes) == len(set(routes.values()))  # one record per distinct class and group


def test_aliased_group_by_is_a_class_of_its_own(tmp_path: Path) -> None:
    (tmp_path / "r.yml").write_text("""
title: a
id: 00000000-0000-4000-8000-00000000000a
name: a
logsource: {product: asterisk}
detection: {sel: {event.action: x}, condition: sel}
---
title: b
id: 00000000-0000-4000-8000-00000000000b
name: b
logsource: {product: asterisk}
detection: {sel: {event.action: y}, condition: sel}
---
title: a then b for one address
id: 00000000-0000-4000-8000-00000000000c
correlation:
  type: temporal
  rules: [a, b]
  group-by: [ip]
  aliases: {ip: {a: source.ip, b: destination.ip}}
  timespan: 5m
""")
    ruleset = load_rules([tmp_path])
    classes = key_classes(ruleset, CONFIG)
    assert [c.id for c in classes] == ["rule:00000000-0000-4000-8000-00000000000c"]
    router = Router(classes)
    a = Hit(("00000000-0000-4000-8000-00000000000a",), 1.0, "e1", {"source.ip": "192.0.2.1"})
    b = Hit(("00000000-0000-4000-8000-00000000000b",), 2.0, "e2", {"destination.ip": "192.0.2.1"})
    assert router.route(a) == router.route(b)  # both halves of one group meet in one partition


# ---------------------------------------------------------------- the frontier, snapshots

def state(pack: RuleSet, clock: list[float]) -> PartitionState:
    return PartitionState(pack, key_classes(pack, CONFIG), CONFIG, idle_timeout_secs=2.0, clock=lambda: clock[0])


def test_hits_wait_for_the_slowest_source_and_idle_sources_stop_holding(pack: RuleSet) -> None:
    clock = [100.0]
    st = state(pack, clock)
    hits = [h for e in case_events("positive-sip_bruteforce_source") for h in Detector(pack).detect(e)]
    router = Router(key_classes(pack, CONFIG))
    records = [encode_hit(cid, "t:0", hit) for hit in hits for cid, _ in router.route(hit)]
    assert len(records) == 2 * len(hits)  # by source.ip and by user.name
    for record in records:
        st.add(record)
    st.add(encode_marker("t:0", hits[-1].ts, 10))
    st.add(encode_marker("t:1", hits[0].ts - 600, 5))
    ends = {"t:0": 10, "t:1": 7}  # t:1 has unread events: it holds time back
    assert st.release(ends) == [] and st.pending == len(records)
    clock[0] += 60
    assert st.release(ends) == [] and st.pending == len(records), "a source behind never times out"
    assert st.release({"t:0": 10, "t:1": 5}) == [], "read to its end, but not for idle_timeout_secs yet"
    clock[0] += 2
    alerts = st.release({"t:0": 10, "t:1": 5})
    assert st.pending == 0 and alerts == [], "every source idle: the newest hit waits for the lateness"
    clock[0] += CONFIG.lateness_secs + 0.1  # time follows the wall clock from the newest event
    alerts = st.release({"t:0": 10, "t:1": 5})
    assert [pack.find(a["rule"]["id"]).name for a in alerts] == ["sip_bruteforce_source"]  # type: ignore[union-attr]
    unknown = state(pack, clock)
    unknown.add(encode_hit("by:source.ip", "t:0", hits[0]))
    unknown.add(encode_marker("t:0", hits[-1].ts, 10))
    unknown.release({"t:0": 10, "t:1": 3})  # t:1 never heard of, with data: holds everything
    assert unknown.pending == 1
    unknown.add(encode_marker("t:1", hits[-1].ts, 3))
    unknown.add(encode_marker("t:2", hits[0].ts - 60, 1))
    clock[0] += 10
    unknown.release({"t:0": 10, "t:1": 3})  # t:2 is missing from the end offsets: it holds, never idles
    assert unknown.pending == 1


def test_snapshot_restore_continues_exactly(pack: RuleSet) -> None:
    events = case_events("positive-sip_password_spraying", "positive-sip_account_takeover")
    detector, router = Detector(pack), Router(key_classes(pack, CONFIG))
    records = [encode_hit(cid, "t:0", h) for e in events for h in detector.detect(e) for cid, _ in router.route(h)]
    records.append(encode_marker("t:0", parse_time(events[-1]["@timestamp"]), len(events)))

    def run(cut: int | None) -> list[Any]:
        clock = [0.0]
        st, out = state(pack, clock), []
        for i, record in enumerate(records):
            if i == cut:
                saved = st.snapshot()
                st = state(pack, clock)
                assert st.restore(saved) == []
                assert st.snapshot() == saved
            st.add(record)
            out += st.release({"t:0": len(events)})
        clock[0] += 10
        out += st.release({"t:0": len(events)})
        return [orjson.dumps(a, option=orjson.OPT_SORT_KEYS) for a in out]

    whole = run(None)
    assert whole
    for cut in (1, len(records) // 2, len(records) - 1):
        assert run(cut) == whole


def test_a_snapshot_of_other_rules_drops_their_classes(pack: RuleSet, tmp_path: Path) -> None:
    st = state(pack, [0.0])
    doc = orjson.loads(st.snapshot())
    doc["classes"]["by:gone.field"] = doc["classes"]["by:source.ip"]
    fresh = state(pack, [0.0])
    assert fresh.restore(orjson.dumps(doc)) == ["by:gone.field"]
    with pytest.raises(ValueError, match="version"):
        fresh.restore(orjson.dumps({**doc, "version": 99}))


# ---------------------------------------------------------------- the whole pipeline, simulated

def test_repartitioned_pipeline_equals_one_correlator(pack: RuleSet) -> None:
    """Events spread over 3 sources by source.ip, hits over 4 partitions by group key, records of the
    partitions interleaved at random, snapshots moved between owners: the alerts of one Correlator."""
    events = case_events("positive-sip_", "positive-sign_in", "positive-admin", "negative-sip_", "positive-toll")
    expected = reference(pack, events)
    assert len(expected) >= 8
    detector, classes = Detector(pack), key_classes(pack, CONFIG)
    router, n_sources, n_parts = Router(classes), 3, 4
    rng = random.Random(7)
    logs: list[list[bytes]] = [[] for _ in range(n_parts)]
    positions = [0] * n_sources
    newest: list[float | None] = [None] * n_sources
    for event in events:
        ip = str((event.get("source") or {}).get("ip", ""))
        s = zlib.crc32(ip.encode()) % n_sources
        source = f"events:{s}"
        positions[s] += 1
        ts = parse_time(event["@timestamp"])
        newest[s] = ts if newest[s] is None or (ts is not None and ts > newest[s]) else newest[s]  # type: ignore[operator]
        for hit in detector.detect(event):
            for cid, key in router.route(hit):
                logs[zlib.crc32(key) % n_parts].append(encode_hit(cid, source, hit))
        for p in range(n_parts):
            logs[p].append(encode_marker(source, newest[s], positions[s]))
    ends = {f"events:{s}": positions[s] for s in range(n_sources)}
    clock = [0.0]
    states = [state(pack, clock) for _ in range(n_parts)]
    cursors = [0] * n_parts
    alerts: list[dict[str, Any]] = []
    while any(c < len(log) for c, log in zip(cursors, logs, strict=True)):
        p = rng.choice([i for i in range(n_parts) if cursors[i] < len(logs[i])])
        for record in logs[p][cursors[p]:cursors[p] + rng.randint(1, 20)]:
            states[p].add(record)
            cursors[p] += 1
        alerts += states[p].release(ends)
        if rng.random() < 0.1:  # the partition moves to another instance
            moved = state(pack, clock)
            moved.restore(states[p].snapshot())
            states[p] = moved
    clock[0] += 5
    for st in states:
        alerts += st.release(ends)
    # every source idle: time follows the wall clock; a day later every window has closed
    clock[0] += 86_400 * 40
    for st in states:
        alerts += st.release(ends)
    got = Counter((a["event"]["id"], a["uc"]["alert"]["count"]) for a in alerts)
    assert got == expected


# ---------------------------------------------------------------- configuration

def test_config_errors_name_the_key(tmp_path: Path) -> None:
    base = {"kafka": {"bootstrap_servers": ["127.0.0.1:9092"]}, "correlation": {"rules": [str(PACK)]}}
    cfg = parse_scaleout_config(base, "t.yml", tmp_path)
    assert cfg.input.regex() is not None and cfg.input.regex().pattern == DEFAULT_INPUT_PATTERN  # type: ignore[union-attr]
    assert cfg.repartition_topic() == "ucsiem-correlate.ucsiem-correlate.repartition"
    regex = cfg.input.regex()
    assert regex is not None
    assert regex.search("ucsiem.asterisk.log") and regex.search("ucsiem.cisco.expressway")
    assert not regex.search("ucsiem.ucsiem.alert") and not regex.search("ucsiem-correlate.x.repartition")
    with pytest.raises(ConfigError) as err:
        parse_scaleout_config({**base, "intput": {}, "internal": {"partitions": 0}}, "t.yml", tmp_path)
    assert "intput: unknown key (did you mean 'input'?" in str(err.value)
    assert "internal.partitions: Input should be greater than or equal to 1" in str(err.value)
    with pytest.raises(ConfigError, match=r"input: would read 'ucsiem.ucsiem.alert'"):
        parse_scaleout_config({**base, "input": {"pattern": "^ucsiem\\."}}, "t.yml", tmp_path)
    with pytest.raises(ConfigError, match="kafka: sasl without tls"):
        parse_scaleout_config({**base, "kafka": {"bootstrap_servers": ["h:1"],
                                                 "sasl": {"username": "u", "password": "p"}}}, "t.yml", tmp_path)
    with pytest.raises(ConfigError, match=r"correlation.rules: .*missing.yml"):
        parse_scaleout_config({**base, "correlation": {"rules": ["missing.yml"]}}, "t.yml", tmp_path)


def test_cli_check_validates_and_exits_2_on_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ucsiem.cli import main

    good = tmp_path / "correlate.yml"
    good.write_text(f"kafka: {{bootstrap_servers: ['127.0.0.1:9092']}}\ncorrelation: {{rules: ['{PACK}']}}\n")
    assert main(["correlate", "--config", str(good), "--check"]) == 0
    bad = tmp_path / "bad.yml"
    bad.write_text(f"kafka: {{bootstrap_servers: ['127.0.0.1:9092']}}\ncorrelation: {{rules: ['{PACK}'], "
                   "lateness: 3}\n")
    assert main(["correlate", "--config", str(bad), "--check"]) == 2
    assert "correlation.lateness: unknown key" in capsys.readouterr().err
