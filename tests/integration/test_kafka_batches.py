# mypy: disable-error-code="import-untyped"
"""The Kafka output's own record batches, on the real broker of scripts/services.sh: keyed messages land
where the Java client (and aiokafka's `send`) would put them, a send larger than one record batch goes
in several and keeps its order, and what the broker refuses as too large is found message by message.
"""

from __future__ import annotations

import base64
import os
from typing import Any

import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.partitioner import murmur2
from aiokafka.structs import ConsumerRecord

from tests.integration.kafkahelp import KAFKA, kafka_running, read_topic, run_async, topic_prefix
from ucsiem.outputs.base import Rejected, SendResult
from ucsiem.outputs.kafka import KafkaOutput
from ucsiem.outputs.registry import KafkaOutputConfig

PARTITIONS = 4


@pytest.fixture(autouse=True)
def _shared_kafka_is_up() -> None:
    assert kafka_running(), "the shared Kafka is not running: scripts/services.sh start kafka"


def event(seq: int, ip: str | None, padding: str = "") -> bytes:
    doc: dict[str, Any] = {"event": {"dataset": "test.lines", "kind": "event"}, "labels": {"seq": str(seq)},
                           "message": padding or f"line {seq}"}
    if ip is not None:
        doc["source"] = {"ip": ip}
    return orjson.dumps(doc)


def seq(record: ConsumerRecord) -> int:
    assert isinstance(record.value, bytes)
    return int(orjson.loads(record.value)["labels"]["seq"])


async def create_topic(topic: str, partitions: int, **config: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1, topic_configs=config)])
    finally:
        await admin.close()


async def send_all(cfg: KafkaOutputConfig, sends: list[list[bytes]]) -> list[SendResult]:
    output = KafkaOutput(cfg, {})
    await output.start()
    try:
        return [await output.send(docs) for docs in sends]
    finally:
        await output.close()


def test_keyed_messages_land_in_the_key_s_partition_and_unkeyed_ones_of_a_send_together() -> None:
    topic = topic_prefix("partitions")
    run_async(create_topic(topic, PARTITIONS), 60)
    ips = [f"192.0.2.{n}" for n in range(1, 40)]
    sends = [[event(s * 1000 + i, ips[i % len(ips)] if i % 3 else None) for i in range(300)] for s in range(3)]
    cfg = KafkaOutputConfig(bootstrap_servers=[KAFKA], topic=topic, key_field="source.ip")
    results = run_async(send_all(cfg, sends), 120)
    assert all(not r.retry and not r.rejected for r in results), results
    records = run_async(read_topic(topic, 900), 120)
    assert sorted(seq(r) for r in records) == sorted(s * 1000 + i for s in range(3) for i in range(300))
    unkeyed_partitions: dict[int, set[int]] = {}
    for record in records:
        if record.key is None:
            unkeyed_partitions.setdefault(seq(record) // 1000, set()).add(record.partition)
        else:  # the Java client's partitioner: murmur2 of the key over every partition
            assert record.partition == (murmur2(record.key) & 0x7FFFFFFF) % PARTITIONS, record
    assert all(len(parts) == 1 for parts in unkeyed_partitions.values()), unkeyed_partitions
    used = {r.partition for r in records}
    assert used == set(range(PARTITIONS)), f"39 keys over {PARTITIONS} partitions used only {used}"
    for partition in used:  # each partition holds its messages in the order they were given
        seqs = [seq(r) for r in sorted(records, key=lambda r: r.offset) if r.partition == partition]
        assert seqs == sorted(seqs), partition


def test_a_send_larger_than_a_record_batch_goes_in_several_in_order() -> None:
    topic = topic_prefix("batches")
    padding = base64.b64encode(os.urandom(600)).decode()  # does not compress: 800 bytes a message
    docs = [event(i, None, padding) for i in range(500)]
    cfg = KafkaOutputConfig(bootstrap_servers=[KAFKA], topic=topic, max_batch_bytes=16384)
    (result,) = run_async(send_all(cfg, [docs]), 120)
    assert not result.retry and not result.rejected, result
    records = run_async(read_topic(topic, 500), 120)
    assert [seq(r) for r in sorted(records, key=lambda r: r.offset)] == list(range(500))
    assert len({r.partition for r in records}) == 1


def test_what_the_broker_refuses_as_too_large_is_rejected_alone_and_the_rest_delivered() -> None:
    """The topic takes record batches of at most 4 KiB: a batch that holds one message of 6 KiB is refused
    whole; each of its messages is then sent alone, and only the big ones are rejected (as dead letters)."""
    topic = topic_prefix("refused")
    run_async(create_topic(topic, 1, **{"max.message.bytes": "4096"}), 60)
    big = {7, 33, 34, 90}
    docs = [event(i, None, base64.b64encode(os.urandom(4500)).decode() if i in big else "") for i in range(120)]
    cfg = KafkaOutputConfig(bootstrap_servers=[KAFKA], topic=topic)
    rejected = run_async(send_as_the_sender_does(cfg, docs), 120)
    assert sorted(rejected) == sorted(big)
    assert all(r.code == "oversize" and "broker refused the size" in r.reason for r in rejected.values())
    records = run_async(read_topic(topic, 120 - len(big)), 120)
    assert sorted(seq(r) for r in records) == [i for i in range(120) if i not in big]


async def send_as_the_sender_does(cfg: KafkaOutputConfig, docs: list[bytes]) -> dict[int, Rejected]:
    """What the pipeline's sender does with a result: rejected documents are done (dead letters), the rest
    is sent again (a refused batch breaks the idempotent producer's sequence: what followed it comes back
    as OutOfOrderSequenceNumber, and the output starts a new producer). The rejections by document."""
    output = KafkaOutput(cfg, {})
    rejected: dict[int, Rejected] = {}
    todo = list(range(len(docs)))
    try:
        for _ in range(10):
            result = await output.send([docs[i] for i in todo])
            rejected |= {todo[r.index]: r for r in result.rejected}
            todo = [todo[i] for i in result.retry]
            if not todo:
                return rejected
        raise AssertionError(f"still {len(todo)} to send after 10 rounds: {result.retry_reason}")
    finally:
        await output.close()
