# mypy: disable-error-code="import-untyped"
"""The private SASL_SSL Kafka of kafka_secure.py: each SASL mechanism over TLS, a wrong password, an untrusted CA.

aiokafka's ``start()`` turns every failed bootstrap into ``KafkaConnectionError("Unable to bootstrap from ...")``
and only logs the cause (logger ``aiokafka``, message 'Unable connect to "%s:%s": %s', the exception as the third
argument of the record): the tests assert both.
"""

from __future__ import annotations

import logging
import socket
import ssl
import uuid
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, SaslAuthenticationFailed

from tests.integration.kafka_secure import SecureKafka, secure_kafka
from tests.integration.kafkahelp import run_async

T = TypeVar("T")
TIMEOUT = 30.0  # seconds for any one client scenario
MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
BOOTSTRAP_FAILURE = 'Unable connect to "%s:%s": %s'  # aiokafka/client.py, AIOKafkaClient.bootstrap


@pytest.fixture(scope="module")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureKafka]:
    with secure_kafka(tmp_path_factory.mktemp("secure-kafka")) as broker:
        yield broker
    host, port = broker.bootstrap.rsplit(":", 1)
    with pytest.raises(OSError), socket.create_connection((host, int(port)), timeout=2):
        pass  # the broker is gone


def run(coro: Coroutine[Any, Any, T]) -> T:
    return run_async(coro, TIMEOUT)


def client_args(kafka: SecureKafka, mechanism: str, *, password: str | None = None,
                context: ssl.SSLContext | None = None) -> dict[str, Any]:
    return {"bootstrap_servers": kafka.bootstrap, "security_protocol": "SASL_SSL", "sasl_mechanism": mechanism,
            "sasl_plain_username": kafka.username, "sasl_plain_password": password or kafka.password,
            "ssl_context": context or kafka.ssl_context(), "request_timeout_ms": 10_000}


async def roundtrip(args: dict[str, Any], topic: str, payload: bytes) -> bytes:
    producer = AIOKafkaProducer(**args)
    try:
        await producer.start()
        await producer.send_and_wait(topic, payload)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, group_id=None, auto_offset_reset="earliest", **args)
    try:
        await consumer.start()
        message = await consumer.getone()
    finally:
        await consumer.stop()
    value = message.value
    assert isinstance(value, bytes)
    return value


async def start_producer(args: dict[str, Any]) -> None:
    producer = AIOKafkaProducer(**args)
    try:
        await producer.start()
    finally:
        await producer.stop()


def bootstrap_causes(caplog: pytest.LogCaptureFixture) -> list[object]:
    """The exceptions aiokafka logged for each failed bootstrap connection ('Unable connect to "%s:%s": %s')."""
    return [record.args[2] for record in caplog.records
            if record.name == "aiokafka" and record.msg == BOOTSTRAP_FAILURE and isinstance(record.args, tuple)]


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_each_mechanism_produces_and_consumes_over_tls(kafka: SecureKafka, mechanism: str) -> None:
    topic = f"secure-{mechanism.lower()}-{uuid.uuid4().hex[:8]}"
    payload = f"hello over {mechanism}".encode()
    assert run(roundtrip(client_args(kafka, mechanism), topic, payload)) == payload


def test_mutual_tls_client_certificate_is_accepted(kafka: SecureKafka) -> None:
    args = client_args(kafka, "SCRAM-SHA-512", context=kafka.ssl_context(client_cert=True))
    assert run(roundtrip(args, f"secure-mtls-{uuid.uuid4().hex[:8]}", b"mtls")) == b"mtls"


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_wrong_password_fails_authentication(kafka: SecureKafka, mechanism: str,
                                             caplog: pytest.LogCaptureFixture) -> None:
    args = client_args(kafka, mechanism, password="not-" + kafka.password)
    with caplog.at_level(logging.ERROR, logger="aiokafka"), \
            pytest.raises(KafkaConnectionError, match="Unable to bootstrap from"):
        run(start_producer(args))
    causes = bootstrap_causes(caplog)
    assert causes, caplog.text
    assert all(type(cause) is SaslAuthenticationFailed for cause in causes), causes
    assert "Authentication failed" in str(causes[0])


def test_untrusted_ca_fails_the_tls_handshake(kafka: SecureKafka, caplog: pytest.LogCaptureFixture) -> None:
    args = client_args(kafka, "SCRAM-SHA-512", context=kafka.ssl_context(cafile=kafka.other_ca_file))
    with caplog.at_level(logging.ERROR, logger="aiokafka"), \
            pytest.raises(KafkaConnectionError, match="Unable to bootstrap from"):
        run(start_producer(args))
    causes = bootstrap_causes(caplog)
    assert causes, caplog.text
    for cause in causes:
        assert type(cause) is ssl.SSLCertVerificationError, causes
        # The broker sends its chain up to its (self-signed) CA, which the client does not trust.
        assert cause.verify_code == 19, cause  # X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
        assert cause.verify_message == "self-signed certificate in certificate chain"
