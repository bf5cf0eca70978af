"""Where parsed batches wait for the outputs: in memory (default) or in the on-disk spool.

Each output reads the feed in order at its own pace through its own cursor. With the memory feed a
batch's input position is acknowledged once every output has delivered it; with the spool, once
the batch is committed to disk (the spool then owns it until every output has it).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

OnStored = Callable[[], None]


@dataclass
class Entry:
    """One batch, or consecutive batches `first`..`seq` read as one (see `Feed.next`)."""

    seq: int
    blob: bytes  # newline-terminated JSON documents
    count: int
    first: int = -1  # the first batch's seq when several are joined; -1: this one only

    @property
    def seqs(self) -> range:
        return range(self.seq if self.first < 0 else self.first, self.seq + 1)

    def docs(self) -> list[bytes]:
        return self.blob.split(b"\n")[:-1] if self.blob else []


def joined(entries: list[Entry]) -> Entry:
    """Consecutive batches as one entry (one copy of their documents; a single batch is not copied)."""
    if len(entries) == 1:
        return entries[0]
    return Entry(entries[-1].seq, b"".join(e.blob for e in entries), sum(e.count for e in entries),
                 entries[0].seq)


class Feed(Protocol):
    async def put(self, blob: bytes, count: int, on_stored: OnStored) -> bool:
        """Queue a batch; blocks while full. True: `on_stored` runs once the batch is safe to forget upstream.
        False: the batch was dropped (spool full, `when_full: drop_newest`) and `on_stored` is not called:
        the caller tells its input first (a webhook then answers 503, not 200), then acknowledges it."""

    async def next(self, output: str, max_events: int = 0) -> Entry | None:
        """The output's next batch; None once the feed is closed and the output has read everything. With
        `max_events`, the batches that follow it and are there already join it while the events stay within
        it: a parse batch is small (a worker's memory), a request to Kafka or Elasticsearch is better large."""

    async def ack(self, output: str, entry: Entry) -> None:
        """The output delivered this entry's batches (entries are acknowledged in order)."""

    def close(self) -> None:
        """No more puts: readers drain what is there, then get None."""

    def depth(self) -> dict[str, dict[str, int]]:
        """Per output: batches, events and bytes not yet delivered."""


@dataclass
class _Held:
    entry: Entry
    waiting: set[str]
    on_stored: OnStored


@dataclass
class MemoryFeed:
    """A bounded in-memory queue shared by the outputs; an input is acked when every output has the batch."""

    outputs: list[str]
    capacity: int
    _held: deque[_Held] = field(default_factory=deque)
    _cursor: dict[str, int] = field(default_factory=dict)  # next seq each output reads
    _next_seq: int = 0
    _closed: bool = False
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def __post_init__(self) -> None:
        self._cursor = dict.fromkeys(self.outputs, 0)

    async def put(self, blob: bytes, count: int, on_stored: OnStored) -> bool:
        async with self._changed:
            await self._changed.wait_for(lambda: len(self._held) < self.capacity)
            self._held.append(_Held(Entry(self._next_seq, blob, count), set(self.outputs), on_stored))
            self._next_seq += 1
            self._changed.notify_all()
        return True  # never drops: a full memory feed blocks

    async def next(self, output: str, max_events: int = 0) -> Entry | None:
        async with self._changed:
            await self._changed.wait_for(lambda: self._closed or self._cursor[output] < self._next_seq)
            seq = self._cursor[output]
            if seq >= self._next_seq:
                return None
            base = self._held[0].entry.seq
            entries = [self._held[seq - base].entry]
            count = entries[0].count
            while seq + len(entries) < self._next_seq:
                following = self._held[seq + len(entries) - base].entry
                if count + following.count > max_events:
                    break
                entries.append(following)
                count += following.count
            self._cursor[output] = seq + len(entries)
            return joined(entries)

    async def ack(self, output: str, entry: Entry) -> None:
        async with self._changed:
            base = self._held[0].entry.seq
            for seq in entry.seqs:
                self._held[seq - base].waiting.discard(output)
            while self._held and not self._held[0].waiting:
                self._held.popleft().on_stored()
            self._changed.notify_all()

    def close(self) -> None:
        self._closed = True
        asyncio.get_running_loop().create_task(self._wake())

    async def _wake(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def depth(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for name in self.outputs:
            held = [h.entry for h in self._held if name in h.waiting]
            out[name] = {"batches": len(held), "events": sum(e.count for e in held),
                         "bytes": sum(len(e.blob) for e in held)}
        return out
