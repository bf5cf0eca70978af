# mypy: disable-error-code="import-untyped"
# (aiokafka ships no type information; this comment stays silent if the project ignores it globally.)
"""`ucsiem correlate` against the real broker (scripts/services.sh): two instances in one group, one of them
SIGKILLed in the middle of the attacks, and every alert a single Correlator raises over the same events is
written exactly once (as read with isolation.level=read_committed), documents and running counts alike.

The events are the rule pack's positive and negative cases (real parser output, tests/rules/cases), keyed by
`source.ip` as the agent's `key_field: source.ip` would, over 4 partitions; several alerts are grouped by
`user.name`, whose events sit in different partitions: they fire only if the repartition works. A second
test reads a backlog from one topic per dataset (as the agent ships them) through a topic pattern.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.integration.kafkahelp import KAFKA, TopicReader, kafka_running, run_async, start_kafka, topic_prefix
from ucsiem.correlate import Correlator, Detector, load_rules
from ucsiem.correlate.fields import parse_time

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "rules" / "cases"
PARTITIONS = 4
CASE_NAMES = ("positive-sip_", "positive-sign_in", "positive-admin", "negative-sip_", "negative-admin",
              "positive-toll")
USER_RULES = {"sip_account_takeover", "sign_in_multiple_countries", "admin_config_change_after_failures"}


@pytest.fixture(autouse=True)
def _shared_kafka_is_up() -> None:
    if not kafka_running():
        start_kafka()


def case_events() -> list[dict[str, Any]]:
    """The cases' events in time order; each event gets an id of its own (cases reuse their goldens' ids)."""
    out: list[dict[str, Any]] = []
    for name in CASE_NAMES:
        for path in sorted(CASES.glob(f"*/{name}*.ndjson")):
            for line in path.read_bytes().splitlines():
                if line.strip():
                    event = orjson.loads(line)
                    event["event"]["id"] = f"{zlib.crc32(path.name.encode()):08x}{event['event']['id']}"
                    out.append(event)
    return sorted(out, key=lambda e: parse_time(e["@timestamp"]) or 0.0)


def reference(events: list[dict[str, Any]]) -> tuple[Counter[tuple[str, int]], dict[str, str], dict[str, list[str]]]:
    """One Correlator over the events: (alert id, running count) documents, each id's rule name, its events."""
    ruleset = load_rules([ROOT / "rules"])
    detector, correlator = Detector(ruleset), Correlator(ruleset)
    alerts: list[dict[str, Any]] = []
    for event in events:
        alerts += correlator.feed(detector.detect(event))
    alerts += correlator.flush()
    names = {a["event"]["id"]: str(ruleset.find(a["rule"]["id"]).name) for a in alerts}  # type: ignore[union-attr]
    contributors = {a["event"]["id"]: list(a["uc"]["alert"].get("event_ids", [])) for a in alerts}
    return Counter((a["event"]["id"], a["uc"]["alert"]["count"]) for a in alerts), names, contributors


def clock_events(ts: float, topics: list[str], partitions: int) -> list[dict[str, Any]]:
    """Events no rule matches, far after the attacks, one per partition: event time moves past every window."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
    return [{"@timestamp": stamp, "message": "clock",
             "event": {"kind": "event", "dataset": "test.clock", "module": "test", "action": "clock-tick",
                       "id": f"clock|{topic}|{p}|{uuid.uuid4().hex}"}}
            for topic in topics for p in range(partitions)]


async def create_topics(names: list[str], partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1) for name in names])
    finally:
        await admin.close()


class Producer:
    """Events to their topic, and to the partition of their key (source.ip) as the agent's key_field would
    have them (keyless ones spread by id), each acknowledged before the next."""

    def __init__(self, topic_of: Callable[[dict[str, Any]], str], partitions: int) -> None:
        self.topic_of, self.count = topic_of, partitions
        self.partitions: dict[str, tuple[str, int]] = {}  # event id -> (topic, partition)

    async def send(self, events: list[dict[str, Any]], pace: float = 0.0) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all", enable_idempotence=True)
        await producer.start()
        try:
            for event in events:
                ip = (event.get("source") or {}).get("ip")
                key = str(ip).encode() if ip else None
                topic = self.topic_of(event)
                partition = (zlib.crc32(key) if key else zlib.crc32(event["event"]["id"].encode())) % self.count
                if event["event"]["dataset"] == "test.clock":
                    _, topic, number, _ = event["event"]["id"].split("|")
                    partition = int(number)
                await producer.send_and_wait(topic, orjson.dumps(event), key=key, partition=partition)
                self.partitions[event["event"]["id"]] = (topic, partition)
                if pace:
                    await asyncio.sleep(pace)
        finally:
            await producer.stop()


def write_config(tmp: Path, prefix: str, input_: dict[str, Any], idle_timeout_secs: float) -> Path:
    config = tmp / "correlate.yml"
    config.write_text(yaml.safe_dump({
        "kafka": {"bootstrap_servers": [KAFKA], "client_id": "test-correlate"},
        "group_id": prefix, "input": input_,
        "correlation": {"rules": [str(ROOT / "rules")]},
        "alerts": {"topic": f"{prefix}.alerts"},
        "internal": {"partitions": PARTITIONS, "replication_factor": 1},
        "session_timeout_secs": 6, "transaction_timeout_secs": 20, "idle_timeout_secs": idle_timeout_secs,
        "log_level": "info",
    }))
    proc = subprocess.run([sys.executable, "-m", "ucsiem", "correlate", "--config", str(config), "--check"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return config


def newest_time(events: list[dict[str, Any]]) -> float:
    return max(t for e in events if (t := parse_time(e["@timestamp"])) is not None)


def start_instance(config: Path, name: str) -> subprocess.Popen[bytes]:
    with (config.parent / f"{name}.log").open("wb") as log:
        return subprocess.Popen([sys.executable, "-m", "ucsiem", "correlate", "--config", str(config)], cwd=ROOT,
                                stdout=log, stderr=subprocess.STDOUT)


def instance_log(config: Path, name: str) -> str:
    text = (config.parent / f"{name}.log").read_text(errors="replace")
    return "".join(line for line in text.splitlines(keepends=True) if '"logger": "aiokafka' not in line)[-4000:]


@pytest.fixture
def instances() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


async def read_alerts(topic: str, until: Any, timeout: float) -> list[dict[str, Any]]:
    async with TopicReader(topic, isolation_level="read_committed") as reader:
        deadline = time.monotonic() + timeout
        while not until(reader.records):
            if time.monotonic() > deadline:
                break
            await reader.poll(300)
        await asyncio.sleep(3)  # anything more (a duplicate) would come now
        await reader.poll(300)
        return [orjson.loads(r.value) for r in reader.records]


def test_two_instances_one_killed_mid_attack_every_alert_once(tmp_path: Path,
                                                              instances: list[subprocess.Popen[bytes]]) -> None:
    events = case_events()
    expected, names, contributors = reference(events)
    assert len(names) >= 15, names
    prefix = topic_prefix("correlate")
    events_topic, alert_topic = f"{prefix}.events", f"{prefix}.alerts"
    run_async(create_topics([events_topic], PARTITIONS), 60)
    # a replay much faster than real time, every partition busy: no partition may count as idle while
    # event time runs minutes ahead in a second (README: raise idle_timeout_secs for such replays)
    config = write_config(tmp_path, prefix, {"topics": [events_topic]}, 60.0)

    instances.append(start_instance(config, "a"))
    instances.append(start_instance(config, "b"))
    deadline = time.monotonic() + 60
    while not all("Correlation partitions assigned." in instance_log(config, n) for n in ("a", "b")):
        assert time.monotonic() < deadline, instance_log(config, "a") + instance_log(config, "b")
        assert all(p.poll() is None for p in instances), instance_log(config, "a") + instance_log(config, "b")
        time.sleep(0.2)

    producer = Producer(lambda event: events_topic, PARTITIONS)
    half = len(events) // 2
    started = time.monotonic()
    run_async(producer.send(events[:half], pace=0.01), 120)
    # the first alerts are out: the service runs; the attacks of the second half are in progress
    before = run_async(read_alerts(alert_topic, lambda records: len(records) > 0, 60), 90)
    victim = instances[0]
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(10)
    tail = clock_events(newest_time(events) + 86_400 * 60, [events_topic], PARTITIONS)
    run_async(producer.send(events[half:] + tail, pace=0.002), 120)

    want = sum(expected.values())
    alerts = run_async(read_alerts(alert_topic, lambda records: len(records) >= want, 90), 120)
    took = time.monotonic() - started
    survivor = instances[1]
    survivor.send_signal(signal.SIGTERM)
    assert survivor.wait(30) == 0, instance_log(config, "b")
    summary = last_summary(instance_log(config, "b"))  # printed at a clean stop
    assert 0 < len(before) < want, "the kill must fall in the middle of the attacks"
    assert summary["restored"] > 0, summary  # the victim's partitions moved here with their state
    assert 0 < summary["events"] < len(events) + len(tail), summary  # the victim had read its share
    # no hit late, none counted twice (the repartition is exactly once too), no transaction failed
    assert summary["state_late"] == summary["state_duplicates"] == summary["aborted"] == 0, summary

    got = Counter((a["event"]["id"], a["uc"]["alert"]["count"]) for a in alerts)
    assert all(a["event"]["kind"] == "alert" and a["event"]["dataset"] == "ucsiem.alert" for a in alerts)
    missing, extra = expected - got, got - expected
    assert not missing and not extra, (f"missing {dict(missing)} extra {dict(extra)} "
                                       f"(rules: {sorted({names.get(i, i) for i, _ in missing + extra})})\n"
                                       + instance_log(config, "b"))
    # a rule grouped by user.name fired although its events were in different partitions (keyed by source.ip)
    spread = {names[i] for i in names if names[i] in USER_RULES
              and len({producer.partitions[e] for e in contributors[i] if e in producer.partitions}) > 1}
    assert spread, "no user.name alert had events in two partitions: the test proves nothing"
    print(f"{len(events)} events, {sum(got.values())} alert documents, {len(names)} alert ids, "
          f"{len(before)} documents before the kill, survivor {summary}, "
          f"rules across partitions: {sorted(spread)}, {took:.1f} s")


def test_backlog_of_dataset_topics_read_by_pattern(tmp_path: Path, instances: list[subprocess.Popen[bytes]]) -> None:
    """The agent's layout (one topic per dataset, 2 partitions each, some nearly empty) already written, read
    through the default kind of input (a pattern) by two instances: every alert document exactly once."""
    events = case_events()
    expected, _, _ = reference(events)
    prefix = topic_prefix("correlate-backlog")
    producer = Producer(lambda event: f"{prefix}.ds.{event['event']['dataset']}", 2)
    topics = sorted({producer.topic_of(e) for e in events})
    assert len(topics) >= 5, topics
    run_async(create_topics(topics, 2), 60)
    run_async(producer.send(events + clock_events(newest_time(events) + 86_400 * 60, topics, 2)), 120)
    config = write_config(tmp_path, prefix, {"pattern": f"^{re.escape(prefix)}\\.ds\\."}, 2.0)
    started = time.monotonic()
    instances.append(start_instance(config, "a"))
    instances.append(start_instance(config, "b"))
    want = sum(expected.values())
    alerts = run_async(read_alerts(f"{prefix}.alerts", lambda records: len(records) >= want, 90), 120)
    took = time.monotonic() - started
    summaries = []
    for proc, name in zip(instances, "ab", strict=True):
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, instance_log(config, name)
        summaries.append(last_summary(instance_log(config, name)))
    got = Counter((a["event"]["id"], a["uc"]["alert"]["count"]) for a in alerts)
    assert got == expected, f"missing {dict(expected - got)} extra {dict(got - expected)}"
    assert sum(s["events"] for s in summaries) >= len(events), summaries  # every event read (some twice: rebalance)
    assert all(s["state_late"] == 0 and s["state_duplicates"] == 0 for s in summaries), summaries
    print(f"{len(topics)} topics, {len(events)} events, {sum(got.values())} alert documents in {took:.1f} s "
          f"from the start of two instances; {summaries}")


def last_summary(log: str) -> dict[str, Any]:
    """The JSON summary an instance prints at exit: the last line that is one (a library may log after it)."""
    for row in reversed(log.strip().splitlines()):
        if row.startswith("{") and '"events"' in row:
            summary = orjson.loads(row)
            if isinstance(summary, dict) and "events" in summary and "message" not in summary:
                return summary
    raise AssertionError(f"no exit summary in the instance log:\n{log[-3000:]}")
