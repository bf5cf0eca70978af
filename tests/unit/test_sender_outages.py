"""The sender under outages, with scripted outputs (no network): probing and pausing.

* an unreachable output is probed each PROBE_SECS while the sender waits out its backoff, and the batch is
  sent again as soon as a probe answers (not when a 30 s backoff ends);
* a reachable output that asks to retry (429, Retry-After) is not probed: its backoff is honoured;
* documents refused one by one with 401/403 (an index write block) pause the output: one ERROR that names
  what to fix, the others of the batch counted once as delivered, only the refused ones sent again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from ucsiem.errors import OutputError
from ucsiem.outputs.base import OutputDefaults, SendResult
from ucsiem.outputs.elasticsearch import PausedError
from ucsiem.pipeline import delivery
from ucsiem.pipeline.delivery import Sender
from ucsiem.pipeline.feed import MemoryFeed


class Scripted(OutputDefaults):
    """An output whose sends fail `failures` times (as unreachable, or asking to retry), then deliver."""

    name = "scripted"

    def __init__(self, failures: int, *, unreachable: bool = True, retry_after: float | None = None) -> None:
        self.failures = failures
        self.unreachable = False
        self._unreachable = unreachable
        self._retry_after = retry_after
        self.probes: list[float] = []
        self.sends: list[tuple[float, list[bytes]]] = []
        self.up_at = float("inf")  # probes answer from this monotonic time on

    async def start(self) -> None:
        return None

    async def send(self, docs: Sequence[bytes]) -> SendResult:
        self.sends.append((time.monotonic(), list(docs)))
        if self.failures > 0:
            self.failures -= 1
            self.unreachable = self._unreachable
            raise OutputError("scripted failure", retriable=True, retry_after=self._retry_after)
        self.unreachable = False
        return SendResult()

    async def probe(self) -> bool:
        self.probes.append(time.monotonic())
        return time.monotonic() >= self.up_at

    async def close(self) -> None:
        return None


def sender(output: Scripted, tmp: Path) -> Sender:
    return Sender(output, MemoryFeed(["scripted"], 4), tmp, sync_each_batch=False)


def test_an_unreachable_output_is_probed_and_retried_as_soon_as_it_answers(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery, "PROBE_SECS", 0.05)
    monkeypatch.setattr(delivery, "FIRST_DELAY_SECS", 20.0)  # a long backoff from the first failure on
    output = Scripted(failures=1)

    async def run() -> float:
        s = sender(output, tmp_path)
        output.up_at = time.monotonic() + 0.3
        started = time.monotonic()
        await asyncio.wait_for(s.deliver([b"{}"]), 10)
        assert s.stats.delivered == 1 and s.stats.probes >= 3
        return time.monotonic() - started

    took = asyncio.run(run())
    assert took < 2.0, f"delivered {took:.1f} s after the failure (the backoff was 10-30 s)"
    assert len(output.sends) == 2
    assert all(b - a < 0.5 for a, b in zip(output.probes, output.probes[1:], strict=False))


def test_a_reachable_output_that_asks_to_wait_is_not_probed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery, "PROBE_SECS", 0.05)
    output = Scripted(failures=1, unreachable=False, retry_after=0.5)
    output.up_at = 0.0

    async def run() -> float:
        s = sender(output, tmp_path)
        started = time.monotonic()
        await s.deliver([b"{}"])
        return time.monotonic() - started

    took = asyncio.run(run())
    assert took >= 0.5 and output.probes == []


class Blocked(Scripted):
    """A bulk where documents 1 and 3 hit an index write block (403), twice; the others go in."""

    def __init__(self) -> None:
        super().__init__(0)
        self.blocked_rounds = 2

    async def send(self, docs: Sequence[bytes]) -> SendResult:
        self.sends.append((time.monotonic(), list(docs)))
        if self.blocked_rounds == 0:
            return SendResult()
        self.blocked_rounds -= 1
        partial = SendResult(retry=[i for i, d in enumerate(docs) if d in (b'{"n":1}', b'{"n":3}')])
        raise PausedError("es: index [x] is blocked for writes (FORBIDDEN/8/index write (api)): lift it with "
                          'PUT x/_settings {"index.blocks.write": false}', partial)


def test_documents_refused_by_a_write_block_pause_the_output_and_only_they_are_sent_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(delivery, "AUTH_DELAY_SECS", 0.05)
    output = Blocked()
    docs = [b'{"n":%d}' % i for i in range(5)]

    async def run() -> Sender:
        s = sender(output, tmp_path)
        await s.deliver(docs)
        return s

    with caplog.at_level(logging.INFO, logger="ucsiem.delivery"):
        s = asyncio.run(run())
    assert [sent for _, sent in output.sends] == [docs, [docs[1], docs[3]], [docs[1], docs[3]]]
    assert (s.stats.delivered, s.stats.duplicates, s.stats.auth_failures, s.stats.retries) == (5, 0, 2, 0)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2 and all("PAUSED" in r.getMessage() and "write block" in r.getMessage() for r in errors)
    assert all("index.blocks.write" in r.__dict__["error"] and r.__dict__["documents"] == 2 for r in errors)
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
