"""The memory feed (`ucsiem.pipeline.feed.MemoryFeed`): every output reads every batch in order through its own
cursor, and a batch's input position is acknowledged (`on_stored`) only once every output has it, in order.
A full feed makes `put` wait (it never drops); `close` lets readers drain, then gives them None.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.unit.fake_output import FakeOutput, auth_refused, down, retry
from ucsiem.pipeline.delivery import Sender
from ucsiem.pipeline.feed import Entry, MemoryFeed

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, 30))


def blob(n: int) -> bytes:
    return b'{"n":%d}\n{"n":%d}\n' % (n, n)


async def put_all(feed: MemoryFeed, batches: int, stored: list[int]) -> None:
    for n in range(batches):
        assert await feed.put(blob(n), 2, partial(stored.append, n))


async def take(feed: MemoryFeed, output: str) -> Entry:
    entry = await feed.next(output)
    assert entry is not None
    return entry


def test_each_output_reads_every_batch_in_order() -> None:
    async def go() -> None:
        feed = MemoryFeed(["a", "b"], 8)
        await put_all(feed, 3, [])
        for name in ("a", "b"):
            entries = [await take(feed, name) for _ in range(3)]
            assert [e.seq for e in entries] == [0, 1, 2]
            assert [e.docs() for e in entries] == [[b'{"n":%d}' % n] * 2 for n in range(3)]
            assert all(e.count == 2 for e in entries)

    run(go())


def test_a_position_is_acknowledged_only_once_every_output_has_the_batch() -> None:
    async def go() -> None:
        stored: list[int] = []
        feed = MemoryFeed(["a", "b"], 8)
        await put_all(feed, 3, stored)
        a = [await take(feed, "a") for _ in range(3)]
        for e in a:
            await feed.ack("a", e)
        assert stored == []  # "b" has none of them yet
        assert feed.depth() == {"a": {"batches": 0, "events": 0, "bytes": 0},
                                "b": {"batches": 3, "events": 6, "bytes": 3 * len(blob(0))}}
        b0 = await take(feed, "b")
        await feed.ack("b", b0)
        assert stored == [0]
        b1, b2 = await take(feed, "b"), await take(feed, "b")
        await feed.ack("b", b1)
        await feed.ack("b", b2)
        assert stored == [0, 1, 2]
        assert feed.depth()["b"] == {"batches": 0, "events": 0, "bytes": 0}

    run(go())


def test_positions_are_acknowledged_in_order_whichever_output_is_last() -> None:
    async def go() -> None:
        stored: list[int] = []
        feed = MemoryFeed(["a", "b"], 8)
        await put_all(feed, 3, stored)
        b = [await take(feed, "b") for _ in range(3)]
        a = [await take(feed, "a") for _ in range(3)]
        await feed.ack("b", b[0])
        await feed.ack("b", b[1])
        await feed.ack("a", a[0])
        assert stored == [0]
        await feed.ack("a", a[1])
        await feed.ack("b", b[2])
        assert stored == [0, 1]
        await feed.ack("a", a[2])
        assert stored == [0, 1, 2]

    run(go())


def test_a_full_feed_makes_put_wait_until_every_output_has_the_oldest_batch() -> None:
    async def go() -> None:
        stored: list[int] = []
        feed = MemoryFeed(["a", "b"], 2)
        await put_all(feed, 2, stored)
        third = asyncio.create_task(feed.put(blob(2), 2, partial(stored.append, 2)))
        await asyncio.sleep(0.05)
        assert not third.done()
        first = await take(feed, "a")
        await feed.ack("a", first)
        await asyncio.sleep(0.05)
        assert not third.done()  # "b" still holds batch 0
        await feed.ack("b", await take(feed, "b"))
        assert await asyncio.wait_for(third, 5) is True  # never dropped
        assert stored == [0]
        assert feed.depth()["a"]["batches"] == 2 and feed.depth()["b"]["batches"] == 2

    run(go())


def test_close_lets_readers_drain_then_gives_none() -> None:
    async def go() -> None:
        feed = MemoryFeed(["a"], 4)
        waiting = asyncio.create_task(feed.next("a"))
        await asyncio.sleep(0.02)
        assert not waiting.done()
        await put_all(feed, 1, [])
        assert (await asyncio.wait_for(waiting, 5)) is not None
        await put_all(feed, 1, [])
        idle = asyncio.create_task(feed.next("a"))
        second = await asyncio.wait_for(idle, 5)
        assert second is not None and second.seq == 1
        idle = asyncio.create_task(feed.next("a"))
        await asyncio.sleep(0.02)
        feed.close()
        assert await asyncio.wait_for(idle, 5) is None  # a reader waiting when the feed closes is woken
        assert await feed.next("a") is None

    run(go())


def test_senders_of_two_outputs_acknowledge_a_position_only_when_the_slower_one_delivered(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The feed and two real senders: output "b" is paused (refused credentials) then asks to retry; no input
    position is acknowledged before "b" delivered the batch, and then they are acknowledged in order."""
    log: list[str] = []

    async def no_wait(self: Sender, delay: float) -> None:
        await asyncio.sleep(0.01)

    monkeypatch.setattr(Sender, "_wait", no_wait)
    a = FakeOutput("a", on_call=lambda c: log.append(f"a {c.what}"))
    b = FakeOutput("b", on_call=lambda c: log.append(f"b {c.what}")).plan(auth_refused(), auth_refused(),
                                                                           retry(1), down())

    async def go() -> None:
        feed = MemoryFeed(["a", "b"], 4)
        senders = [Sender(out, feed, tmp_path, sync_each_batch=False) for out in (a, b)]
        tasks = [asyncio.create_task(s.run()) for s in senders]
        for n in range(3):
            await feed.put(blob(n), 2, partial(log.append, f"stored {n}"))
        feed.close()
        await asyncio.gather(*tasks)
        assert [s.stats.delivered for s in senders] == [6, 6]

    run(go())
    stored = [i for i, what in enumerate(log) if what.startswith("stored")]
    b_sends = [i for i, what in enumerate(log) if what == "b send"]
    assert [log[i] for i in stored] == ["stored 0", "stored 1", "stored 2"]
    assert len(b_sends) == 7  # batch 0: refused twice, half delivered, its retry failed, retried; batches 1, 2
    assert b_sends[4] < stored[0] < b_sends[5] < stored[1] < b_sends[6] < stored[2]
    assert a.received == b.received and len(a.received) == 6


def test_batches_there_already_join_up_to_max_events_and_one_ack_settles_them_all() -> None:
    """Parse batches are small (a worker's memory); an output reads the ones waiting as one send."""
    async def go() -> None:
        stored: list[int] = []
        feed = MemoryFeed(["a", "b"], 8)
        await put_all(feed, 5, stored)  # 2 events each
        first = await feed.next("a", 6)
        assert first is not None and list(first.seqs) == [0, 1, 2] and first.count == 6
        assert first.docs() == [b'{"n":%d}' % n for n in (0, 0, 1, 1, 2, 2)]
        rest = await feed.next("a", 6)
        assert rest is not None and list(rest.seqs) == [3, 4]  # only what is there: no wait for more
        single = await feed.next("b", 1)  # a batch larger than max_events still comes, alone
        assert single is not None and list(single.seqs) == [0] and single.first == -1
        await feed.ack("a", first)
        assert stored == []  # b has not delivered them
        await feed.ack("b", single)
        assert stored == [0]
        b_rest = await feed.next("b", 100)
        assert b_rest is not None and list(b_rest.seqs) == [1, 2, 3, 4]
        await feed.ack("b", b_rest)
        assert stored == [0, 1, 2]  # in order, and only those both outputs delivered
        await feed.ack("a", rest)
        assert stored == [0, 1, 2, 3, 4]

    run(go())
