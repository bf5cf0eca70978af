"""One sender per output: read the feed in order, send, retry with backoff, turn refusals into dead letters.

Retries never drop anything: a failed batch (or the failed part of it) is sent again with jittered
exponential backoff, honouring the server's Retry-After; refused credentials or permissions (and an
index write block) pause the output with a loud log until they work. While an output cannot be reached
(its `unreachable` flag), the sender probes it each second during the wait (Kafka metadata, Elasticsearch
cluster health) and retries as soon as it answers: delivery resumes seconds after an outage, not after
the backoff's 30 s. A document the destination refuses for good (too large, mapping conflict)
becomes a small `pipeline_error` event with the reason, sent through the same output; if even that
is refused it is appended to `<data_dir>/dead-letters.ndjson`, so it never disappears.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ucsiem.errors import OutputError
from ucsiem.normalize import MAX_ORIGINAL_CHARS
from ucsiem.outputs.base import Output, Rejected, SendResult
from ucsiem.pipeline.feed import Feed

log = logging.getLogger("ucsiem.delivery")

FIRST_DELAY_SECS = 0.2
MAX_DELAY_SECS = 30.0
AUTH_DELAY_SECS = 10.0  # refused credentials: check again this often, never give up
PROBE_SECS = 1.0  # an unreachable output is probed this often while the sender waits to retry
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass
class Latency:
    """Seconds each `send` took (a histogram for /metrics: counts per upper bound, the last one +Inf)."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    total: float = 0.0

    def observe(self, secs: float) -> None:
        self.counts[next((i for i, le in enumerate(LATENCY_BUCKETS) if secs <= le), len(LATENCY_BUCKETS))] += 1
        self.total += secs


@dataclass
class OutputStats:
    delivered: int = 0
    duplicates: int = 0
    retries: int = 0
    retried_documents: int = 0
    auth_failures: int = 0
    probes: int = 0  # checks of an unreachable output while waiting to retry
    dead_letters: dict[str, int] = field(default_factory=dict)
    dead_letters_local: int = 0
    last_error: str = ""
    failing_since: float | None = None  # monotonic time of the first failure since the last delivery (readiness)
    latency: Latency = field(default_factory=Latency)

    def summary(self) -> dict[str, object]:
        return {"delivered": self.delivered, "duplicates": self.duplicates, "retries": self.retries,
                "retried_documents": self.retried_documents, "auth_failures": self.auth_failures,
                **({"probes": self.probes} if self.probes else {}),
                "dead_letters": dict(self.dead_letters), "dead_letters_local": self.dead_letters_local,
                **({"last_error": self.last_error} if self.last_error else {})}


class Backoff:
    """Jittered exponential delay; the server's Retry-After wins when it asks for longer."""

    def __init__(self) -> None:
        self.delay = FIRST_DELAY_SECS

    def next(self, retry_after: float | None = None) -> float:
        wait = self.delay * (0.5 + random.random())
        self.delay = min(self.delay * 2, MAX_DELAY_SECS)
        return max(wait, retry_after or 0.0)

    def reset(self) -> None:
        self.delay = FIRST_DELAY_SECS


class Sender:
    def __init__(self, output: Output, feed: Feed, data_dir: Path, *, sync_each_batch: bool) -> None:
        self.output = output
        self.feed = feed
        self.stats = OutputStats()
        self.started = asyncio.Event()
        self._local = data_dir / "dead-letters.ndjson"
        self._sync_each_batch = sync_each_batch  # the spool forgets a batch once acked: make it durable first

    async def run(self) -> None:
        await self._start()
        name = self.output.name
        while (entry := await self.feed.next(name, self.output.send_max_events)) is not None:
            await self.deliver(entry.docs())
            if self._sync_each_batch:
                await asyncio.to_thread(self.output.sync)
            await self.feed.ack(name, entry)

    async def _start(self) -> None:
        backoff = Backoff()
        while True:
            try:
                await self.output.start()
                self.started.set()
                return
            except OutputError as exc:
                if not exc.retriable:
                    raise
                delay = AUTH_DELAY_SECS if exc.auth else backoff.next(exc.retry_after)
                self._failed(exc, delay, 0)
                await self._wait(delay)

    async def deliver(self, docs: Sequence[bytes]) -> None:
        """Send until every document is delivered or dead-lettered."""
        rejected = await self._send_all(docs)
        if not rejected:
            return
        limit = self.output.max_document_bytes  # the dead letter must fit where it goes
        letters = [dead_letter(docs[r.index], r, self.output.name, max_bytes=limit) for r in rejected]
        for r in rejected:
            self.stats.dead_letters[r.code] = self.stats.dead_letters.get(r.code, 0) + 1
            log.warning("Output refused an event; it becomes a dead letter.",
                        extra={"output": self.output.name, "code": r.code, "reason": r.reason[:500]})
        refused = await self._send_all(letters)
        if refused:  # the dead letter itself refused: keep it on local disk, never lose it
            await asyncio.to_thread(self._write_local, [letters[r.index] for r in refused])

    async def _send_all(self, docs: Sequence[bytes]) -> list[Rejected]:
        pending = list(range(len(docs)))
        rejected: list[Rejected] = []
        backoff = Backoff()
        while pending:
            try:
                sent = time.monotonic()
                result = await self._watched(self.output.send([docs[i] for i in pending]), len(pending))
                self.stats.latency.observe(time.monotonic() - sent)
            except OutputError as exc:
                if not exc.retriable:
                    raise
                if exc.partial is not None:  # documents refused one by one, the others settled
                    pending = self._settle(exc.partial, pending, rejected)
                delay = AUTH_DELAY_SECS if exc.auth else backoff.next(exc.retry_after)
                self._failed(exc, delay, len(pending))
                await self._wait(delay)
                continue
            pending = self._settle(result, pending, rejected)
            if not pending:
                break
            self.stats.retries += 1
            self.stats.retried_documents += len(pending)
            delay = backoff.next(result.retry_after)
            self.stats.last_error = result.retry_reason
            log.warning("Output asked to retry part of a batch.",
                        extra={"output": self.output.name, "documents": len(pending), "reason": result.retry_reason,
                               "retry_in_secs": round(delay, 2), "retry_after": result.retry_after})
            await self._wait(delay)
        return rejected

    def _settle(self, result: SendResult, pending: list[int], rejected: list[Rejected]) -> list[int]:
        """Count what became of `pending` (indexes into the batch); return those to send again."""
        retry = set(result.retry)
        rejected.extend(Rejected(pending[r.index], r.code, r.reason) for r in result.rejected)
        done = len(pending) - len(retry) - len(result.rejected)
        if done or not retry:
            self.stats.failing_since = None
        elif self.stats.failing_since is None:  # nothing taken, all to retry (blocked index, 429 on every item)
            self.stats.failing_since = time.monotonic()
        self.stats.delivered += done
        self.stats.duplicates += result.duplicates
        return [pending[i] for i in sorted(retry)]

    async def _wait(self, delay: float) -> None:
        """Wait `delay` seconds before a retry; while the output is unreachable, probe it every PROBE_SECS and
        stop waiting once it answers (a probe is a cheap request: metadata, cluster health)."""
        deadline = time.monotonic() + delay
        while (left := deadline - time.monotonic()) > 0:
            if left <= PROBE_SECS or not self.output.unreachable:
                await asyncio.sleep(left)
                return
            await asyncio.sleep(PROBE_SECS)
            self.stats.probes += 1
            try:
                answered = await self.output.probe()
            except Exception as exc:  # a probe that breaks must not stop delivery: wait as if it had no answer
                log.debug("Output probe failed.", extra={"output": self.output.name, "error": repr(exc)})
                answered = False
            if answered:
                log.info("Output answers again; retrying now.",
                         extra={"output": self.output.name, "waited_secs": round(delay - left + PROBE_SECS, 1)})
                return

    async def _watched(self, send: Any, documents: int) -> Any:
        """An output that keeps retrying inside its client (the idempotent Kafka producer never gives up)
        still shows up in the logs and counters: one warning per stall_secs without an answer."""
        stall = self.output.stall_secs
        task = asyncio.ensure_future(send)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=stall)
                if done:
                    return task.result()
                self.stats.retries += 1
                self.stats.retried_documents += documents
                self.stats.last_error = f"no acknowledgement for {stall} s"
                self.stats.failing_since = self.stats.failing_since or time.monotonic()
                log.warning("Output has not acknowledged a batch yet; its client keeps retrying (nothing is "
                            "dropped).", extra={"output": self.output.name, "documents": documents,
                                                "waited_secs": stall})
        finally:
            task.cancel()

    def _failed(self, exc: OutputError, delay: float, documents: int) -> None:
        self.stats.last_error = str(exc)
        self.stats.failing_since = self.stats.failing_since or time.monotonic()
        if exc.auth:
            self.stats.auth_failures += 1
            what = ("Output refused some events (a write block or a missing privilege: the error says which and "
                    "how to fix it)" if exc.partial is not None
                    else "Output refused our credentials or permissions")
            log.error(f"{what}; it is PAUSED and keeps every event until this is fixed.",
                      extra={"output": self.output.name, "error": str(exc), "documents": documents,
                             "retry_in_secs": AUTH_DELAY_SECS})
            return
        self.stats.retries += 1
        self.stats.retried_documents += documents
        log.error("Output failed; retrying (nothing is dropped, reading is paused when the queue is full).",
                  extra={"output": self.output.name, "error": str(exc), "retry_in_secs": round(delay, 2),
                         "retry_after": exc.retry_after})

    def _write_local(self, letters: list[bytes]) -> None:
        self.stats.dead_letters_local += len(letters)
        log.error("Dead letters refused by the output too; kept on local disk.",
                  extra={"output": self.output.name, "path": str(self._local), "count": len(letters)})
        self._local.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._local, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, b"".join(d + b"\n" for d in letters))
            os.fsync(fd)
        finally:
            os.close(fd)


def dead_letter(doc: bytes, rejected: Rejected, output: str, max_bytes: int | None = None) -> bytes:
    """A small pipeline_error event standing for a document an output refused, with the reason.

    It keeps the original's id (a re-sent dead letter is a duplicate, not a second one), dataset,
    source and agent fields, and the original document (cut to 64 KiB) in event.original.
    """
    try:
        original: dict[str, Any] = orjson.loads(doc)
        if not isinstance(original, dict):
            original = {}
    except orjson.JSONDecodeError:
        original = {}
    now = datetime.now(UTC)
    src_event = original.get("event") if isinstance(original.get("event"), dict) else {}
    assert isinstance(src_event, dict)
    text = doc[:MAX_ORIGINAL_CHARS].decode("utf-8", "replace")
    event: dict[str, Any] = {
        "@timestamp": original.get("@timestamp", now),
        "message": f"{output} refused the event ({rejected.code}): {rejected.reason}"[:2000],
        "event": {"kind": "pipeline_error", "action": "pipeline-error", "original": text, "ingested": now,
                  **{k: src_event[k] for k in ("id", "dataset", "module") if k in src_event}},
        "error": {"type": f"output_{rejected.code}", "message": rejected.reason[:8000]},
    }
    for key in ("observer", "agent", "host", "log"):
        if key in original:
            event[key] = original[key]
    if len(doc) > MAX_ORIGINAL_CHARS:
        event["tags"] = ["original_truncated"]
    out = orjson.dumps(event, option=orjson.OPT_UTC_Z)
    while max_bytes is not None and len(out) > max_bytes and event["event"]["original"]:
        original_text = event["event"]["original"]  # cut event.original until the letter fits the output
        excess = len(out) - max_bytes
        event["event"]["original"] = original_text[:max(0, len(original_text) - excess - 16)]
        event["tags"] = ["original_truncated"]
        out = orjson.dumps(event, option=orjson.OPT_UTC_Z)
    return out
