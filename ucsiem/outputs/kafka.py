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
from typing import Any

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

from ucsiem import __version__
from ucsiem.config_common import read_secret
from ucsiem.errors import OutputError
from ucsiem.outputs import aiokafka_hooks
from ucsiem.outputs.aiokafka_hooks import abandon_pending, bootstrap_causes
from ucsiem.outputs.base import OutputDefaults, Rejected, SendResult
from ucsiem.outputs.registry import KafkaOutputConfig
from ucsiem.outputs.routing import Template, field_value, is_alert, kafka_topic_safe, topic_problem
from ucsiem.outputs.tls import tls_context

log = logging.getLogger("ucsiem.output.kafka")
HEADER_OVERHEAD = 128  # record framing, timestamp and our two headers, roughly
MAX_TOPIC_CACHE = 1024  # rendered names remembered with their checked topic (the allow-listed fields vary little)
PROBE_TIMEOUT_SECS = 5.0
# what a message's report (or send) says when no broker could be reached in time: the sender may probe
UNREACHABLE = (KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError, LeaderNotAvailableError,
               NotLeaderForPartitionError, RequestTimedOutError)


class KafkaOutput(OutputDefaults):
    def __init__(self, cfg: KafkaOutputConfig, parser_versions: dict[str, str]) -> None:
        self.cfg = cfg
        self.name = cfg.output_name()
        self._topic = Template(cfg.topic)
        self._versions = {k: v.encode() for k, v in parser_versions.items()}
        self._producer: AIOKafkaProducer | None = None
        self.max_document_bytes: int | None = cfg.max_message_bytes
        self.stall_secs: float | None = cfg.request_timeout_secs
        self._topics: dict[str, str] = {}
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
        if self._producer is None:
            await self.start()  # a new producer after a broken sequence (raises OutputError if it cannot)
        producer = self._producer
        if producer is None:
            raise OutputError(f"{self.name}: not connected", retriable=True)
        result = SendResult()
        unreachable = False
        pending: list[tuple[int, asyncio.Future[Any]]] = []
        for i, doc in enumerate(docs):
            try:
                event = orjson.loads(doc)
            except orjson.JSONDecodeError:
                event = {}
            key = self.key_for(event)
            key_bytes = key.encode() if key is not None else None
            if len(doc) + len(key_bytes or b"") > self.cfg.max_message_bytes:
                result.rejected.append(Rejected(i, "oversize", f"event of {len(doc)} bytes is larger than "
                                                f"max_message_bytes ({self.cfg.max_message_bytes})"))
                continue
            dataset = field_value(event, "event.dataset") or ""
            headers = [("ucsiem.dataset", dataset.encode()),
                       ("ucsiem.parser_version", self._versions.get(dataset, __version__.encode()))]
            try:
                future = await producer.send(self.topic_for(event), value=doc, key=key_bytes, headers=headers)
            except MessageSizeTooLargeError as exc:
                result.rejected.append(Rejected(i, "oversize", str(exc)))
                continue
            except KafkaError as exc:  # no metadata for the topic in time, buffer full: try again later
                result.retry.append(i)
                result.retry_reason = f"{type(exc).__name__}: {exc}"
                unreachable = unreachable or isinstance(exc, UNREACHABLE)
                continue
            pending.append((i, future))
        reports = await asyncio.gather(*(f for _, f in pending), return_exceptions=True)
        broken = False
        for (i, _), report in zip(pending, reports, strict=True):
            if not isinstance(report, BaseException):
                continue
            if isinstance(report, MessageSizeTooLargeError):
                result.rejected.append(Rejected(i, "oversize", f"broker refused the size: {report}"))
            elif isinstance(report, asyncio.CancelledError):
                raise report
            else:
                result.retry.append(i)
                result.retry_reason = f"{type(report).__name__}: {report}"
                if isinstance(report, TopicAuthorizationFailedError):
                    result.retry_reason = f"not authorized to write the topic ({report}); fix the broker ACLs"
                broken = broken or isinstance(report, OutOfOrderSequenceNumber)
                unreachable = unreachable or isinstance(report, UNREACHABLE)
        self.unreachable = unreachable
        if broken:  # a batch failed after its sequence number was taken: this producer can never write again
            log.warning("Kafka producer sequence broken; starting a new producer.", extra={"output": self.name})
            await self.close()
        return result

    def key_for(self, event: Any) -> str | None:
        """The message key: alert_key_field for alerts (when set), else key_field; None: no key."""
        if not isinstance(event, dict):
            return None
        path = self.cfg.alert_key_field if self.cfg.alert_key_field and is_alert(event) else self.cfg.key_field
        return field_value(event, path) if path else None

    def topic_for(self, event: dict[str, Any]) -> str:
        """The rendered topic, or fallback_topic when that is no legal topic of ours (warned once per name)."""
        rendered = self._topic.render(event)
        topic = self._topics.get(rendered)
        if topic is None:
            topic = kafka_topic_safe(rendered)
            problem = topic_problem(topic)
            if problem is not None:
                log.warning("An event's topic is not a legal topic name; it goes to fallback_topic.",
                            extra={"output": self.name, "topic": topic[:100], "problem": problem,
                                   "fallback_topic": self.cfg.fallback_topic})
                topic = self.cfg.fallback_topic
            if len(self._topics) >= MAX_TOPIC_CACHE:
                self._topics.clear()
            self._topics[rendered] = topic
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
