"""The spool as a feed: a batch is acknowledged to its input once it is on disk; outputs read at their pace.

Each output has a cursor (its last delivered batch). A batch leaves the spool when every output
configured now is past it. An output added since the last run starts at the oldest batch still
spooled; an output no longer configured loses its cursor (and stops holding batches back).

A batch that fails authentication (altered on disk, or moved from another spool) is quarantined,
logged and counted, and every output goes past it: one damaged row must not stop the agent at each start.

When delivered batches leave the spool and at most a quarter of the file is still in use, the file gives
the free space back (`SpoolStore.reclaim`, in a thread, in the background): after a long outage the spool
shrinks again once its backlog is delivered.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import deque
from pathlib import Path

from ucsiem.config import SpoolConfig
from ucsiem.errors import SpoolError
from ucsiem.pipeline.feed import Entry, OnStored, joined
from ucsiem.spool.crypto import DamagedBatch, SpoolCipher
from ucsiem.spool.store import BatchInfo, SpoolStore

log = logging.getLogger("ucsiem.spool")
RECLAIM_ROUNDS = 8  # reclaims in a row at most


class SpoolFeed:
    def __init__(self, cfg: SpoolConfig, store: SpoolStore, outputs: list[str]) -> None:
        self.cfg = cfg
        self.store = store
        self.outputs = outputs
        self.dropped_events = 0
        self.damaged_batches = 0  # quarantined in this run (counters, like dropped_events)
        self.damaged_events = 0
        self._damaged: set[int] = set()
        self._index: deque[BatchInfo] = deque(store.batches())
        self._bytes = sum(b.bytes for b in self._index)
        saved = store.cursors()
        for gone in sorted(set(saved) - set(outputs)):
            log.warning("Spool cursor of an output no longer configured is dropped.", extra={"output": gone})
        # Sequence numbers only grow, even across an empty spool: a cursor never points past new batches.
        last = max([*(b.seq for b in list(self._index)[-1:]), *saved.values(), -1])
        self._next_seq = last + 1
        start = self._index[0].seq - 1 if self._index else last
        self._cursor = {name: saved.get(name, start) for name in outputs}
        store.set_cursors(self._cursor)
        self._closed = False
        self._changed = asyncio.Condition()
        self._reclaiming: asyncio.Task[None] | None = None
        self._reclaim_due = False  # acknowledged since the running reclaim last judged the file
        self.reclaimed_bytes = 0  # given back to the file system in this run
        if self._index:
            log.info("Spool holds undelivered batches from the last run.",
                     extra={"path": str(store.path), "queued": self.depth()})

    @classmethod
    def open(cls, cfg: SpoolConfig, path: Path, outputs: list[str]) -> SpoolFeed:
        cipher = SpoolCipher.from_file(cfg.encryption_key_file) if cfg.encryption_key_file else None
        return cls(cfg, SpoolStore(path, cipher), outputs)

    async def put(self, blob: bytes, count: int, on_stored: OnStored) -> bool:
        """False: dropped as configured (`when_full: drop_newest`), counted and logged; `on_stored` is not
        called (see `Feed.put`: the caller tells the input, then acknowledges)."""
        async with self._changed:
            if self.cfg.when_full == "drop_newest" and self._full(len(blob)):
                self.dropped_events += count
                log.warning("Spool full: batch dropped as configured (when_full: drop_newest).",
                            extra={"events": count, "dropped_events_total": self.dropped_events})
                return False
            await self._changed.wait_for(lambda: not self._full(len(blob)))
            seq = self._next_seq
            self._next_seq += 1
            created = await asyncio.to_thread(self.store.append, seq, blob, count)
            self._index.append(BatchInfo(seq, count, len(blob), created))
            self._bytes += len(blob)
            self._changed.notify_all()
        on_stored()
        return True

    def _full(self, size: int) -> bool:
        return bool(self._index) and self._bytes + size > self.cfg.max_bytes

    async def next(self, output: str, max_events: int = 0) -> Entry | None:
        while True:
            async with self._changed:
                await self._changed.wait_for(lambda: self._closed or self._cursor[output] + 1 < self._next_seq)
                seq = self._cursor[output] + 1
                if seq >= self._next_seq:
                    return None
                info = self._index[seq - self._index[0].seq]
            if seq not in self._damaged:
                try:
                    blob = await asyncio.to_thread(self.store.read, seq)
                    return joined([Entry(seq, blob, info.events), *await self._following(seq, info.events, max_events)])
                except DamagedBatch as exc:
                    await self._quarantine(info, str(exc))
            await self.ack(output, Entry(seq, b"", 0))  # this output goes past the damaged batch

    async def _following(self, seq: int, count: int, max_events: int) -> list[Entry]:
        """The spooled batches after `seq` that fit in `max_events` with it. A damaged one ends them, not
        acknowledged: the output goes past it only after the batches before it are delivered."""
        out: list[Entry] = []
        while (after := seq + len(out) + 1) < self._next_seq and after not in self._damaged:
            info = self._index[after - self._index[0].seq]
            if count + info.events > max_events:
                break
            try:
                blob = await asyncio.to_thread(self.store.read, after)
            except DamagedBatch as exc:
                await self._quarantine(info, str(exc))
                break
            out.append(Entry(after, blob, info.events))
            count += info.events
        return out

    async def _quarantine(self, info: BatchInfo, reason: str) -> None:
        if info.seq in self._damaged:
            return
        self._damaged.add(info.seq)
        await asyncio.to_thread(self.store.quarantine, info.seq, reason)
        self.damaged_batches += 1
        self.damaged_events += info.events
        log.error("Spooled batch damaged: copied to the spool's quarantine table and skipped; the other batches "
                  "are delivered.", extra={"path": str(self.store.path), "batch": info.seq, "events": info.events,
                                           "reason": reason, "damaged_batches_total": self.damaged_batches})

    async def ack(self, output: str, entry: Entry) -> None:
        self._cursor[output] = entry.seq
        low = min(self._cursor.values())
        prune = low if self._index and self._index[0].seq <= low else None
        await asyncio.to_thread(self.store.advance, output, entry.seq, prune)
        async with self._changed:
            while self._index and self._index[0].seq <= low:
                self._bytes -= self._index.popleft().bytes
            self._changed.notify_all()
        if prune is not None and not self._closed:
            # A reclaim running now may have judged the file before this acknowledgement: it looks again.
            self._reclaim_due = True
            if self._reclaiming is None or self._reclaiming.done():
                self._reclaiming = asyncio.get_running_loop().create_task(self._reclaim())

    async def _reclaim(self) -> None:
        """Give the file's free space back when most of it is free (a backlog delivered); never fails the agent.

        It looks again as long as acknowledgements came meanwhile (`_reclaim_due`): one that came while the
        file was judged would otherwise start no reclaim of its own (this one was running), and a spool whose
        last batches were delivered then kept its size until the next batch came and went."""
        rounds = 0
        while self._reclaim_due and not self._closed and rounds < RECLAIM_ROUNDS:
            self._reclaim_due = False
            try:
                if not await asyncio.to_thread(self.store.wants_reclaim, empty=not self._index):
                    continue
                before, after = await asyncio.to_thread(self.store.reclaim)
            except (SpoolError, sqlite3.Error) as exc:
                log.warning("Spool could not give its free space back; it will try again.",
                            extra={"path": str(self.store.path), "error": str(exc)})
                return
            rounds += 1
            self._reclaim_due = True  # batches delivered meanwhile freed more: go on while that is worth it
            self.reclaimed_bytes += max(0, before - after)
            log.info("Spool gave free space back to the file system.",
                     extra={"path": str(self.store.path), "file_bytes_before": before, "file_bytes": after,
                            "queued_bytes": self._bytes})

    def file_bytes(self) -> int:
        """The spool file and its write-ahead log on disk, in bytes."""
        return self.store.file_bytes()

    def close(self) -> None:
        self._closed = True
        asyncio.get_running_loop().create_task(self._wake())

    async def _wake(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def depth(self) -> dict[str, dict[str, int]]:
        return queue_depth(list(self._index), self._cursor)

    def close_db(self) -> None:
        self.store.close()  # a reclaim still running stops at its next step


def queue_depth(batches: list[BatchInfo], cursors: dict[str, int]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for name, cursor in cursors.items():
        held = [b for b in batches if b.seq > cursor]
        out[name] = {"batches": len(held), "events": sum(b.events for b in held), "bytes": sum(b.bytes for b in held)}
    return out
