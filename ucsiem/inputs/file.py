"""The file input: reads the generations of the files its globs find and hands their records to the pipeline.

One task per input, split by job: which files (`file_discovery`), which generation each file holds and what
rotation did to it (`file_generation`), when to look again (`file_watch`), and here the reading itself:
chunks read from each open generation, framed into records and batched with what acknowledges them. Reading
never runs ahead of the pipeline by more than its in-flight bound: `emit` blocks while the pipeline is full,
and the file is the buffer. Files vanish, are renamed or lose their permission at any moment during rotation:
no call on a path or an open file ends this task (what was read is delivered and acknowledged, the file is
let go, the input goes on).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ucsiem.config import FileInputConfig
from ucsiem.inputs.checkpoint import FileEntry
from ucsiem.inputs.file_discovery import Discovery
from ucsiem.inputs.file_generation import (
    ANCHOR_BYTES,
    COMPARE_BYTES,
    FINGERPRINT_BYTES,
    Generations,
    Mark,
    Reader,
    anchor_of,
    fingerprint,
    head_matches,
    holds_position,
    same_bytes,
    same_generation,
)
from ucsiem.inputs.file_watch import Watcher
from ucsiem.inputs.framing import Frame
from ucsiem.inputs.syslog_record import SyslogBatch
from ucsiem.parsing.contract import ParserSpec
from ucsiem.pipeline.acks import AckTracker
from ucsiem.pipeline.work import safe_header_key

__all__ = [  # the identity helpers and Reader lived here before the split; importable from here still
    "ANCHOR_BYTES", "COMPARE_BYTES", "DETACHED_GRACE_SECS", "FINGERPRINT_BYTES", "Batch", "FileInput", "Mark", "Reader",
    "anchor_of", "fingerprint", "head_matches", "holds_position", "same_bytes", "same_generation",
]

log = logging.getLogger("ucsiem.input.file")

DETACHED_GRACE_SECS = 5.0  # keep reading a renamed/deleted file this long after its last growth


@dataclass
class Batch:
    """Frames of one file generation, in order, with what is needed to acknowledge them."""

    input_id: str
    entry_key: str
    seq: int
    source_key: str
    path: str
    frames: list[Frame]
    headers: dict[str, str]  # header lines known before the first frame
    reference_time: datetime
    # what a network input knows of a record beyond its text (syslog PRI, the peer): index -> fields
    record_fields: dict[int, dict[str, Any]] = field(default_factory=dict)
    syslog: SyslogBatch | None = None  # frames that are syslog messages as received (the workers parse them)


class FileInput:
    """One `type: file` input. `run(emit)` reads until `stop()` (or, with once, until every file ends)."""

    def __init__(self, cfg: FileInputConfig, spec: ParserSpec, entries: dict[str, FileEntry], *,
                 once: bool, batch_max_records: int, on_progress: Callable[[], None]) -> None:
        self.cfg = cfg
        self.spec = spec
        self.entries = entries  # shared with the checkpoint store: only acknowledged positions go in
        self.once = once
        self.batch_max_records = batch_max_records
        self.on_progress = on_progress
        self.discovery = Discovery(cfg)
        self.watcher = Watcher(cfg.id, self.discovery.folders(), self._unknown_wanted)
        self.generations = Generations(cfg, spec, entries, self.discovery, on_progress=on_progress,
                                       wake=self.watcher.wake)
        self._stopping = False
        self.bytes_read = 0

    @property
    def readers(self) -> dict[tuple[int, int], Reader]:
        return self.generations.readers

    @property
    def trackers(self) -> dict[str, AckTracker[Mark]]:
        return self.generations.trackers

    # -- public ------------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stopping = True
        self.watcher.wake()

    def ack(self, batch: Batch) -> None:
        self.trackers[batch.entry_key].ack(batch.seq)

    def dropped(self, batch: Batch) -> None:
        """The spool dropped the batch (`when_full: drop_newest`, counted there); `ack` follows: the position
        moves past it, as configured."""

    @property
    def in_flight(self) -> int:
        return sum(t.in_flight for t in self.trackers.values())

    async def run(self, emit: Callable[[Batch], Awaitable[None]]) -> None:
        loop = asyncio.get_running_loop()
        watcher = self.watcher
        if not self.once:
            watcher.start(loop)
        try:
            self._scan(initial=True)
            next_scan = time.monotonic() + self.cfg.scan_interval_secs
            while not self._stopping:
                progressed = False
                for reader in list(self.readers.values()):
                    if self._stopping:
                        break
                    for batch in self._read_guarded(reader):
                        await emit(batch)
                        progressed = True
                self._retire()
                if self.once and not progressed and all(r.done or r.fd is None for r in self.readers.values()):
                    break
                if time.monotonic() >= next_scan or watcher.rescan:
                    watcher.rescan = False
                    self._scan(initial=False)
                    next_scan = time.monotonic() + self.cfg.scan_interval_secs
                    continue
                if not progressed and not self.once:
                    await watcher.wait(self.cfg.poll_interval_secs)
                    self.generations.poll_closed()
                elif progressed:
                    await asyncio.sleep(0)
        finally:
            watcher.stop()
            for reader in self.readers.values():
                reader.close()

    def _scan(self, initial: bool) -> None:
        try:
            self.generations.scan(self.discovery.glob(), initial)
        except OSError as exc:  # every call on a path reports; this is the last guard for the task, not the plan
            log.warning("Scan of the input's files failed; retrying at the next one.",
                        extra={"input": self.cfg.id, "error": f"{exc.strerror or exc} ({exc.filename})"}, exc_info=True)

    def _read_guarded(self, reader: Reader) -> list[Batch]:
        """`_read`, with an I/O error no call there expected (every one reports) costing a retry, not the task."""
        try:
            return self._read(reader)
        except OSError as exc:
            self.discovery.warn_once(f"read:{reader.path}", f"reading {reader.path} failed ({exc.strerror or exc}); "
                                     "will retry")
            return []

    def _unknown_wanted(self, path: str) -> bool:
        return self.generations.unknown_wanted(path)

    # -- reading -----------------------------------------------------------------------------------

    def _read(self, reader: Reader) -> list[Batch]:
        if reader.fd is None or reader.done:
            return []
        position = reader.framer.position
        try:
            data = os.pread(reader.fd, self.cfg.read_chunk_bytes, position)
        except OSError as exc:
            self.discovery.warn_once(reader.path, f"read error on {reader.path}: {exc.strerror}; will retry")
            return []
        now = time.monotonic()
        if data:
            # checked after the read: if the file was replaced meanwhile, this data is dropped and read
            # again from the right place (the rotated copy, then the new generation from its start)
            if not (reader.oneshot or reader.detached) and self._replaced_in_place(reader):
                return []
            self.bytes_read += len(data)
            reader.last_growth = now
            if reader.entry.fp_len < FINGERPRINT_BYTES and not reader.oneshot:
                # a file first seen nearly empty: its identity grows with it to the full 1 KiB head at
                # once, not at the next scan (a few bytes of head match every generation of a log)
                with contextlib.suppress(OSError):  # else it grows at the next read
                    fp, fp_len, _ = fingerprint(reader.fd, position + len(data))
                    if fp_len > reader.entry.fp_len:
                        reader.entry.fingerprint, reader.entry.fp_len = fp, fp_len
            return self._batches(reader, reader.framer.feed(data))
        # at the end of the file
        if self.once or reader.oneshot:
            frames = reader.framer.flush(final=True)
            reader.done = not frames
            return self._batches(reader, frames)
        idle = now - reader.last_growth
        frames = reader.framer.flush() if idle >= self.spec.framing.flush_timeout_secs else []
        if frames:
            return self._batches(reader, frames)
        try:
            st = os.fstat(reader.fd)
        except OSError:
            return []
        reader.mtime = st.st_mtime
        if st.st_size < position and not reader.detached:
            self.generations.check_generation(reader, st)
        elif reader.detached and idle >= DETACHED_GRACE_SECS:
            # nobody writes a rotated file any more: an unterminated last line is complete
            frames = reader.framer.flush(final=True)
            reader.done = not frames
            return self._batches(reader, frames)
        elif idle >= self.cfg.close_inactive_secs:
            log.info("Closing inactive file.", extra={"input": self.cfg.id, "path": reader.path})
            reader.close()
        return []

    def _replaced_in_place(self, reader: Reader) -> bool:
        """Is the file still the generation we were reading? copytruncate followed by quick writes can
        take the size past our position before we look, so the size alone cannot tell; the head can
        (one 1 KiB pread and hash per read chunk of up to 1 MiB). A new generation goes to
        `Generations.check_generation`."""
        assert reader.fd is not None
        try:
            st = os.fstat(reader.fd)
            if head_matches(reader.fd, st.st_size, reader.entry):
                return False
        except OSError:
            return False  # the read itself worked: the next one checks again
        self.generations.check_generation(reader, st)
        return True

    def _batches(self, reader: Reader, frames: list[Frame]) -> list[Batch]:
        out: list[Batch] = []
        header_key = self.spec.header_key
        step = self.batch_max_records
        ref = datetime.fromtimestamp(reader.mtime or time.time(), UTC)
        for i in range(0, len(frames), step):
            chunk = frames[i:i + step]
            headers_before = reader.headers
            if header_key is not None:
                for frame in chunk:
                    if frame.data and (key := safe_header_key(header_key, frame.data)) is not None:
                        reader.headers = {**reader.headers, key: frame.data.decode("utf-8", "replace")}
            end = chunk[-1].end
            try:
                anchor = anchor_of(reader.fd, end) if reader.fd is not None else ""
            except OSError:
                anchor = ""
            seq = reader.tracker.register(end, Mark(reader.headers, anchor))
            reader.emitted_end = end
            out.append(Batch(self.cfg.id, reader.key, seq, f"{self.cfg.id}:{reader.entry.head_id}", reader.path,
                             chunk, headers_before, ref))
        return out

    def _retire(self) -> None:
        """Close finished readers of rotated files and copies. A drained copy still under the globs stays
        known, closed and finished, until it leaves them: found again by a scan, it is not read again (it
        may end before our position, when we read lines the copy missed, which is no truncation)."""
        for ident, reader in list(self.readers.items()):
            if reader.done and (reader.detached or reader.oneshot or self.once):
                reader.close()
                if not self.once and (reader.detached or not reader.oneshot):
                    del self.readers[ident]
