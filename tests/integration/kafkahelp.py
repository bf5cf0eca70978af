# mypy: disable-error-code="import-untyped"
# (aiokafka ships no type information; this comment stays silent if the project ignores it globally.)
"""Helpers for the Kafka output tests: agent configs with a Kafka output, reading topics back, the shared broker.

Everything talks to a real broker: the shared one of ``scripts/services.sh`` (127.0.0.1:19092) or the private
SASL_SSL one of ``kafka_secure.py``. A TopicReader must be created, used and closed inside one event loop.
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import orjson
import yaml
from aiokafka import AIOKafkaClient, AIOKafkaConsumer
from aiokafka.protocol.fetch import FetchRequest
from aiokafka.record.memory_records import MemoryRecords
from aiokafka.structs import ConsumerRecord, TopicPartition

from tests.agenthelp import make_config

T = TypeVar("T")

KAFKA = "127.0.0.1:19092"
ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "scripts" / "services.sh"
CODECS = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}  # record batch attributes, bits 0-2


def topic_prefix(name: str) -> str:
    """A prefix no other test run uses: topics are never shared between tests."""
    return f"ucsiem-test-{name}-{uuid.uuid4().hex[:12]}"


def kafka_config(tmp: Path, paths: list[str], kafka: dict[str, Any], *, file_output: bool = False,
                 parser: str = "linetest", pipeline: dict[str, Any] | None = None) -> Path:
    """make_config with a Kafka output (plus the file output tmp/out/events.ndjson if asked)."""
    path = make_config(tmp, paths, parser=parser, pipeline=pipeline)
    config = yaml.safe_load(path.read_text())
    outputs = [{"type": "kafka", "id": "k", "bootstrap_servers": [KAFKA], **kafka}]
    config["outputs"] = outputs + (config["outputs"] if file_output else [])
    path.write_text(yaml.safe_dump(config))
    return path


def once_summary(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON summary that `ucsiem run --once` prints last (on stderr today; stdout is tried first)."""
    for stream in (proc.stdout, proc.stderr):
        lines = stream.strip().splitlines()
        if lines:
            try:
                value = json.loads(lines[-1])
            except ValueError:
                continue
            if isinstance(value, dict) and "outputs" in value:
                return value
    raise AssertionError(f"no run summary in the output of the agent:\n{proc.stdout}\n{proc.stderr}")


def agent_log(config: Path, tail: int | None = 3000, *, library: bool = False) -> str:
    """agent.log beside the config: its last `tail` characters (None: all), aiokafka's lines only if `library`
    (a broker that is down makes aiokafka log several lines a second, which would hide the agent's own)."""
    path = config.parent / "agent.log"
    text = path.read_text(errors="replace") if path.exists() else ""
    if not library:
        text = "".join(line for line in text.splitlines(keepends=True) if '"logger": "aiokafka' not in line)
    return text if tail is None else text[-tail:]


def log_records(config: Path) -> list[dict[str, Any]]:
    """The agent's JSON log lines (agent.log beside the config); anything else on stderr is skipped."""
    out: list[dict[str, Any]] = []
    for raw in agent_log(config).splitlines():
        try:
            value = json.loads(raw)
        except ValueError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


def registry_offsets(data_dir: Path) -> list[int]:
    """Read offsets of every file in <data_dir>/checkpoints.json (empty when none is saved yet)."""
    path = data_dir / "checkpoints.json"
    if not path.exists():
        return []
    checkpoints = json.loads(path.read_text())
    return [int(entry["offset"]) for files in checkpoints.get("inputs", {}).values() for entry in files.values()]


# ---------------------------------------------------------------- the shared broker

def services(command: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SERVICES), command, "kafka"], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)


def kafka_running() -> bool:
    return services("status", timeout=60).returncode == 0


def start_kafka() -> None:
    proc = services("start")
    assert proc.returncode == 0, f"services.sh start kafka failed:\n{proc.stdout}\n{proc.stderr}"


def stop_kafka() -> None:
    proc = services("stop")
    assert proc.returncode == 0, f"services.sh stop kafka failed:\n{proc.stdout}\n{proc.stderr}"


def broker_pids(workdir: Path) -> list[int]:
    """The JVM of the private broker that kafka_secure.secure_kafka(workdir) started (by its command line)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"kafka.Kafka" in args and str(workdir / "server.properties").encode() in args:
            pids.append(int(cmdline.parent.name))
    return pids


# ---------------------------------------------------------------- reading topics back

def seq_of(record: ConsumerRecord) -> int:
    value = record.value
    assert isinstance(value, bytes), record
    return int(orjson.loads(value)["labels"]["seq"])


class TopicReader:
    """Every record of one topic from the earliest offset, without a consumer group (nothing committed)."""

    def __init__(self, topic: str, bootstrap: str = KAFKA, *, count_seqs: bool = False, **client: Any) -> None:
        self.topic = topic
        self.records: list[ConsumerRecord] = []
        self.counts: Counter[int] = Counter()  # labels.seq of linetest events -> times seen (count_seqs)
        self._count_seqs = count_seqs
        self._consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                          auto_offset_reset="earliest", enable_auto_commit=False,
                                          request_timeout_ms=10_000, max_partition_fetch_bytes=8 * 1024 * 1024,
                                          fetch_max_bytes=32 * 1024 * 1024, **client)

    async def __aenter__(self) -> TopicReader:
        try:
            await self._consumer.start()
        except BaseException:
            await self._consumer.stop()
            raise
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self._consumer.stop()

    async def poll(self, timeout_ms: int = 500) -> int:
        """Fetch what is available (waiting up to timeout_ms); return how many records came."""
        batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=50_000)
        count = 0
        for records in batches.values():
            self.records.extend(records)
            count += len(records)
            if self._count_seqs:
                self.counts.update(seq_of(r) for r in records)
        return count

    async def until(self, done: Callable[[TopicReader], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} "
                                     f"(topic {self.topic}: {len(self.records)} records so far)")
            await self.poll()

    async def drain(self, timeout: float = 60) -> list[ConsumerRecord]:
        """Read up to the end offsets of every partition as they are now: the topic's whole content."""
        deadline = time.monotonic() + timeout
        while not self._consumer.assignment():
            assert time.monotonic() < deadline, f"no partition of {self.topic} assigned (does the topic exist?)"
            await self.poll(200)
        tps = sorted(self._consumer.assignment())  # subscribed without a group: every partition of the topic
        ends = await self._consumer.end_offsets(tps)
        while True:
            positions = {tp: await self._consumer.position(tp) for tp in tps}
            if all(positions[tp] >= ends[tp] for tp in tps):
                return self.records
            assert time.monotonic() < deadline, (f"timed out reading {self.topic} to its end: at {positions}, "
                                                 f"end {ends}, {len(self.records)} records")
            await self.poll()

    def missing(self, total: int) -> list[int]:
        """Seqs 0..total-1 not seen yet (count_seqs)."""
        return [i for i in range(total) if i not in self.counts]


async def read_topic(topic: str, expected: int, *, timeout: float = 60, bootstrap: str = KAFKA,
                     **client: Any) -> list[ConsumerRecord]:
    """All records of a topic the agent has finished writing: at least `expected` of them, then up to its end."""
    async with TopicReader(topic, bootstrap, **client) as reader:
        await reader.until(lambda r: len(r.records) >= expected, timeout, f"{expected} records")
        return await reader.drain(timeout)


async def batch_codecs(topic: str, bootstrap: str = KAFKA) -> Counter[str]:
    """The compression codec of each record batch stored in partition 0 of `topic`, read with a raw Fetch
    (a consumer decompresses transparently and does not tell): how the producer compressed them."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    codecs: Counter[str] = Counter()
    try:
        await client.bootstrap()
        client.add_topic(topic)
        await client.force_metadata_update()
        leader = client.cluster.leader_for_partition(TopicPartition(topic, 0))
        assert leader is not None and leader >= 0, f"no leader for {topic}-0"
        offset = 0
        while True:
            response = await client.send(leader, FetchRequest(500, 1, 32 * 1024 * 1024, 0,
                                                              [(topic, [(0, offset, 32 * 1024 * 1024)])]))
            part = response.topics[0][1][0]
            assert part[1] == 0, f"fetch error code {part[1]} for {topic}-0"
            records = MemoryRecords(part[-1])
            last = offset
            while (batch := records.next_batch()) is not None:
                codecs[CODECS.get(batch.compression_type, str(batch.compression_type))] += 1
                last = batch.next_offset
            if last == offset:
                return codecs
            offset = last
    finally:
        await client.close()


async def _settled(coro: Coroutine[Any, Any, T], timeout: float) -> T:
    try:
        return await asyncio.wait_for(coro, timeout)
    finally:
        # A client that gave up (a refused login, a failed handshake) closes its sockets with transport.close(),
        # whose connection_lost runs on a later turn of the loop. asyncio.run would close the loop before that
        # turn, and the half-closed transport would warn "unclosed transport" when collected, in whatever test
        # happens to run next (CI once failed test_ldap_source on it).
        await asyncio.sleep(0.2)


def run_async(coro: Coroutine[Any, Any, T], timeout: float) -> T:
    """Run one client scenario on a fresh loop, let its closed transports finish, and collect them here."""
    try:
        return asyncio.run(_settled(coro, timeout))
    finally:
        gc.collect()  # a leak left anyway is reported against this test, not a later one
