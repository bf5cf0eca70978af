"""`ucsiem correlate`: the correlation engine as a Kafka consumer-group service, exactly once.

Two stages in every instance, each a consumer group, as a Kafka Streams topology with one repartition:

1. *detect* (group `<group_id>`) reads the event topics, runs the `Detector` on each event, and writes each
   hit to `<prefix><group_id>.repartition`, keyed by the group values of the key class(es) it feeds
   (`scaleout.py`), then a progress marker to every partition of that topic.
2. *correlate* (group `<group_id>.correlate`) reads the repartition topic; each of its partitions has a
   `PartitionState` (a `Correlator` per key class) whose snapshot is kept in the compacted
   `<prefix><group_id>.changelog` topic (key = the partition number) and restored by whichever instance the
   partition moves to.

Every batch of one partition is one Kafka transaction (a transactional producer per task, its id derived
from the partition, as Kafka Streams' exactly-once "alpha"): the hits and markers, or the alerts and the new
state snapshot, *and* the consumer offsets are committed together, only once the broker has acknowledged
every record (idempotent, acks=all). A new owner of a partition starts its producer with the same
transactional id, which fences the old owner and aborts whatever it left open; it then reads the last
snapshot, consistent with the committed offset. Readers of the alert topic with isolation.level
read_committed see each alert document once; others may see those of an aborted transaction as well (the
same alert ids: deduplicate by id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    ProducerFenced,
    SaslAuthenticationFailed,
)
from aiokafka.structs import TopicPartition

from ucsiem import __version__
from ucsiem.config import read_secret
from ucsiem.correlate.detector import Detector
from ucsiem.correlate.fields import parse_time
from ucsiem.correlate.rules import load_rules
from ucsiem.correlate.scaleout import PartitionState, Router, encode_hit, encode_marker, key_classes
from ucsiem.correlate.scaleout_config import KafkaClientConfig, ScaleoutConfig
from ucsiem.errors import ConfigError, OutputError
from ucsiem.outputs.aiokafka_hooks import bootstrap_causes
from ucsiem.outputs.tls import tls_context
from ucsiem.schema.fast import dump_event, validate_event

log = logging.getLogger("ucsiem.correlate.scaleout")
TICK_SECS = 0.5  # how often stage 2 reads the event partitions' end offsets and lets time pass
TOPICS_REFRESH_SECS = 10.0  # how often the event topics are listed again (a pattern may match new ones)
RETRY_SECS = 1.0
STATS_SECS = 60.0  # counters in the log
HIT_MAX_BYTES = 1_048_576
TOPIC_ERRORS = {36: "already exists"}


def client_options(k: KafkaClientConfig, what: str) -> dict[str, Any]:
    """The connection settings every client of the service shares (TLS, SASL as the Kafka output's)."""
    sasl = k.sasl
    protocol = ("SASL_SSL" if k.tls else "SASL_PLAINTEXT") if sasl else ("SSL" if k.tls else "PLAINTEXT")
    context = None
    if k.tls is not None:
        try:
            context = tls_context(k.tls)
        except (OSError, ssl.SSLError) as exc:
            raise OutputError(f"{what}: cannot load the TLS files: {exc}", retriable=False) from None
    options: dict[str, Any] = {"bootstrap_servers": k.bootstrap_servers, "client_id": k.client_id,
                               "request_timeout_ms": round(k.request_timeout_secs * 1000),
                               "security_protocol": protocol, "ssl_context": context}
    if sasl is not None:
        try:
            password = read_secret(sasl.password, sasl.password_file)
        except OSError as exc:
            raise OutputError(f"{what}: kafka.sasl.password_file: {exc.strerror}", retriable=False) from None
        options.update(sasl_mechanism=sasl.mechanism, sasl_plain_username=sasl.username,
                       sasl_plain_password=password)
    return options


def _start_error(k: KafkaClientConfig, exc: BaseException, causes: list[BaseException]) -> OutputError:
    servers = ", ".join(k.bootstrap_servers)
    for cause in causes:
        if isinstance(cause, SaslAuthenticationFailed):
            who = f"user {k.sasl.username!r} with {k.sasl.mechanism}" if k.sasl else "SASL"
            return OutputError(f"correlate: Kafka at {servers} refused the credentials of {who}: {cause} "
                               "(check kafka.sasl)", retriable=False, auth=True)
        if isinstance(cause, ssl.SSLCertVerificationError):
            return OutputError(f"correlate: the TLS certificate of Kafka at {servers} is not trusted: "
                               f"{cause.verify_message} (check kafka.tls.ca_file / check_hostname)", retriable=False)
        if isinstance(cause, ssl.SSLError):
            return OutputError(f"correlate: TLS with Kafka at {servers} failed: {cause}", retriable=False)
    detail = f": {causes[-1]}" if causes else ""
    kind = "cannot connect to" if isinstance(exc, KafkaConnectionError) else "failed with"
    return OutputError(f"correlate: {kind} Kafka at {servers}{detail} ({exc}); check kafka.bootstrap_servers "
                       "and that the brokers are up", retriable=True)


async def _started(client: Any, k: KafkaClientConfig) -> None:
    with bootstrap_causes() as causes:
        try:
            await client.start()
        except KafkaError as exc:
            with contextlib.suppress(Exception):
                await (client.close() if isinstance(client, AIOKafkaAdminClient) else client.stop())
            raise _start_error(k, exc, causes) from None


@dataclass
class _DetectTask:
    tp: TopicPartition
    source: str
    tid: str
    producer: Any
    broken: bool = False  # the producer failed: start a new one (same transactional id) before the next batch
    newest: float | None = None
    marked: int | None = None  # offset of the last marker written (None: none yet by this owner)


@dataclass
class _CorrelateTask:
    tp: TopicPartition
    tid: str
    producer: Any
    state: PartitionState
    broken: bool = False  # the producer failed, or the state went ahead of the commit: renew both first
    position: int | None = None  # next offset to process (None: from the committed offset, by the consumer)
    alerts: int = 0
    restored_bytes: int = 0
    dropped: list[str] = field(default_factory=list)


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    """aiokafka logs and forgets a listener's exception: the partitions would stay assigned without their
    task (read, never processed). A failure stops the service instead, so a supervisor starts it again."""

    def __init__(self, revoked: Callable[[set[TopicPartition]], Awaitable[None]],
                 assigned: Callable[[set[TopicPartition]], Awaitable[None]],
                 failed: Callable[[BaseException], None]) -> None:
        self._revoked, self._assigned, self._failed = revoked, assigned, failed

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        try:
            await self._revoked(set(revoked))
        except Exception as exc:
            self._failed(exc)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        try:
            await self._assigned(set(assigned))
        except Exception as exc:
            self._failed(exc)


class ScaleoutService:
    def __init__(self, cfg: ScaleoutConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.cfg = cfg
        self.clock = clock
        self.ruleset = load_rules(cfg.correlation.rules)
        self.detector = Detector(self.ruleset, cfg.correlation)
        self.classes = key_classes(self.ruleset, cfg.correlation)
        self.router = Router(self.classes)
        self.repartition = cfg.repartition_topic()
        self.changelog = cfg.changelog_topic()
        self.group1, self.group2 = cfg.group_id, cfg.stage2_group()
        self._options = client_options(cfg.kafka, "correlate")
        self._compression = None if cfg.kafka.compression == "none" else cfg.kafka.compression
        self._headers = [("ucsiem.version", __version__.encode())]
        # as the Kafka output heads the agent's alerts, so that consumers treat both alike
        self._alert_headers = [("ucsiem.dataset", b"ucsiem.alert"), ("ucsiem.parser_version", __version__.encode())]
        self._stats_at = time.monotonic()
        self._tasks1: dict[TopicPartition, _DetectTask] = {}
        self._tasks2: dict[TopicPartition, _CorrelateTask] = {}
        self._lock1, self._lock2 = asyncio.Lock(), asyncio.Lock()
        self._partitions = cfg.internal.partitions
        self._ends: dict[str, int] | None = None
        self._input_tps: list[TopicPartition] = []
        self._topics_at = -1e9
        self._fatal: BaseException | None = None
        self._stop = asyncio.Event()
        self.counters = {"events": 0, "unreadable": 0, "hits": 0, "hit_records": 0, "alerts": 0,
                         "alert_errors": 0, "transactions": 0, "aborted": 0, "restored": 0}
        self._consumer1: Any = None
        self._consumer2: Any = None
        self._meta: Any = None
        self._admin: Any = None
        self._restorer: Any = None

    # ------------------------------------------------------------------ lifecycle

    async def run(self, stop: asyncio.Event) -> dict[str, Any]:
        if problems := self.cfg.kafka.security_warnings():
            log.warning("The correlation service's traffic is not private.", extra={"problems": problems})
        await self._ensure_topics()
        base = {**self._options, "enable_auto_commit": False, "isolation_level": "read_committed",
                "session_timeout_ms": round(self.cfg.session_timeout_secs * 1000),
                "heartbeat_interval_ms": max(300, round(self.cfg.session_timeout_secs * 1000) // 4),
                "max_poll_interval_ms": max(60_000, round(self.cfg.transaction_timeout_secs * 1000))}
        self._meta = AIOKafkaConsumer(**self._options, group_id=None, enable_auto_commit=False)
        self._restorer = AIOKafkaConsumer(**self._options, group_id=None, enable_auto_commit=False,
                                          isolation_level="read_committed", auto_offset_reset="earliest",
                                          max_partition_fetch_bytes=self.cfg.internal.changelog_max_bytes + 65_536,
                                          fetch_max_bytes=self.cfg.internal.changelog_max_bytes * 2)
        # a pattern's new topics are found at each metadata refresh; stage 2 holds time for them until then
        self._consumer1 = AIOKafkaConsumer(**base, group_id=self.group1, auto_offset_reset=self.cfg.input.start_at,
                                           metadata_max_age_ms=int(TOPICS_REFRESH_SECS * 1000))
        self._consumer2 = AIOKafkaConsumer(**base, group_id=self.group2, auto_offset_reset="earliest",
                                           max_partition_fetch_bytes=HIT_MAX_BYTES * 4)
        clients = [self._meta, self._restorer, self._consumer1, self._consumer2]
        self._admin = AIOKafkaAdminClient(**self._options)
        try:
            await _started(self._admin, self.cfg.kafka)
            for client in clients:
                await _started(client, self.cfg.kafka)
            regex = self.cfg.input.regex()
            self._stop = stop
            listener1 = _Listener(self._revoke1, self._assign1, self._failed)
            if regex is None:
                self._consumer1.subscribe(topics=list(self.cfg.input.topics or ()), listener=listener1)
            else:
                self._consumer1.subscribe(pattern=regex.pattern, listener=listener1)
            self._consumer2.subscribe(topics=[self.repartition],
                                      listener=_Listener(self._revoke2, self._assign2, self._failed))
            log.info("Correlation service started.", extra={
                "group_id": self.group1, "repartition": self.repartition, "changelog": self.changelog,
                "alerts": self.cfg.alerts.topic, "classes": [c.id for c in self.classes]})
            loops = [asyncio.ensure_future(self._stage1(stop)), asyncio.ensure_future(self._stage2(stop))]
            done, _ = await asyncio.wait(loops, return_when=asyncio.FIRST_EXCEPTION)
            stop.set()
            await asyncio.gather(*loops, return_exceptions=True)
            for task in done:
                if task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            if self._fatal is not None:
                fatal = self._fatal
                if isinstance(fatal, OutputError | ConfigError):
                    raise fatal
                raise OutputError(f"correlate: taking over partitions failed: {type(fatal).__name__}: {fatal}; "
                                  "the service stops so that it starts again clean", retriable=True) from fatal
        finally:
            stop.set()
            await self._shutdown(clients)
        return self.summary()

    def _failed(self, exc: BaseException) -> None:
        log.error("A rebalance step failed; the service stops.", extra={"error": f"{type(exc).__name__}: {exc}"})
        if self._fatal is None:
            self._fatal = exc
        self._stop.set()

    async def _shutdown(self, clients: list[Any]) -> None:
        # consumers first, without the locks: leaving the group may run the listeners, which take them
        for client in clients:
            with contextlib.suppress(Exception):
                await client.stop()
        with contextlib.suppress(Exception):
            await self._admin.close()
        async with self._lock1, self._lock2:
            for task in self._tasks2.values():
                self._retire(task)
            for producer in [t.producer for t in self._tasks1.values()] + [t.producer for t in self._tasks2.values()]:
                await self._close_producer(producer)
            self._tasks1.clear()
            self._tasks2.clear()

    def summary(self) -> dict[str, Any]:
        return {**self.counters, "detect_partitions": len(self._tasks1), "correlate_partitions": len(self._tasks2)}

    async def _ensure_topics(self) -> None:
        admin = AIOKafkaAdminClient(**self._options)
        await _started(admin, self.cfg.kafka)
        internal = self.cfg.internal
        try:
            topics = [
                NewTopic(self.repartition, internal.partitions, internal.replication_factor,
                         topic_configs={"cleanup.policy": "delete", "max.message.bytes": str(HIT_MAX_BYTES)}),
                NewTopic(self.changelog, internal.partitions, internal.replication_factor,
                         topic_configs={"cleanup.policy": "compact",
                                        "max.message.bytes": str(internal.changelog_max_bytes),
                                        "segment.ms": "600000", "min.cleanable.dirty.ratio": "0.1"}),
            ]
            response = await admin.create_topics(topics)
            for topic, code, *rest in response.topic_errors:
                if code not in (0, 36):
                    message = rest[0] if rest and rest[0] else f"error code {code}"
                    raise OutputError(f"correlate: cannot create the internal topic {topic!r}: {message} (create it "
                                      f"with {internal.partitions} partitions, or fix the broker ACLs)",
                                      retriable=False)
            described = await admin.describe_topics([self.repartition, self.changelog])
        except KafkaError as exc:
            raise OutputError(f"correlate: cannot create the internal topics: {exc}", retriable=True) from None
        finally:
            await admin.close()
        counts = {t["topic"]: len(t["partitions"]) for t in described if not t.get("error_code")}
        wrong = {t: n for t, n in counts.items() if n != internal.partitions}
        if wrong:
            raise ConfigError("internal.partitions", [
                f"internal.partitions: is {internal.partitions}, but the topic {t!r} has {n} partitions; the state "
                f"is keyed by partition, so both internal topics must keep theirs: set internal.partitions: {n}"
                for t, n in sorted(wrong.items())])

    # ------------------------------------------------------------------ producers and transactions

    async def _producer(self, transactional_id: str, max_bytes: int) -> Any:
        producer = AIOKafkaProducer(
            **self._options, transactional_id=transactional_id, enable_idempotence=True, acks="all",
            compression_type=self._compression, linger_ms=0, max_request_size=max_bytes + 65_536,
            max_batch_size=max(1_048_576, max_bytes + 65_536),
            transaction_timeout_ms=round(self.cfg.transaction_timeout_secs * 1000))
        await _started(producer, self.cfg.kafka)  # InitProducerId: fences the previous owner, aborts its transaction
        return producer

    async def _close_producer(self, producer: Any) -> None:
        try:
            await asyncio.wait_for(producer.stop(), 5.0)
        except Exception as exc:  # a stuck close must not hold a rebalance: the transaction times out anyway
            log.warning("A producer did not close cleanly.", extra={"error": f"{type(exc).__name__}: {exc}"})

    async def _transact(self, producer: Any, messages: list[tuple[str, bytes, bytes | None, int | None]],
                        offsets: dict[TopicPartition, int] | None, group: str) -> None:
        """One transaction: every message acknowledged, the offsets committed with them, or nothing."""
        await producer.begin_transaction()
        try:
            futures = [await producer.send(topic, value, key=key, partition=partition,
                                           headers=self._alert_headers if topic == self.cfg.alerts.topic
                                           else self._headers)
                       for topic, value, key, partition in messages]
            await asyncio.gather(*futures)
            if offsets:
                await producer.send_offsets_to_transaction(offsets, group)
            await producer.commit_transaction()
        except BaseException:
            self.counters["aborted"] += 1
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.abort_transaction(), 10.0)
            raise
        self.counters["transactions"] += 1

    # ------------------------------------------------------------------ stage 1: detect and repartition

    async def _assign1(self, assigned: set[TopicPartition]) -> None:
        async with self._lock1:
            for tp in sorted(assigned):
                if tp not in self._tasks1:
                    tid = f"{self.cfg.internal.prefix}{self.group1}.detect.{tp.topic}.{tp.partition}"
                    self._tasks1[tp] = _DetectTask(tp, f"{tp.topic}:{tp.partition}", tid,
                                                   await self._producer(tid, HIT_MAX_BYTES))
            log.info("Event partitions assigned.", extra={"partitions": [f"{t.topic}:{t.partition}"
                                                                          for t in sorted(assigned)]})

    async def _revoke1(self, revoked: set[TopicPartition]) -> None:
        async with self._lock1:
            for tp in revoked:
                task = self._tasks1.pop(tp, None)
                if task is not None:
                    await self._close_producer(task.producer)

    async def _stage1(self, stop: asyncio.Event) -> None:
        consumer = self._consumer1
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            async with self._lock1:
                # aiokafka drops what it fetched for an assignment that has changed since: what comes is
                # read from the committed offset of the partition's current owner (checked: _fresh)
                work = [self._detect(task, fresh) for tp, records in batches.items()
                        if (task := self._tasks1.get(tp)) is not None and (fresh := self._fresh(records, task.marked))]
                for tp, task in self._tasks1.items():
                    if task.marked is None and tp not in batches:  # say where a new owner starts
                        work.append(self._mark(task, await consumer.position(tp)))
                if work:
                    await asyncio.gather(*work)

    @staticmethod
    def _fresh(records: list[Any], position: int | None) -> list[Any]:
        """Records not processed yet: a task never takes a record before the offset it has committed (offsets
        of a transactional topic have gaps, the commit markers, so only the order is checked)."""
        if position is None or not records or records[0].offset >= position:
            return records
        return [r for r in records if r.offset >= position]

    async def _mark(self, task: _DetectTask, position: int) -> None:
        await self._commit1(task, [], position)

    async def _detect(self, task: _DetectTask, records: list[Any]) -> None:
        if task.broken:
            if await self._renew(task, HIT_MAX_BYTES):
                task.broken = False
            await self._consumer1.seek_to_committed(task.tp)
            return  # read again from the committed offset
        messages: list[tuple[str, bytes, bytes | None, int | None]] = []
        for record in records:
            try:
                event = orjson.loads(record.value)
            except (orjson.JSONDecodeError, TypeError):
                event = None
            if not isinstance(event, dict):
                self.counters["unreadable"] += 1
                continue
            self.counters["events"] += 1
            ts = parse_time(event.get("@timestamp"))
            if ts is not None and (task.newest is None or ts > task.newest):
                task.newest = ts
            kind = event.get("event")
            if isinstance(kind, dict) and kind.get("kind") == "alert":
                continue  # an alert read back (a pattern matching the alert topic): never correlated again
            for hit in self.detector.detect(event):
                self.counters["hits"] += 1
                for cid, key in self.router.route(hit):
                    value = encode_hit(cid, task.source, hit)
                    if len(value) > HIT_MAX_BYTES:
                        log.error("A hit is too large to repartition; it is dropped.",
                                  extra={"source": task.source, "offset": record.offset, "bytes": len(value)})
                        continue
                    messages.append((self.repartition, value, key, None))
        await self._commit1(task, messages, records[-1].offset + 1)

    async def _commit1(self, task: _DetectTask, messages: list[tuple[str, bytes, bytes | None, int | None]],
                       position: int) -> None:
        marker = encode_marker(task.source, task.newest, position)
        messages += [(self.repartition, marker, b"", p) for p in range(self._partitions)]
        try:
            await self._transact(task.producer, messages, {task.tp: position}, self.group1)
        except ProducerFenced:
            log.warning("Another instance took this event partition over.", extra={"source": task.source})
            self._tasks1.pop(task.tp, None)
            return
        except KafkaError as exc:
            task.broken = True
            await self._retry_later("detect", task.source, exc, self._consumer1, task.tp)
            return
        self.counters["hit_records"] += len(messages) - self._partitions
        task.marked = position

    async def _retry_later(self, stage: str, where: str, exc: BaseException, consumer: Any,
                           tp: TopicPartition) -> None:
        """Nothing of the batch was committed: read it again from the committed offset, after a pause."""
        log.warning("A transaction failed; the batch is read again.",
                    extra={"stage": stage, "partition": where, "error": f"{type(exc).__name__}: {exc}"})
        with contextlib.suppress(Exception):
            await consumer.seek_to_committed(tp)
        await asyncio.sleep(RETRY_SECS)

    async def _renew(self, task: _DetectTask | _CorrelateTask, max_bytes: int) -> bool:
        """A new producer with the task's transactional id (a failed one may never write again)."""
        await self._close_producer(task.producer)
        try:
            task.producer = await self._producer(task.tid, max_bytes)
        except OutputError as exc:
            log.warning("Kafka is not reachable; trying again.", extra={"error": str(exc)})
            await asyncio.sleep(RETRY_SECS)
            return False
        return True

    # ------------------------------------------------------------------ stage 2: correlate

    def _new_state(self) -> PartitionState:
        return PartitionState(self.ruleset, self.classes, self.cfg.correlation,
                              idle_timeout_secs=self.cfg.idle_timeout_secs,
                              max_pending=self.cfg.max_pending_hits, clock=self.clock)

    async def _assign2(self, assigned: set[TopicPartition]) -> None:
        async with self._lock2:
            for tp in sorted(assigned):
                if tp in self._tasks2:
                    continue
                tid = f"{self.cfg.internal.prefix}{self.group2}.{tp.partition}"
                producer = await self._producer(tid, self.cfg.internal.changelog_max_bytes)
                task = _CorrelateTask(tp, tid, producer, self._new_state())
                await self._restore(task)
                self._tasks2[tp] = task
            log.info("Correlation partitions assigned.", extra={"partitions": sorted(t.partition for t in assigned)})

    async def _revoke2(self, revoked: set[TopicPartition]) -> None:
        async with self._lock2:
            for tp in revoked:
                task = self._tasks2.pop(tp, None)
                if task is not None:
                    self._retire(task)
                    await self._close_producer(task.producer)

    def _retire(self, task: _CorrelateTask) -> None:
        """Keep a partition's counters when it leaves (the summary and the logs say what happened)."""
        stats = task.state.stats()
        log.info("Correlation partition released.", extra={"partition": task.tp.partition, **stats})
        for key in ("late", "duplicates", "forced"):
            self.counters[f"state_{key}"] = self.counters.get(f"state_{key}", 0) + int(stats.get(key, 0))

    async def _restore(self, task: _CorrelateTask) -> None:
        """The partition's last snapshot: the changelog read backwards from its end in growing steps."""
        ctp = TopicPartition(self.changelog, task.tp.partition)
        restorer = self._restorer
        restorer.assign([ctp])
        end = (await restorer.end_offsets([ctp]))[ctp]
        begin = (await restorer.beginning_offsets([ctp]))[ctp]
        wanted = str(task.tp.partition).encode()
        step, value = 8, None
        upper = end
        while value is None and upper > begin:
            start = max(begin, upper - step)
            restorer.seek(ctp, start)
            while await restorer.position(ctp) < upper:
                for records in (await restorer.getmany(ctp, timeout_ms=1000)).values():
                    for record in records:
                        if record.offset < upper and record.key == wanted:
                            value = record.value
            upper, step = start, step * 8
        if value is None:
            return
        try:
            task.dropped = task.state.restore(value)
        except (ValueError, KeyError, TypeError) as exc:
            raise OutputError(f"correlate: the state of partition {task.tp.partition} in {self.changelog} cannot be "
                              f"read ({type(exc).__name__}: {exc}); it was written by another version of ucsiem? "
                              f"Use a new group_id to start from empty state", retriable=False) from None
        task.restored_bytes = len(value)
        self.counters["restored"] += 1
        log.info("Correlation state restored.", extra={"partition": task.tp.partition, "bytes": len(value),
                                                       "dropped_classes": task.dropped})

    async def _refresh_ends(self) -> None:
        """The end offset of every event partition: a source read to its end may stop holding time back."""
        now = time.monotonic()
        if now - self._topics_at >= TOPICS_REFRESH_SECS:
            # every topic's metadata (naming topics could make a broker auto-create them)
            described = await self._admin.describe_topics(None)
            regex, listed = self.cfg.input.regex(), set(self.cfg.input.topics or ())
            self._input_tps = sorted(
                TopicPartition(t["topic"], p["partition"]) for t in described if not t.get("error_code")
                and (regex.search(t["topic"]) if regex is not None else t["topic"] in listed)
                for p in t["partitions"])
            self._topics_at = now
        if not self._input_tps:
            self._ends = {}
            return
        ends = await self._meta.end_offsets(self._input_tps)
        self._ends = {f"{tp.topic}:{tp.partition}": offset for tp, offset in ends.items()}

    async def _stage2(self, stop: asyncio.Event) -> None:
        consumer = self._consumer2
        ticked = 0.0
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=100, max_records=20_000)
            tick = time.monotonic() - ticked >= TICK_SECS
            if tick:
                ticked = time.monotonic()
                try:
                    await self._refresh_ends()
                except KafkaError as exc:
                    log.warning("Cannot read the event partitions' end offsets.", extra={"error": str(exc)})
            if time.monotonic() - self._stats_at >= STATS_SECS:
                self._stats_at = time.monotonic()
                log.info("Correlation service counters.", extra={
                    **self.summary(), "pending_hits": sum(t.state.pending for t in self._tasks2.values())})
            async with self._lock2:
                work = []
                for tp, task in list(self._tasks2.items()):
                    records = self._fresh(batches.get(tp, []), task.position)
                    if records:
                        work.append(self._correlate(task, records))
                    elif tick:
                        work.append(self._correlate(task, []))
                if work:
                    await asyncio.gather(*work)

    async def _correlate(self, task: _CorrelateTask, records: list[Any]) -> None:
        if task.broken:
            if not await self._renew(task, self.cfg.internal.changelog_max_bytes):
                await self._consumer2.seek_to_committed(task.tp)
                return
            try:
                task.state = self._new_state()
                await self._restore(task)
            except KafkaError as exc:
                await self._retry_later("correlate", str(task.tp.partition), exc, self._consumer2, task.tp)
                return
            task.broken = False
            await self._consumer2.seek_to_committed(task.tp)
            return  # the records came before the seek: they are read again
        for record in records:
            task.state.add(record.value)
        alerts = task.state.release(self._ends)
        if not records and not alerts:
            return  # time passed and raised nothing: the last snapshot still holds (it replays the same)
        messages: list[tuple[str, bytes, bytes | None, int | None]] = []
        for alert in alerts:
            try:
                doc = dump_event(validate_event(alert))
            except Exception as exc:  # an engine bug: said loudly and counted, never shipped half-made
                self.counters["alert_errors"] += 1
                log.error("An alert does not fit the event schema and is not sent.",
                          extra={"rule": (alert.get("rule") or {}).get("id"), "error": f"{type(exc).__name__}: {exc}"})
                continue
            messages.append((self.cfg.alerts.topic, doc, str(alert["event"]["id"]).encode(), None))
        snapshot = task.state.snapshot()
        if len(snapshot) > self.cfg.internal.changelog_max_bytes:
            raise OutputError(
                f"correlate: the state of partition {task.tp.partition} is {len(snapshot)} bytes, more than "
                f"internal.changelog_max_bytes ({self.cfg.internal.changelog_max_bytes}): raise it (and the "
                f"changelog topic's max.message.bytes), lower correlation.max_seen_ids / max_groups_per_rule, or "
                f"use more internal.partitions with a new group_id", retriable=False)
        messages.append((self.changelog, snapshot, str(task.tp.partition).encode(), task.tp.partition))
        offsets = {task.tp: records[-1].offset + 1} if records else None
        try:
            await self._transact(task.producer, messages, offsets, self.group2)
        except ProducerFenced:
            log.warning("Another instance took this correlation partition over.",
                        extra={"partition": task.tp.partition})
            self._tasks2.pop(task.tp, None)
            return
        except KafkaError as exc:  # the state went ahead of what is committed: take it back from the changelog
            task.broken = True
            await self._retry_later("correlate", str(task.tp.partition), exc, self._consumer2, task.tp)
            return
        task.position = offsets[task.tp] if offsets else task.position
        task.alerts += len(messages) - 1
        self.counters["alerts"] += len(messages) - 1


async def serve(cfg: ScaleoutConfig, stop: asyncio.Event) -> dict[str, Any]:
    return await ScaleoutService(cfg).run(stop)
