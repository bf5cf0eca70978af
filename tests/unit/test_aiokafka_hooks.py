"""Tripwires for the aiokafka internals `ucsiem/outputs/aiokafka_hooks.py` relies on: each test drives aiokafka
through its public API and fails when the internal the hook wraps is no longer on that path."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest
from aiokafka import AIOKafkaClient, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from ucsiem.outputs import aiokafka_hooks
from ucsiem.outputs.aiokafka_hooks import abandon_pending, bootstrap_causes, pace_reconnects


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_every_broker_connection_goes_through_the_paced_method(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> tuple[dict[object, int], dict[object, int], bool]:
        client = AIOKafkaClient(bootstrap_servers=f"127.0.0.1:{closed_port()}")
        pacing = pace_reconnects(client)
        try:
            # broker 7 is in no metadata: aiokafka's connection attempt fails, through the wrapped method
            first = await client.ready(7)
            after_one = pacing.failures()
            await client.ready(7)  # waits out the backoff, tries again
            return after_one, pacing.failures(), first
        finally:
            await client.close()

    with caplog.at_level(logging.WARNING, logger="ucsiem.output.kafka"):
        after_one, after_two, ready = asyncio.run(main())
    assert "not paced" not in caplog.text
    assert ready is False
    assert list(after_one.values()) == [1]  # client.ready -> _get_conn -> our pacing saw the failure
    assert list(after_two.values()) == [2]


def test_the_backoff_doubles_and_is_bounded() -> None:
    state = aiokafka_hooks._Paced()
    delays = []
    for _ in range(12):
        state.failed()
        delays.append(state.delay)
    assert 0.075 <= delays[0] <= 0.125 and 0.15 <= delays[1] <= 0.25
    assert max(delays) <= aiokafka_hooks.RECONNECT_BACKOFF_MAX_SECS


def test_the_send_loop_abandon_pending_stops_is_where_it_was(caplog: pytest.LogCaptureFixture) -> None:
    """The shape the hook needs (a sender whose close() cancels the send loop); that it lets close() return
    with undeliverable messages is proven with a real broker in tests/integration/test_outages.py."""

    async def main() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=f"127.0.0.1:{closed_port()}")
        sender = getattr(producer, "_sender", None)
        assert sender is not None and asyncio.iscoroutinefunction(getattr(sender, "close", None))
        assert hasattr(sender, "sender_task")
        await abandon_pending(producer)  # not started: nothing to cancel
        await producer.stop()

    with caplog.at_level(logging.WARNING, logger="ucsiem.output.kafka"):
        asyncio.run(main())
    assert "no _sender.close" not in caplog.text


def test_the_cause_of_a_failed_bootstrap_is_caught() -> None:
    async def main() -> list[BaseException]:
        port = closed_port()
        producer = AIOKafkaProducer(bootstrap_servers=f"127.0.0.1:{port}", request_timeout_ms=2000)
        with bootstrap_causes() as causes, pytest.raises(KafkaConnectionError):
            await producer.start()
        await producer.stop()
        return causes

    causes = asyncio.run(main())
    assert any(isinstance(cause, OSError) for cause in causes), causes
