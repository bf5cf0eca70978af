"""Every use of aiokafka's internals, in one place, each with the test that fails when aiokafka changes.

aiokafka (0.12-0.14) lacks three things a shipper needs, and its public API cannot give them:

- Paced reconnects to a broker that is down (librdkafka's `reconnect.backoff.ms`). aiokafka reconnects as
  soon as a request fails, thousands of connections a second. We wrap `AIOKafkaClient._get_conn`, which
  every broker connection goes through. Tripwires: `tests/unit/test_aiokafka_hooks.py`, and the connection
  count of `tests/integration/test_outages.py`.
- Closing a producer whose messages cannot be delivered. `stop()` waits for the accumulator to drain: for
  ever when the broker is down. We call `producer._sender.close()` (it cancels the send loop) before
  `stop()`. Tripwire: `tests/unit/test_aiokafka_hooks.py`.
- Why a bootstrap failed (bad SASL password, untrusted CA). aiokafka raises "Unable to bootstrap" and only
  logs the cause. We read the exceptions in the arguments of its ERROR log records. Tripwires:
  `tests/unit/test_aiokafka_hooks.py`, and the messages checked by `tests/integration/test_kafka_secure_broker.py`.

The dependency is pinned below the next minor version (pyproject.toml), so a new aiokafka arrives only with
these tests run against it. If a hook's target is gone, the hook degrades (no pacing, a logged warning)
rather than breaking delivery, and its tripwire test fails.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiokafka import AIOKafkaClient, AIOKafkaProducer

log = logging.getLogger("ucsiem.output.kafka")

# After a failed connection to a broker, the next attempt to it waits: from 0.1 s, doubling, jittered, at most
# 2 s (librdkafka's reconnect.backoff.ms / reconnect.backoff.max.ms, 100 ms / 10 s). aiokafka has no such
# setting: with a partition leader unknown it asks for metadata again as soon as a request fails, a loop
# that tried to connect thousands of times a second while the broker was down.
RECONNECT_BACKOFF_SECS = 0.1
RECONNECT_BACKOFF_MAX_SECS = 2.0


class _Paced:
    """A broker connection that failed: when the next attempt may be made, and how long the wait was."""

    __slots__ = ("at", "delay", "failures")

    def __init__(self) -> None:
        self.at = 0.0
        self.delay = 0.0
        self.failures = 0

    def failed(self) -> None:
        self.failures += 1
        base = min(RECONNECT_BACKOFF_SECS * 2 ** min(self.failures - 1, 30), RECONNECT_BACKOFF_MAX_SECS)
        self.delay = min(base * random.uniform(0.75, 1.25), RECONNECT_BACKOFF_MAX_SECS)
        self.at = time.monotonic() + self.delay


class ReconnectPacing:
    """The backoff state of one client: failed connections by (broker id, connection group)."""

    def __init__(self) -> None:
        self.paced: dict[Any, _Paced] = {}

    def failures(self) -> dict[Any, int]:
        return {key: state.failures for key, state in self.paced.items()}


def pace_reconnects(client: AIOKafkaClient) -> ReconnectPacing:
    """Give aiokafka's client a per-broker reconnect backoff (bounded, jittered), as librdkafka has.

    Every connection to a known broker (metadata, produce, producer id) goes through the client's `_get_conn`;
    after a failed attempt, the next one to the same broker (and connection group) waits out the backoff, and
    callers that waited while another attempt failed get "not ready" without trying again. A success forgets
    the backoff. The bootstrap (a separate path) is paced by the sender's own backoff and probes."""
    pacing = ReconnectPacing()
    get_conn = getattr(client, "_get_conn", None)
    if get_conn is None:  # aiokafka changed: better unpaced than broken (the tripwire test fails)
        log.warning("aiokafka has no _get_conn: broker reconnects are not paced.")
        return pacing
    paced = pacing.paced

    async def paced_get_conn(node_id: Any, **kwargs: Any) -> Any:
        key = (node_id, kwargs.get("group"))
        state = paced.get(key)
        if state is not None:
            failures = state.failures
            wait = state.at - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if state.failures != failures:  # another caller tried (and failed) while we waited
                return None
        conn = await get_conn(node_id, **kwargs)
        if conn is None:
            paced.setdefault(key, state or _Paced()).failed()
        else:
            paced.pop(key, None)
        return conn

    client._get_conn = paced_get_conn
    return pacing


async def abandon_pending(producer: AIOKafkaProducer) -> None:
    """Stop the producer's send loop, so that `stop()` returns with messages still undelivered (they are
    acknowledged to nobody and read again); aiokafka's `stop()` alone waits for them for ever."""
    sender = getattr(producer, "_sender", None)
    close = getattr(sender, "close", None)
    if close is None:  # aiokafka changed: stop() may now hang on undeliverable messages (the tripwire fails)
        log.warning("aiokafka's producer has no _sender.close: closing may wait for undeliverable messages.")
        return
    await close()


class _CauseCatcher(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.causes: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        self.causes.extend(a for a in args if isinstance(a, BaseException))


@contextmanager
def bootstrap_causes() -> Iterator[list[BaseException]]:
    """The exceptions aiokafka logs (and does not raise) while the block runs: why a bootstrap failed."""
    catcher = _CauseCatcher()
    logger = logging.getLogger("aiokafka")
    logger.addHandler(catcher)
    try:
        yield catcher.causes
    finally:
        logger.removeHandler(catcher)
