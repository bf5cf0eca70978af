"""The spool feed (`ucsiem.spool.feed.SpoolFeed`) on a tmp_path spool, and the sender reading it.

README "spool": a batch is acknowledged to its input once it is committed to the spool; each output reads at
its own pace through its own cursor; a batch is deleted once every configured output has it; the spool
survives restarts (an output may get the batch it was sending again); `when_full: block` makes inputs wait,
`drop_newest` drops new batches, logged and counted; an output added to the config starts at the oldest
batch still spooled, one removed stops holding batches back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar

import pytest

from tests.unit.fake_output import FakeOutput, auth_refused, delivered, down, fatal, refuse, retry
from ucsiem.config import SpoolConfig
from ucsiem.errors import OutputError
from ucsiem.pipeline.delivery import Sender
from ucsiem.pipeline.feed import Entry
from ucsiem.spool.feed import SpoolFeed

T = TypeVar("T")
MiB = 1024 * 1024


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, 60))


def cfg(when_full: Literal["block", "drop_newest"] = "block", max_bytes: int = 64 * MiB) -> SpoolConfig:
    return SpoolConfig(enabled=True, max_bytes=max_bytes, when_full=when_full)


def blob(n: int, size: int = 0) -> bytes:
    """Two documents of batch `n` (padded so the batch is about `size` bytes)."""
    pad = "x" * max(0, size // 2 - 20)
    return b'{"n":%d,"p":"%s"}\n{"n":%d,"p":"%s"}\n' % (n, pad.encode(), n, pad.encode())


def numbers(entry: Entry) -> list[int]:
    return [int(d.split(b",")[0][5:]) for d in entry.docs()]


def sent_numbers(docs: list[bytes]) -> list[int]:
    return numbers(Entry(0, b"".join(d + b"\n" for d in docs), len(docs)))


def open_feed(path: Path, outputs: list[str], config: SpoolConfig | None = None) -> SpoolFeed:
    return SpoolFeed.open(config or cfg(), path / "spool.db", outputs)


async def shut(feed: SpoolFeed) -> None:
    """Stop as the agent does: no more puts, the background reclaim finished, the database closed."""
    feed.close()
    if feed._reclaiming is not None:
        await feed._reclaiming
    feed.close_db()


async def take(feed: SpoolFeed, output: str) -> Entry:
    entry = await feed.next(output)
    assert entry is not None
    return entry


async def read_and_ack(feed: SpoolFeed, output: str) -> int:
    """Read the output's next batch and acknowledge it; its number (as written in its documents)."""
    entry = await take(feed, output)
    await feed.ack(output, entry)
    n = numbers(entry)
    assert n == [n[0]] * 2
    return n[0]


def test_a_batch_is_acknowledged_to_its_input_once_on_disk_and_read_in_order(tmp_path: Path) -> None:
    async def go() -> None:
        stored: list[int] = []
        feed = open_feed(tmp_path, ["a"])
        for n in range(3):
            assert await feed.put(blob(n), 2, partial(stored.append, n))
            assert stored == list(range(n + 1))  # at once: no output has read it
        assert [b.seq for b in feed.store.batches()] == [0, 1, 2]
        assert feed.depth() == {"a": {"batches": 3, "events": 6, "bytes": 3 * len(blob(0))}}
        first = await take(feed, "a")
        assert (first.seq, numbers(first), first.count) == (0, [0, 0], 2)
        again = await take(feed, "a")  # until it is acknowledged, the output's next batch is still this one
        assert (again.seq, numbers(again)) == (0, [0, 0])
        await feed.ack("a", first)
        assert [b.seq for b in feed.store.batches()] == [1, 2]  # deleted once its only output has it
        assert feed.depth()["a"]["batches"] == 2
        rest = []
        for _ in range(2):
            rest.append(await take(feed, "a"))
            await feed.ack("a", rest[-1])
        assert [(e.seq, numbers(e)) for e in rest] == [(1, [1, 1]), (2, [2, 2])]
        assert feed.store.batches() == [] and feed.depth()["a"]["batches"] == 0
        await shut(feed)

    run(go())


def test_a_batch_leaves_the_spool_only_when_every_output_has_it(tmp_path: Path) -> None:
    async def go() -> None:
        feed = open_feed(tmp_path, ["a", "b"])
        for n in range(3):
            await feed.put(blob(n), 2, lambda: None)
        for _ in range(3):
            await feed.ack("a", await take(feed, "a"))
        assert [b.seq for b in feed.store.batches()] == [0, 1, 2]
        assert feed.depth()["a"]["batches"] == 0 and feed.depth()["b"]["batches"] == 3
        await feed.ack("b", await take(feed, "b"))
        assert [b.seq for b in feed.store.batches()] == [1, 2]
        await shut(feed)

    run(go())


def test_a_reopened_spool_delivers_again_what_was_not_acknowledged(tmp_path: Path) -> None:
    async def first_run() -> None:
        feed = open_feed(tmp_path, ["a", "b"])
        for n in range(4):
            await feed.put(blob(n), 2, lambda: None)
        await feed.ack("a", await take(feed, "a"))
        await feed.ack("a", await take(feed, "a"))
        await take(feed, "a")  # read, being sent when the agent stops: not acknowledged
        await feed.ack("b", await take(feed, "b"))
        await shut(feed)

    async def second_run() -> None:
        feed = open_feed(tmp_path, ["a", "b"])
        assert feed.depth() == {"a": {"batches": 2, "events": 4, "bytes": 2 * len(blob(0))},
                                "b": {"batches": 3, "events": 6, "bytes": 3 * len(blob(0))}}
        assert [await read_and_ack(feed, "a") for _ in range(2)] == [2, 3]
        assert [await read_and_ack(feed, "b") for _ in range(3)] == [1, 2, 3]
        await feed.put(blob(4), 2, lambda: None)
        entry = await take(feed, "a")
        assert (entry.seq, numbers(entry)) == (4, [4, 4])  # numbering goes on after the spooled batches
        await shut(feed)

    run(first_run())
    run(second_run())


def test_sequence_numbers_go_on_after_a_drained_spool_is_reopened(tmp_path: Path) -> None:
    async def fill_and_drain() -> None:
        feed = open_feed(tmp_path, ["a"])
        for n in range(2):
            await feed.put(blob(n), 2, lambda: None)
            await feed.ack("a", await take(feed, "a"))
        await shut(feed)

    async def reopen() -> None:
        feed = open_feed(tmp_path, ["a"])
        assert feed.depth()["a"]["batches"] == 0
        await feed.put(blob(9), 2, lambda: None)
        entry = await take(feed, "a")
        assert entry.seq == 2 and numbers(entry) == [9, 9]  # not skipped as "already delivered"
        await shut(feed)

    run(fill_and_drain())
    run(reopen())


def test_an_output_added_starts_at_the_oldest_batch_and_one_removed_stops_holding_batches(tmp_path: Path,
                                                                                        caplog: pytest.LogCaptureFixture
                                                                                        ) -> None:
    async def first_run() -> None:
        feed = open_feed(tmp_path, ["a", "old"])
        for n in range(3):
            await feed.put(blob(n), 2, lambda: None)
        await feed.ack("a", await take(feed, "a"))
        await shut(feed)

    async def second_run() -> None:
        feed = open_feed(tmp_path, ["a", "new"])
        assert (await take(feed, "new")).seq == 0  # the oldest batch still spooled
        assert (await take(feed, "a")).seq == 1
        assert feed.store.cursors().keys() == {"a", "new"}
        await feed.ack("new", await take(feed, "new"))  # "old" no longer holds batch 0 back
        assert [b.seq for b in feed.store.batches()] == [1, 2]
        await shut(feed)

    run(first_run())
    with caplog.at_level(logging.WARNING, logger="ucsiem.spool"):
        run(second_run())
    assert any("no longer configured" in r.getMessage() and r.__dict__["output"] == "old" for r in caplog.records)


def test_when_full_block_makes_put_wait_until_a_batch_is_delivered(tmp_path: Path) -> None:
    async def go() -> None:
        stored: list[int] = []
        feed = open_feed(tmp_path, ["a"], cfg("block", max_bytes=1 * MiB))
        assert await feed.put(blob(0, 600_000), 2, partial(stored.append, 0))
        third = asyncio.create_task(feed.put(blob(1, 600_000), 2, partial(stored.append, 1)))
        await asyncio.sleep(0.1)
        assert not third.done() and stored == [0]  # waiting, not dropped, not acknowledged upstream
        assert feed.dropped_events == 0
        await feed.ack("a", await take(feed, "a"))
        assert await asyncio.wait_for(third, 10) is True
        assert stored == [0, 1] and numbers(await take(feed, "a")) == [1, 1]
        await shut(feed)

    run(go())


def test_a_batch_larger_than_the_spool_is_taken_when_the_spool_is_empty(tmp_path: Path) -> None:
    async def go() -> None:
        feed = open_feed(tmp_path, ["a"], cfg("drop_newest", max_bytes=1 * MiB))
        assert await feed.put(blob(0, 2 * MiB), 2, lambda: None)  # never stuck for good
        assert feed.dropped_events == 0
        await shut(feed)

    run(go())


def test_when_full_drop_newest_drops_counts_and_logs_and_does_not_acknowledge(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def go() -> None:
        stored: list[int] = []
        feed = open_feed(tmp_path, ["a"], cfg("drop_newest", max_bytes=1 * MiB))
        assert await feed.put(blob(0, 600_000), 2, partial(stored.append, 0))
        assert await feed.put(blob(1, 600_000), 2, partial(stored.append, 1)) is False
        assert await feed.put(blob(2, 600_000), 5, partial(stored.append, 2)) is False
        assert stored == [0] and feed.dropped_events == 7
        assert [b.seq for b in feed.store.batches()] == [0]
        await feed.ack("a", await take(feed, "a"))
        assert await feed.put(blob(3, 600_000), 2, partial(stored.append, 3))  # room again
        assert stored == [0, 3] and numbers(await take(feed, "a")) == [3, 3]
        await shut(feed)

    with caplog.at_level(logging.WARNING, logger="ucsiem.spool"):
        run(go())
    dropped = [r for r in caplog.records if "drop_newest" in r.getMessage()]
    assert [(r.__dict__["events"], r.__dict__["dropped_events_total"]) for r in dropped] == [(2, 2), (5, 7)]


def test_close_lets_readers_drain_then_gives_none(tmp_path: Path) -> None:
    async def go() -> None:
        feed = open_feed(tmp_path, ["a"])
        waiting = asyncio.create_task(feed.next("a"))
        await asyncio.sleep(0.02)
        assert not waiting.done()
        await feed.put(blob(0), 2, lambda: None)
        first = await asyncio.wait_for(waiting, 5)
        assert first is not None and first.seq == 0
        await feed.ack("a", first)
        idle = asyncio.create_task(feed.next("a"))
        await asyncio.sleep(0.02)
        feed.close()
        assert await asyncio.wait_for(idle, 5) is None
        await shut(feed)

    run(go())


# --- the sender reading the spool ------------------------------------------------------------------------------


def test_the_sender_drains_the_spool_in_order_through_retries_and_dead_letters(tmp_path: Path,
                                                                              waits: list[float]) -> None:
    output = FakeOutput("a").plan(down(), retry(1, after=2.0), refuse((0, "oversize")))
    order: list[str] = []
    output.on_call = lambda c: order.append(c.what)

    async def go() -> Sender:
        feed = open_feed(tmp_path, ["a"])
        for n in range(3):
            await feed.put(blob(n), 2, lambda: None)
        s = Sender(output, feed, tmp_path, sync_each_batch=True)
        feed.close()
        await s.run()
        assert feed.store.batches() == [] and feed.store.cursors() == {"a": 2}
        await shut(feed)
        return s

    s = run(go())
    heads = [[d[:6] for d in docs] for docs in output.sent]
    assert heads[:3] + heads[4:] == [[b'{"n":0'] * 2, [b'{"n":0'] * 2, [b'{"n":0'], [b'{"n":1'] * 2, [b'{"n":2'] * 2]
    assert len(output.sent[3]) == 1 and b'"output_oversize"' in output.sent[3][0]  # batch 0's second document
    assert 2.0 in waits
    assert (s.stats.delivered, s.stats.dead_letters) == (6, {"oversize": 1})
    assert order.count("sync") == 3 and order[-1] == "sync"  # the spool forgets a batch only once it is durable


def test_a_batch_the_sender_did_not_finish_is_delivered_again_after_a_restart(tmp_path: Path,
                                                                              waits: list[float]) -> None:
    """The sender stops (an error that cannot heal) while the second batch is being sent; the reopened spool
    gives that batch again, not the first one."""
    first = FakeOutput("a").plan(auth_refused(), delivered(), fatal())

    async def first_run() -> None:
        feed = open_feed(tmp_path, ["a"])
        for n in range(3):
            await feed.put(blob(n), 2, lambda: None)
        s = Sender(first, feed, tmp_path, sync_each_batch=True)
        with pytest.raises(OutputError):
            await s.run()
        await shut(feed)

    second = FakeOutput("a")

    async def second_run() -> None:
        feed = open_feed(tmp_path, ["a"])
        s = Sender(second, feed, tmp_path, sync_each_batch=True)
        feed.close()
        await s.run()
        await shut(feed)

    run(first_run())
    run(second_run())
    assert [sent_numbers(docs) for docs in first.sent] == [[0, 0], [0, 0], [1, 1]]
    assert [sent_numbers(docs) for docs in second.sent] == [[1, 1], [2, 2]]
