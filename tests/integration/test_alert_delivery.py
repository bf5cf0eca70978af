# mypy: disable-error-code="import-untyped"
# (aiokafka ships no type information; this comment stays silent if the project ignores it globally.)
"""Correlation alerts through the real outputs: one document per alert in Elasticsearch, one key in Kafka.

An alert is sent again with the same event.id as its running count grows and when its window closes.
Elasticsearch (the node of `scripts/services.sh start es`) keeps the newest version in the plain index
`ucsiem-alerts-<namespace>`, written with `index` and external versioning on uc.alert.count, so an older
version sent after a newer one changes nothing; ordinary events are still created in their data streams.
Kafka (the shared broker) gets the alerts on their own topic, every version keyed by event.id.
Nothing is mocked: the outputs and the agent talk to the real node and broker, and fail when they are not there.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from tests.agenthelp import events
from tests.integration.eshelp import (
    ES_URL,
    cleanup,
    count,
    index_mappings,
    new_namespace,
    reachable,
    request,
    resolve,
    search_all,
    summary,
)
from tests.integration.kafkahelp import KAFKA, kafka_running, read_topic, run_async, start_kafka, topic_prefix
from ucsiem.config import ElasticsearchOutputConfig
from ucsiem.correlate.alerts import AlertState, alert_id, render
from ucsiem.correlate.rules import RuleMeta
from ucsiem.outputs.base import SendResult
from ucsiem.outputs.elasticsearch import ElasticsearchOutput
from ucsiem.outputs.es_setup import ALERTS_TEMPLATE_NAME
from ucsiem.schema.fast import dump_event, validate_event

RULES = Path(__file__).parents[2] / "rules"
BRUTE_FORCE = "084104cf-8397-4627-b29d-0f3c75e804f6"  # rules/uc/sip_bruteforce.yml: >= 10 in 5 min per source
ATTACKER = "203.0.113.80"
START = datetime(2024, 3, 5, 10, 20, tzinfo=UTC)
META = RuleMeta(key=BRUTE_FORCE, title="SIP registration brute force from one source", name="sip_bruteforce",
                path="rules/uc/sip_bruteforce.yml", ruleset="uc", level="high")
RUN_TIMEOUT = 300.0


@pytest.fixture
def ns() -> Iterator[str]:
    """A namespace of this test's own; its data streams, daily indices and alerts index are freed afterwards."""
    problem = reachable()
    if problem is not None:
        pytest.fail(f"no Elasticsearch at {ES_URL} ({problem}): run `bash scripts/services.sh start es` first")
    namespace = new_namespace("alert")
    yield namespace
    request("DELETE", f"/ucsiem-alerts-{namespace}", ok=(404,))
    cleanup(namespace)


def alert_doc(count: int, ip: str = ATTACKER, start: float = 1_709_634_000.0) -> bytes:
    """An alert as the agent ships it: rendered by the correlator, validated and serialized by the pipeline."""
    state = AlertState(alert_id(BRUTE_FORCE, [ip], start), start, start + 300, start, start + count, count=count)
    return dump_event(validate_event(render(META, "event_count", ("source.ip",), (ip,), state)))


def plain_event(n: int) -> bytes:
    return dump_event(validate_event({
        "@timestamp": (START + timedelta(seconds=n)).isoformat(), "message": f"line {n}",
        "event": {"kind": "event", "dataset": "test.lines", "id": f"plain-{n}", "ingested": START.isoformat()},
        "source": {"ip": "198.51.100.7"}}))


async def send_batches(ns: str, batches: list[list[bytes]], **cfg: Any) -> list[SendResult]:
    out = ElasticsearchOutput(ElasticsearchOutputConfig(hosts=[ES_URL], namespace=ns, **cfg))
    await out.start()
    try:
        return [await out.send(batch) for batch in batches]
    finally:
        await out.close()


def alerts_in(ns: str) -> list[dict[str, Any]]:
    return search_all(f"ucsiem-alerts-{ns}")


# -- Elasticsearch: the output itself -----------------------------------------------------------------


def test_an_alert_sent_three_times_and_once_out_of_order_ends_as_one_document_with_the_newest_count(
        ns: str) -> None:
    versions = [alert_doc(10), alert_doc(20), alert_doc(40)]
    stale = alert_doc(20)  # a retry that lost the race, or a replay: older than what is there
    results = asyncio.run(send_batches(ns, [[versions[0], plain_event(0)], [versions[1]], [versions[2]], [stale],
                                            [plain_event(0)]]))
    assert [(r.rejected, r.retry, r.duplicates) for r in results] == [([], [], 0), ([], [], 0), ([], [], 0),
                                                                     ([], [], 1), ([], [], 1)]

    [hit] = alerts_in(ns)
    newest = orjson.loads(versions[2])
    assert hit["_index"] == f"ucsiem-alerts-{ns}" and hit["_id"] == newest["event"]["id"]
    assert hit["_source"] == newest and hit["_source"]["uc"]["alert"]["count"] == 40
    got = request("GET", f"/ucsiem-alerts-{ns}/_doc/{hit['_id']}")
    assert got["_version"] == 40  # the external version is the count

    found = resolve(f"ucsiem-alerts-{ns}")
    assert [i["name"] for i in found["indices"]] == [f"ucsiem-alerts-{ns}"] and found["data_streams"] == []
    [fields] = index_mappings(f"ucsiem-alerts-{ns}").values()  # the alerts template's mappings, not dynamic ones
    assert (fields["uc.alert.count"], fields["source.ip"], fields["@timestamp"]) == ("long", "ip", "date")
    template = request("GET", f"/_index_template/{ALERTS_TEMPLATE_NAME}")["index_templates"][0]["index_template"]
    assert template["index_patterns"] == ["ucsiem-alerts-*"] and "data_stream" not in template

    # the ordinary event went to its data stream with `create`: once, the second send a 409 duplicate
    assert count(f"logs-uc.test.lines-{ns}") == 1
    [event_hit] = search_all(f"logs-uc.test.lines-{ns}")
    assert event_hit["_index"].startswith(f".ds-logs-uc.test.lines-{ns}-")
    assert count(f"logs-uc.*-{ns}", {"term": {"event.kind": "alert"}}) == 0


def test_versions_of_many_alerts_in_one_bulk_request_in_any_order(ns: str) -> None:
    """Three alerts, each with versions shuffled inside one request and across two: the newest of each stays."""
    starts = [1_709_634_000.0 + 600 * i for i in range(3)]
    first = [alert_doc(n, start=s) for s in starts for n in (10, 40, 20)]
    second = [alert_doc(n, start=s) for s in starts for n in (30, 40)]
    results = asyncio.run(send_batches(ns, [first, second]))
    assert [(r.rejected, r.retry) for r in results] == [([], []), ([], [])]
    assert (results[0].duplicates, results[1].duplicates) == (3, 3)  # 20 after 40, then 30 (40 rewrites itself)
    hits = alerts_in(ns)
    assert sorted(h["_source"]["uc"]["alert"]["count"] for h in hits) == [40, 40, 40]
    assert len({h["_id"] for h in hits}) == 3


def test_daily_index_mode_still_updates_alerts_in_the_alerts_index(ns: str) -> None:
    results = asyncio.run(send_batches(ns, [[alert_doc(10)], [alert_doc(15)], [alert_doc(12)]],
                                       index_mode="index", manage_templates=False))
    assert [r.duplicates for r in results] == [0, 0, 1]
    [hit] = alerts_in(ns)
    assert hit["_source"]["uc"]["alert"]["count"] == 15
    assert resolve(f"logs-uc.*-{ns}*")["indices"] == []


# -- the agent: correlation over a log, alerts shipped to Elasticsearch and Kafka ----------------------


def failure(second: int, ip: str = ATTACKER, ext: int = 1004) -> str:
    at = (START + timedelta(seconds=second)).strftime("%Y-%m-%d %H:%M:%S")
    return (f"[{at}] NOTICE[1638] chan_sip.c: Registration from '<sip:{ext}@example.com>' failed for "
            f"'{ip}' - Wrong password\n")


def agent_config(tmp: Path, output: dict[str, Any]) -> Path:
    log = tmp / "asterisk.log"
    log.write_text("".join(failure(5 * i) for i in range(25)))  # 25 in 2 min: alert at 10, again at 20, 25 at close
    path = tmp / "config.yml"
    path.write_text(yaml.safe_dump({
        "agent": {"data_dir": str(tmp / "state"), "stats_interval_secs": 0},
        "inputs": [{"id": "pbx", "paths": [str(log)], "parser": "asterisk", "timezone": "UTC",
                    "poll_interval_secs": 0.1}],
        "outputs": [{"type": "file", "path": str(tmp / "out" / "events.ndjson")}, output],
        "pipeline": {"workers": 2},
        "correlation": {"rules": [str(RULES)]},
    }))
    return path


def run_agent(config: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "ucsiem", "run", "--once", "--config", str(config)],
                          capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr[-5000:]
    return summary(done.stderr)


def shipped_alerts(tmp: Path) -> list[dict[str, Any]]:
    """The alert documents the agent shipped, in order (what the file output got)."""
    return [e for e in events(tmp) if e["event"]["kind"] == "alert"]


def test_the_agent_ships_a_growing_alert_as_one_elasticsearch_document(tmp_path: Path, ns: str) -> None:
    out = run_agent(agent_config(tmp_path, {"type": "elasticsearch", "id": "es", "hosts": [ES_URL],
                                            "namespace": ns}))
    versions = shipped_alerts(tmp_path)
    assert [v["uc"]["alert"]["count"] for v in versions] == [10, 20, 25]
    assert len({v["event"]["id"] for v in versions}) == 1
    stats = out["outputs"]["elasticsearch:es"]
    assert (stats["delivered"], stats["dead_letters"]) == (25 + 3, {})

    [hit] = alerts_in(ns)
    assert hit["_source"] == versions[-1] and hit["_source"]["rule"]["id"] == BRUTE_FORCE
    assert hit["_id"] == versions[-1]["event"]["id"]
    assert count(f"logs-uc.asterisk.log-{ns}") == 25  # every line still an event in its data stream

    # a replay of the same log (a crash before the position was saved) makes the same ids: nothing changes
    (tmp_path / "state").rename(tmp_path / "state.first")
    (tmp_path / "out").rename(tmp_path / "out.first")
    again = run_agent(tmp_path / "config.yml")["outputs"]["elasticsearch:es"]
    # the 25 events are there (409), the alert at 10 and 20 is older than the 25 there (409), 25 rewrites itself
    assert (again["delivered"], again["duplicates"], again["dead_letters"]) == (28, 25 + 2, {})
    [replayed] = alerts_in(ns)
    assert replayed["_source"] == versions[-1]
    assert count(f"logs-uc.asterisk.log-{ns}") == 25


@pytest.fixture
def kafka_up() -> None:
    if not kafka_running():
        start_kafka()


def test_the_agent_ships_alerts_to_their_own_kafka_topic_keyed_by_event_id(tmp_path: Path, kafka_up: None) -> None:
    prefix = topic_prefix("alerts")
    run_agent(agent_config(tmp_path, {"type": "kafka", "id": "k", "bootstrap_servers": [KAFKA],
                                      "topic": prefix + ".{event.dataset}", "key_field": "source.ip"}))
    versions = shipped_alerts(tmp_path)
    assert [v["uc"]["alert"]["count"] for v in versions] == [10, 20, 25]
    alert_id = versions[0]["event"]["id"]

    records = run_async(read_topic(f"{prefix}.ucsiem.alert", 3), timeout=120)
    assert [r.key for r in records] == [alert_id.encode()] * 3  # not source.ip: alerts are keyed by their id
    assert len({r.partition for r in records}) == 1
    assert [orjson.loads(r.value) for r in records] == versions  # in order: the newest last
    assert dict(records[0].headers)["ucsiem.dataset"] == b"ucsiem.alert"

    lines = run_async(read_topic(f"{prefix}.asterisk.log", 25), timeout=120)
    assert len(lines) == 25 and {r.key for r in lines} == {ATTACKER.encode()}  # events keep key_field
    assert all(orjson.loads(r.value)["event"]["kind"] == "event" for r in lines)
