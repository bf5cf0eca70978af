"""Kafka output (aiokafka): acks=all and the idempotent producer by default; TLS and SASL.

A batch counts as delivered only when every message's delivery report is in. Messages whose report
is an error are handed back for a retry (the broker was down, a leader moved, a timeout); a message
the broker can never take (too large) is rejected and becomes a dead letter. Each message carries
the headers `ucsiem.dataset` and `ucsiem.parser_version`; the topic comes from a template.

The template may only name fields the agent or the parser sets (checked at config load); a rendered
name Kafka would refuse, or one of Kafka's internal `__` topics, is replaced by `fallback_topic`.

Correlation alerts (`event.kind: alert`, `event.dataset: ucsiem.alert`) go where the template sends
them: `ucsiem.ucsiem.alert` with the default `ucsiem.{event.dataset}`. An alert is sent again with the
same event.id as its count grows, so alerts are keyed by `alert_key_field` (default `event.id`): every
version of one alert lands in one partition, in order, and a compacted topic keeps the newest.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Sequence
from typing import Any, NamedTuple

import orjson
from aiokafka import AIOKafkaClient, AIOKafkaProducer
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    LeaderNotAvailableError,
    MessageSizeTooLargeError,
    NodeNotReadyError,
    NotLeaderForPartitionError,
    OutOfOrderSequenceNumber,
    RequestTimedOutError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
)
from aiokafka.partitioner import DefaultPartitioner

from ucsiem import __version__
from ucsiem.config_common import read_secret
from ucsiem.errors import OutputError
from ucsiem.outputs import aiokafka_hooks
from ucsiem.outputs.aiokafka_hooks import abandon_pending, bootstrap_causes
from ucsiem.outputs.base import SERVER_SEND_EVENTS, OutputDefaults, Rejected, SendResult
from ucsiem.outputs.registry import KafkaOutputConfig
from ucsiem.outputs.routing import (
    RoutingView,
    Template,
    field_value,
    is_alert,
    kafka_topic_safe,
    topic_problem,
)
from ucsiem.outputs.tls import tls_context

log = logging.getLogger("ucsiem.output.kafka")
HEADER_OVERHEAD = 128  # record framing, timestamp and our two headers, roughly
DATASET_FIELD = "event.dataset"
MAX_TOPIC_CACHE = 1024  # rendered names remembered with their checked topic (the allow-listed fields vary little)
PROBE_TIMEOUT_SECS = 5.0
# what a message's report (or send) says when no broker could be reached in time: the sender may probe
UNREACHABLE = (KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError, LeaderNotAvailableError,
               NotLeaderForPartitionError, RequestTimedOutError)


class Message(NamedTuple):
    position: int  # in the documents of the send
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


class _Failures:
    """What went wrong with the messages of one send: those to try again, and why."""

    def __init__(self, result: SendResult) -> None:
        self.result = result
        self.unreachable = False  # a failure said no broker could be reached: the sender probes
        self.broken = False  # a failure broke the idempotent sequence: the producer is replaced

    def retry(self, messages: list[Message], error: BaseException | None) -> None:
        self.result.retry += [m.position for m in messages]
        if error is None:
            return
        self.result.retry_reason = f"{type(error).__name__}: {error}"
        if isinstance(error, TopicAuthorizationFailedError):
            self.result.retry_reason = f"not authorized to write the topic ({error}); fix the broker ACLs"
        self.broken = self.broken or isinstance(error, OutOfOrderSequenceNumber)
        self.unreachable = self.unreachable or isinstance(error, UNREACHABLE)


def _append(batch: Any, message: Message) -> bool:
    """Into an aiokafka BatchBuilder; False when the batch is full."""
    return batch.append(timestamp=None, key=message.key, value=message.value, headers=message.headers) is not None


class KafkaOutput(OutputDefaults):
    send_max_events = SERVER_SEND_EVENTS

    def __init__(self, cfg: KafkaOutputConfig, parser_versions: dict[str, str]) -> None:
        self.cfg = cfg
        self.name = cfg.output_name()
        self._topic = Template(cfg.topic)
        self._versions = {k: v.encode() for k, v in parser_versions.items()}
        self._producer: AIOKafkaProducer | None = None
        self.max_document_bytes: int | None = cfg.max_message_bytes
        self.stall_secs: float | None = cfg.request_timeout_secs
        self._topics: dict[tuple[str | None, ...], str] = {}  # by the template's values
        # where the template reads the dataset (the default's one hole), the header takes it from there
        self._dataset_hole = self._topic.fields.index(DATASET_FIELD) if DATASET_FIELD in self._topic.fields else None
        self._headers: dict[str, list[tuple[str, bytes]]] = {}  # per event.dataset
        # what `_message` reads of a document: the template's fields, the dataset, what makes an alert, the keys
        self._view = RoutingView([*self._topic.fields, DATASET_FIELD, "event.kind",
                                  *(p for p in (cfg.key_field, cfg.alert_key_field) if p)])
        self._partitioner = DefaultPartitioner()  # what producer.send uses: a key keeps its partition
        self._warned = False
        self.unreachable = False  # the last failure was "cannot connect": the sender probes while it waits

    def _ssl_context(self) -> ssl.SSLContext | None:
        tls = self.cfg.tls
        if tls is None:
            return None
        try:
            return tls_context(tls)
        except (OSError, ssl.SSLError) as exc:
            raise OutputError(f"{self.name}: cannot load the TLS files: {exc}", retriable=False) from None

    def _client_options(self) -> dict[str, Any]:
        """What the producer and the probe's client share: where the brokers are and how to talk to them."""
        cfg = self.cfg
        sasl = cfg.sasl
        protocol = ("SASL_SSL" if cfg.tls else "SASL_PLAINTEXT") if sasl else ("SSL" if cfg.tls else "PLAINTEXT")
        options: dict[str, Any] = {
            "bootstrap_servers": cfg.bootstrap_servers, "client_id": cfg.client_id,
            "request_timeout_ms": round(cfg.request_timeout_secs * 1000), "security_protocol": protocol,
            "ssl_context": self._ssl_context(),
        }
        if sasl is not None:
            try:
                password = read_secret(sasl.password, sasl.password_file)
            except OSError as exc:
                raise OutputError(f"{self.name}: sasl.password_file: {exc.strerror}", retriable=False) from None
            options.update(sasl_mechanism=sasl.mechanism, sasl_plain_username=sasl.username,
                           sasl_plain_password=password)
        return options

    def _producer_options(self) -> dict[str, Any]:
        cfg = self.cfg
        return {**self._client_options(), "acks": cfg.acks, "enable_idempotence": cfg.idempotent,
                "linger_ms": round(cfg.linger_secs * 1000), "max_batch_size": cfg.max_batch_bytes,
                "max_request_size": cfg.max_message_bytes + HEADER_OVERHEAD,
                "compression_type": None if cfg.compression == "none" else cfg.compression}

    async def start(self) -> None:
        if not self._warned:  # once per run, at the first start: loud, but not at every new producer
            self._warned = True
            if problems := self.cfg.security_warnings():
                log.warning("Output is not private: its traffic can be read or redirected on the network.",
                            extra={"output": self.name, "problems": problems,
                                   "allow_insecure": self.cfg.allow_insecure})
        producer = AIOKafkaProducer(**self._producer_options())
        aiokafka_hooks.pace_reconnects(producer.client)
        with bootstrap_causes() as causes:
            try:
                await producer.start()
            except KafkaError as exc:
                await producer.stop()
                error = self._start_error(exc, causes)
                self.unreachable = isinstance(exc, KafkaConnectionError) and not error.auth
                raise error from None
        self._producer = producer
        self.unreachable = False
        log.info("Connected to Kafka.", extra={"output": self.name, "bootstrap_servers": self.cfg.bootstrap_servers})

    @property
    def client(self) -> AIOKafkaClient | None:
        """The connected producer's client (cluster metadata, requests of `ucsiem test output`), if started."""
        return self._producer.client if self._producer is not None else None

    def _start_error(self, exc: KafkaError, causes: list[BaseException]) -> OutputError:
        """aiokafka reports only 'Unable to bootstrap'; the reason (bad password, untrusted CA) is logged.

        We pick it up so the operator reads one clear message."""
        servers = ", ".join(self.cfg.bootstrap_servers)
        for cause in causes:
            if isinstance(cause, SaslAuthenticationFailed):
                sasl = self.cfg.sasl
                who = f"user {sasl.username!r} with {sasl.mechanism}" if sasl else "SASL"
                return OutputError(f"{self.name}: Kafka at {servers} refused the credentials of {who}: {cause}",
                                   retriable=True, auth=True)
            if isinstance(cause, ssl.SSLCertVerificationError):
                return OutputError(f"{self.name}: the TLS certificate of Kafka at {servers} is not trusted: "
                                   f"{cause.verify_message} (check tls.ca_file / tls.check_hostname)", retriable=True)
            if isinstance(cause, ssl.SSLError):
                return OutputError(f"{self.name}: TLS with Kafka at {servers} failed: {cause}", retriable=True)
        detail = f": {causes[-1]}" if causes else ""
        kind = "cannot connect to" if isinstance(exc, KafkaConnectionError) else "failed with"
        return OutputError(f"{self.name}: {kind} Kafka at {servers}{detail} ({exc})", retriable=True)

    async def send(self, docs: Sequence[bytes]) -> SendResult:
        """Each topic's documents in record batches of our own (one partition for the unkeyed ones of this
        call, the key's partition for the others), not one `send` per message: aiokafka's per-message
        path cost ~12 µs a message, its batch API ~2 µs."""
        if self._producer is None:
            await self.start()  # a new producer after a broken sequence (raises OutputError if it cannot)
        producer = self._producer
        if producer is None:
            raise OutputError(f"{self.name}: not connected", retriable=True)
        result = SendResult()
        by_topic: dict[str, list[Message]] = {}
        for i, doc in enumerate(docs):
            message = self._message(i, doc, result)
            if message is not None:
                by_topic.setdefault(message.topic, []).append(message)
        queued: list[tuple[list[Message], asyncio.Future[Any]]] = []
        failed = _Failures(result)
        for topic, messages in by_topic.items():
            await self._queue(producer, topic, messages, queued, failed)
        reports = await asyncio.gather(*(f for _, f in queued), return_exceptions=True)
        too_large: list[Message] = []
        for (members, _), report in zip(queued, reports, strict=True):
            if isinstance(report, asyncio.CancelledError):
                raise report
            if isinstance(report, MessageSizeTooLargeError):
                too_large += members  # the broker refused the batch: find the message it cannot take
            elif isinstance(report, BaseException):
                failed.retry(members, report)
        if too_large:
            await self._send_each(producer, too_large, failed)
        self.unreachable = failed.unreachable
        if failed.broken:  # a batch failed after its sequence number was taken: this producer can never write again
            log.warning("Kafka producer sequence broken; starting a new producer.", extra={"output": self.name})
            await self.close()
        return result

    def _message(self, i: int, doc: bytes, result: SendResult) -> Message | None:
        """Document `i` ready to append (topic, key, headers), or None when it is rejected as too large."""
        try:
            event = self._view.read(doc)
        except orjson.JSONDecodeError:
            event = {}
        if not isinstance(event, dict):  # JSON but no object (3, "text"): no field to route by, as for {}
            event = {}
        key = self.key_for(event)
        key_bytes = key.encode() if key is not None else None
        if len(doc) + len(key_bytes or b"") > self.cfg.max_message_bytes:
            result.rejected.append(Rejected(i, "oversize", f"event of {len(doc)} bytes is larger than "
                                            f"max_message_bytes ({self.cfg.max_message_bytes})"))
            return None
        values = self._topic.values(event)
        topic = self._topic_of(values)
        hole = self._dataset_hole
        dataset = (values[hole] if hole is not None else field_value(event, DATASET_FIELD)) or ""
        headers = self._headers.get(dataset)
        if headers is None:
            if len(self._headers) >= MAX_TOPIC_CACHE:
                self._headers.clear()
            headers = self._headers[dataset] = [
                ("ucsiem.dataset", dataset.encode()),
                ("ucsiem.parser_version", self._versions.get(dataset, __version__.encode()))]
        return Message(i, topic, key_bytes, doc, headers)

    async def _queue(self, producer: AIOKafkaProducer, topic: str, messages: list[Message],
                     queued: list[tuple[list[Message], asyncio.Future[Any]]], failed: _Failures) -> None:
        """One topic's messages into record batches by partition, each handed to the producer."""
        try:
            all_partitions = sorted(await producer.partitions_for(topic))
        except KafkaError as exc:  # no metadata for the topic in time: try again later
            failed.retry(messages, exc)
            return
        available = sorted(producer.client.cluster.available_partitions_for_topic(topic) or ())
        unkeyed = self._partitioner(None, all_partitions, available)  # sticky for this call, as librdkafka's
        by_partition: dict[int, list[Message]] = {}
        for message in messages:
            partition = unkeyed if message.key is None else self._partitioner(message.key, all_partitions, available)
            by_partition.setdefault(partition, []).append(message)
        for partition, members in by_partition.items():
            batch, inside = producer.create_batch(), list[Message]()
            for n, message in enumerate(members):
                if not _append(batch, message):  # full: hand it over, go on in a new one
                    if not await self._hand_over(producer, batch, topic, partition, inside, queued, failed):
                        failed.retry(members[n:], None)
                        inside = []
                        break
                    batch, inside = producer.create_batch(), []
                    _append(batch, message)  # an empty batch takes any first message, however large
                inside.append(message)
            if inside:
                await self._hand_over(producer, batch, topic, partition, inside, queued, failed)

    @staticmethod
    async def _hand_over(producer: AIOKafkaProducer, batch: Any, topic: str, partition: int, inside: list[Message],
                         queued: list[tuple[list[Message], asyncio.Future[Any]]], failed: _Failures) -> bool:
        try:
            queued.append((inside, await producer.send_batch(batch, topic, partition=partition)))
            return True
        except KafkaError as exc:  # the producer's queue stayed full, it was closed: try again later
            failed.retry(inside, exc)
            return False

    @staticmethod
    async def _send_each(producer: AIOKafkaProducer, messages: list[Message], failed: _Failures) -> None:
        """What the broker refused as too large, one message at a time, each alone in its record batch (the
        producer would batch them together again): the ones it still refuses are rejected, the rest go."""
        for message in messages:
            try:
                await (await producer.send(message.topic, value=message.value, key=message.key,
                                           headers=message.headers))
            except MessageSizeTooLargeError as exc:
                failed.result.rejected.append(Rejected(message.position, "oversize", f"broker refused the size: {exc}"))
            except KafkaError as exc:
                failed.retry([message], exc)

    def key_for(self, event: Any) -> str | None:
        """The message key: alert_key_field for alerts (when set), else key_field; None: no key."""
        if not isinstance(event, dict):
            return None
        path = self.cfg.alert_key_field if self.cfg.alert_key_field and is_alert(event) else self.cfg.key_field
        return field_value(event, path) if path else None

    def topic_for(self, event: dict[str, Any]) -> str:
        """The rendered topic, or fallback_topic when that is no legal topic of ours (warned once per name)."""
        return self._topic_of(self._topic.values(event))

    def _topic_of(self, values: tuple[str | None, ...]) -> str:
        """`topic_for` from the template's values, remembered by them (one dict lookup for most events)."""
        topic = self._topics.get(values)
        if topic is None:
            rendered = self._topic.join(values)
            topic = kafka_topic_safe(rendered)
            problem = topic_problem(topic)
            if problem is not None:
                log.warning("An event's topic is not a legal topic name; it goes to fallback_topic.",
                            extra={"output": self.name, "topic": topic[:100], "problem": problem,
                                   "fallback_topic": self.cfg.fallback_topic})
                topic = self.cfg.fallback_topic
            if len(self._topics) >= MAX_TOPIC_CACHE:
                self._topics.clear()
            self._topics[values] = topic
        return topic

    async def probe(self) -> bool:
        """Cheap and quick: do the brokers answer a metadata request again? (bootstrap of a throwaway client)"""
        try:
            options = self._client_options()
        except OutputError:
            return False
        client = AIOKafkaClient(**{**options, "request_timeout_ms": int(PROBE_TIMEOUT_SECS * 1000)})
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECS):
                await client.bootstrap()
            return True
        except (KafkaError, OSError, TimeoutError):
            return False
        finally:
            await client.close()

    def sync(self) -> None:
        return None  # delivery reports already mean durable (acks=all)

    async def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is None:
            return
        try:  # deliver what the broker still takes; aiokafka's stop() alone waits for ever (idempotent)
            await asyncio.wait_for(asyncio.shield(producer.flush()), 2.0)
        except TimeoutError:
            log.warning("Kafka did not acknowledge every message at close; they will be read again.",
                        extra={"output": self.name})
            await abandon_pending(producer)  # stop retrying, so that stop() does not wait for them
        await producer.stop()
