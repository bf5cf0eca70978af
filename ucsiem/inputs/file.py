"""Tail files: globbing, change notification with a polling fallback, rotation, and positions.

A file *generation* is one stream of bytes we read from its start: identified by device + inode and
a fingerprint of its head (the first up-to-1024 bytes). That identity survives rename rotation
(same inode), recognises a copytruncate copy (same head, new inode) and a truncated or reused inode
(head changed, or the saved position is past the end). Reading never runs ahead of the pipeline by
more than its in-flight bound: `emit` blocks while the pipeline is full, and the file is the buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import glob
import hashlib
import logging
import os
import stat
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from ucsiem.config import FileInputConfig
from ucsiem.inputs.checkpoint import FileEntry
from ucsiem.inputs.framing import Frame, Framer
from ucsiem.inputs.syslog_record import SyslogBatch
from ucsiem.parsing.contract import ParserSpec
from ucsiem.pipeline.acks import AckTracker
from ucsiem.pipeline.work import safe_header_key

log = logging.getLogger("ucsiem.input.file")

FINGERPRINT_BYTES = 1024
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


@dataclass
class Reader:
    key: str
    entry: FileEntry  # acknowledged state, persisted by the checkpoint committer
    path: str
    dev: int
    ino: int
    framer: Framer
    tracker: AckTracker[Mark]
    headers: dict[str, str]
    fd: int | None = None
    emitted_end: int = 0  # end of the last frame handed to the pipeline
    last_growth: float = field(default_factory=time.monotonic)
    mtime: float = 0.0
    detached: bool = False  # the path no longer leads to this file (renamed away or deleted)
    oneshot: bool = False  # a rotated copy being drained: close at its end
    done: bool = False

    def close(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None


def fingerprint(fd: int, size: int) -> tuple[str, int, str]:
    """(hash of the head, its length, hash of the first line): the identity of a generation."""
    head = os.pread(fd, min(size, FINGERPRINT_BYTES), 0)
    nl = head.find(b"\n")
    first_line = head[: nl + 1] if nl >= 0 else head
    return (
        hashlib.blake2b(head, digest_size=16).hexdigest(),
        len(head),
        hashlib.blake2b(first_line, digest_size=8).hexdigest(),
    )


def head_matches(fd: int, size: int, entry: FileEntry) -> bool:
    if entry.fp_len == 0:
        return True
    if size < entry.fp_len:
        return False
    return hashlib.blake2b(os.pread(fd, entry.fp_len, 0), digest_size=16).hexdigest() == entry.fingerprint


ANCHOR_BYTES = 64
COMPARE_BYTES = 4096


class Mark(NamedTuple):
    """What a generation's entry records when a batch is acknowledged, besides the offset."""

    headers: dict[str, str]
    anchor: str


def anchor_of(fd: int, end: int) -> str:
    """Hash of the (up to 64) bytes before `end`: with the head, what tells a generation's file from
    another that starts the same (CDR files share a long header)."""
    n = min(ANCHOR_BYTES, end)
    if n <= 0:
        return ""
    data = os.pread(fd, n, end - n)
    return hashlib.blake2b(data, digest_size=8).hexdigest() if len(data) == n else ""


def same_bytes(fd_a: int, fd_b: int, end: int) -> bool:
    """The two files hold the same (up to 4 KiB of) bytes before `end`."""
    n = min(COMPARE_BYTES, end)
    return n <= 0 or os.pread(fd_a, n, end - n) == os.pread(fd_b, n, end - n)


def holds_position(fd: int, st: os.stat_result, entry: FileEntry) -> bool:
    """The file has the entry's head and, at the delivered position, the bytes before it (the head alone
    may be what every generation starts with: a long CDR header, or a time-stamp prefix when the file was
    first seen nearly empty)."""
    return (entry.fp_len > 0 and st.st_size >= entry.offset and head_matches(fd, st.st_size, entry)
            and (not entry.anchor or anchor_of(fd, entry.offset) == entry.anchor))


def same_generation(fd: int, st: os.stat_result, entry: FileEntry) -> bool:
    """Does this file (of another inode) hold the generation of `entry`? `holds_position`; or, for a copy
    ending before that position (copytruncate's copy, when we delivered lines written between the copy
    and the truncation), the same head and older than that delivery."""
    if st.st_size >= entry.offset:
        return holds_position(fd, st, entry)
    return entry.fp_len > 0 and head_matches(fd, st.st_size, entry) and st.st_mtime <= entry.updated


class FileInput:
    """One `type: file` input. `run(emit)` reads until `stop()` (or, with once, until every file ends)."""

    def __init__(self, cfg: FileInputConfig, spec: ParserSpec, entries: dict[str, FileEntry], *,
                 once: bool, batch_max_records: int, on_progress: Callable[[], None]) -> None:
        self.cfg = cfg
        self.spec = spec
        self.entries = entries  # shared with the registry: only acknowledged positions go in
        self.once = once
        self.batch_max_records = batch_max_records
        self.on_progress = on_progress
        self.readers: dict[tuple[int, int], Reader] = {}
        self.trackers: dict[str, AckTracker[Mark]] = {}
        # copies of generations being read (copytruncate's, seen before the truncation): file -> entry key
        self._copies: dict[tuple[int, int], str] = {}
        self._stopping = False
        self._wake = asyncio.Event()  # data may be ready: do not sleep
        self._rescan = False  # names changed (created, moved, deleted): expand the globs now
        self._observer: object | None = None
        self._warned: set[str] = set()
        self.bytes_read = 0

    # -- public ------------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

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
        if not self.once:
            self._start_watch(loop)
        try:
            self._scan(initial=True)
            next_scan = time.monotonic() + self.cfg.scan_interval_secs
            while not self._stopping:
                progressed = False
                for reader in list(self.readers.values()):
                    if self._stopping:
                        break
                    for batch in self._read(reader):
                        await emit(batch)
                        progressed = True
                self._retire()
                if self.once and not progressed and all(r.done or r.fd is None for r in self.readers.values()):
                    break
                if time.monotonic() >= next_scan or self._rescan:
                    self._rescan = False
                    self._scan(initial=False)
                    next_scan = time.monotonic() + self.cfg.scan_interval_secs
                    continue
                if not progressed and not self.once:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.cfg.poll_interval_secs)
                    self._wake.clear()
                    self._poll_sizes()
                elif progressed:
                    await asyncio.sleep(0)
        finally:
            self._stop_watch()
            for reader in self.readers.values():
                reader.close()

    # -- discovery ---------------------------------------------------------------------------------

    def _glob(self) -> dict[tuple[int, int], tuple[str, os.stat_result]]:
        found: dict[tuple[int, int], tuple[str, os.stat_result]] = {}
        for pattern in self.cfg.paths:
            for path in sorted(glob.glob(pattern)):
                if self._excluded(path):
                    continue
                try:
                    st = os.stat(path)
                except OSError as exc:
                    self._warn_once(path, f"cannot stat {path}: {exc.strerror}")
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue
                if not os.access(path, os.R_OK):
                    self._warn_once(path, f"cannot read {path}: permission denied (give the agent's user read access)")
                    continue
                found.setdefault((st.st_dev, st.st_ino), (path, st))
        return found

    def _scan(self, initial: bool) -> None:
        found = self._glob()
        for ident, reader in list(self.readers.items()):
            if self.readers.get(ident) is not reader:
                continue  # replaced during this scan (its generation moved to a copy)
            loc = found.pop(ident, None)
            if loc is None:
                if reader.fd is None and not reader.oneshot:
                    del self.readers[ident]  # closed and gone from the globs: nothing more to read
                    continue
                if not reader.detached and not reader.oneshot:
                    log.info("File renamed or deleted; reading it to its end.",
                             extra={"input": self.cfg.id, "path": reader.path})
                reader.detached = True
                continue
            reader.path = reader.entry.path = loc[0]
            reader.detached = False
            self._check_generation(reader, loc[1])
        live = {r.key for r in self.readers.values()}
        for ident, (path, st) in found.items():
            if ident in self.readers or st.st_size == 0:
                continue  # opened meanwhile (a copy being drained); or nothing to identify or read yet
            if self._copies.get(ident) in live:
                continue  # a copy of a generation we are reading: read only if that one is truncated
            self._copies.pop(ident, None)
            self._open_new(path, st, initial)
        if initial:
            self._recover_orphans()
        else:
            self._forget_gone()

    def _open(self, path: str) -> int | None:
        """Open for reading; a file that vanished or cannot be read meanwhile is reported, never raised."""
        try:
            return os.open(path, os.O_RDONLY)
        except OSError as exc:
            self._warn_once(path, f"cannot open {path}: {exc.strerror}")
            return None

    def _open_new(self, path: str, st: os.stat_result, initial: bool,
                  headers: dict[str, str] | None = None) -> None:
        fd = self._open(path)
        if fd is None:
            return
        owned = {r.key for r in self.readers.values()}
        entry_key, start = None, 0
        # same inode, same head and the same bytes before the position: our file, resume where delivery
        # stopped (a new file on a reused inode may start with the same header: CDR files)
        for key, entry in self.entries.items():
            if key in owned or (entry.dev, entry.ino) != (st.st_dev, st.st_ino):
                continue
            if holds_position(fd, st, entry):
                entry_key, start = key, entry.offset
                break
        if entry_key is None and self._claimed_as_copy(fd, path, st):
            os.close(fd)
            return
        if entry_key is None:
            # same head and bytes before the position, other inode, and the entry's own file is gone:
            # a copy or a move of a generation read before
            for key, entry in sorted(self.entries.items(), key=lambda kv: -kv[1].fp_len):
                if key in owned or entry.fp_len == 0 or self._entry_alive(entry):
                    continue
                if same_generation(fd, st, entry):
                    entry_key, start = key, entry.offset
                    break
        if entry_key is None:
            start = st.st_size if (initial and self.cfg.start_at == "end") else 0
        elif (tracker := self.trackers.get(entry_key)) is not None and tracker.registered_end is not None:
            start = max(start, tracker.registered_end)  # its batches are still in the pipeline: go on after them
        self._attach(fd, path, st, entry_key, start, oneshot=False, headers=headers)

    def _claimed_as_copy(self, fd: int, path: str, st: os.stat_result) -> bool:
        """Is this new file copytruncate's copy of a generation we are reading? Same head, and the same bytes
        before the copy's end and before our position while the original is intact: then it is that
        generation, remembered as its copy and read only if the original is truncated (from where we were
        in it). If the original was truncated already, its generation moves to the copy now."""
        for reader in list(self.readers.values()):
            if reader.fd is None or reader.oneshot or reader.done or not head_matches(fd, st.st_size, reader.entry):
                continue
            try:
                original = os.fstat(reader.fd)
            except OSError:
                continue
            if original.st_size < reader.framer.position or not head_matches(reader.fd, original.st_size,
                                                                              reader.entry):
                self._check_generation(reader, original)  # truncated under us: drains the copy, maybe this one
                if (st.st_dev, st.st_ino) in self.readers:
                    return True
                continue
            ends = {st.st_size, min(reader.emitted_end, st.st_size)}
            if original.st_size >= st.st_size and all(same_bytes(fd, reader.fd, end) for end in ends):
                self._copies[(st.st_dev, st.st_ino)] = reader.key
                log.info("A copy of a file being read; it is read only if the original is truncated.",
                         extra={"input": self.cfg.id, "path": path, "original": reader.path})
                return True
        return False

    def _attach(self, fd: int, path: str, st: os.stat_result, entry_key: str | None, start: int,
                oneshot: bool, headers: dict[str, str] | None = None) -> Reader:
        fp, fp_len, head_id = fingerprint(fd, st.st_size)
        if entry_key is None:
            entry_key = uuid.uuid4().hex[:16]
            inherited = self._inherited_headers(path) if headers is None else dict(headers)
            self.entries[entry_key] = FileEntry(path=path, dev=st.st_dev, ino=st.st_ino, fingerprint=fp,
                                                fp_len=fp_len, head_id=head_id, offset=start, updated=time.time(),
                                                headers=inherited)
            log.info("Reading new file.", extra={"input": self.cfg.id, "path": path, "offset": start})
            self.on_progress()  # persist the start position now (with start_at: end, it is a decision)
        else:
            entry = self.entries[entry_key]
            entry.path, entry.dev, entry.ino = path, st.st_dev, st.st_ino
            log.info("Resuming file.", extra={"input": self.cfg.id, "path": path, "offset": start})
            self.on_progress()  # the generation may have moved to another file: say where it is now
        entry = self.entries[entry_key]
        if fp_len > entry.fp_len and start <= st.st_size:
            entry.fingerprint, entry.fp_len = fp, fp_len
        tracker = self.trackers.get(entry_key) or self._tracker(entry_key)
        reader = Reader(entry_key, entry, path, st.st_dev, st.st_ino,
                        Framer(self.spec.framing, self.cfg.max_record_bytes, start), tracker,
                        dict(entry.headers) if headers is None else dict(headers), fd=fd, emitted_end=start,
                        mtime=st.st_mtime, oneshot=oneshot)
        self.readers[(st.st_dev, st.st_ino)] = reader
        self._wake.set()
        return reader

    def _inherited_headers(self, path: str) -> dict[str, str]:
        """A device that sends its CDR header once keeps sending rows after the receiver rotates the file:
        the new generation at the same path starts with the header lines of the previous one."""
        previous = [e for e in self.entries.values() if e.path == path and e.headers]
        return dict(max(previous, key=lambda e: e.updated).headers) if previous else {}

    def _tracker(self, entry_key: str) -> AckTracker[Mark]:
        def advance(offset: int, mark: Mark) -> None:
            entry = self.entries.get(entry_key)
            if entry is not None:
                entry.offset = offset
                entry.headers = mark.headers
                entry.anchor = mark.anchor
                entry.updated = time.time()
                self.on_progress()

        tracker: AckTracker[Mark] = AckTracker(advance)
        self.trackers[entry_key] = tracker
        return tracker

    def _entry_alive(self, entry: FileEntry) -> bool:
        """Does the entry's own file still hold its generation (then a same-head file is another file)?"""
        try:
            fd = os.open(entry.path, os.O_RDONLY)
        except OSError:
            return False
        try:
            st = os.fstat(fd)
            return (st.st_dev, st.st_ino) == (entry.dev, entry.ino) and holds_position(fd, st, entry)
        finally:
            os.close(fd)

    def _check_generation(self, reader: Reader, st: os.stat_result) -> None:
        """Truncated (size below our position) or rewritten (head changed): the file is a new generation."""
        if reader.oneshot or (reader.fd is None and st.st_size == reader.framer.position):
            return
        fd = reader.fd if reader.fd is not None else self._open(reader.path)
        if fd is None:
            return
        try:
            same = st.st_size >= reader.framer.position and head_matches(fd, st.st_size, reader.entry)
        finally:
            if reader.fd is None:
                os.close(fd)
        if same:
            if reader.entry.fp_len < FINGERPRINT_BYTES and st.st_size > reader.entry.fp_len and reader.fd is not None:
                reader.entry.fingerprint, reader.entry.fp_len, _ = fingerprint(reader.fd, st.st_size)
            if reader.fd is None and st.st_size > reader.framer.position:
                self._reopen(reader)
            return
        log.warning("File truncated or replaced in place; reading it again from the start.",
                    extra={"input": self.cfg.id, "path": reader.path, "offset": reader.framer.position,
                           "size": st.st_size})
        reader.close()
        reader.done = True
        del self.readers[(reader.dev, reader.ino)]
        self._recover_copy(reader)
        if st.st_size > 0:
            self._open_new(reader.path, st, initial=False, headers=reader.headers)

    def _recover_copy(self, reader: Reader) -> None:
        """copytruncate: lines written after our last read went to the copy only. The generation moves to
        the copy (same entry, same acknowledgements, same event ids) and is read there from where we were."""
        folder = os.path.dirname(reader.path) or "."
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            return
        best: tuple[int, str, int] | None = None  # size, path, open fd of the largest matching file
        for name in names:
            path = os.path.join(folder, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            if ((st.st_dev, st.st_ino) in self.readers or (st.st_dev, st.st_ino) == (reader.dev, reader.ino)
                    or not stat.S_ISREG(st.st_mode) or self._excluded(path)):
                continue
            fd = self._open(path)
            if fd is None:
                continue
            if head_matches(fd, st.st_size, reader.entry) and (best is None or st.st_size > best[0]):
                if best is not None:
                    os.close(best[2])
                best = (st.st_size, path, fd)
            else:
                os.close(fd)
        if best is None:
            return
        _, path, fd = best
        st = os.fstat(fd)
        log.info("Draining the rotated copy of a truncated file.",
                 extra={"input": self.cfg.id, "path": path, "offset": reader.emitted_end})
        self._copies.pop((st.st_dev, st.st_ino), None)
        self._attach(fd, path, st, reader.key, reader.emitted_end, oneshot=True, headers=reader.headers)

    def _recover_orphans(self) -> None:
        """At start: entries whose file was rotated out of the globs while we were down."""
        owned = {r.key for r in self.readers.values()}
        for key, entry in list(self.entries.items()):
            if key in owned:
                continue
            found = self._drain_sibling(key, entry)
            if found is None:
                log.warning("A file read before is gone; forgetting it (anything written to it after the last "
                            "delivered position and not found in a rotated copy cannot be recovered).",
                            extra={"input": self.cfg.id, "path": entry.path, "offset": entry.offset})
            elif found:
                continue
            else:
                log.info("A file read before is being read under another name; its old entry is dropped.",
                         extra={"input": self.cfg.id, "path": entry.path})
            del self.entries[key]

    def _drain_sibling(self, key: str, entry: FileEntry) -> bool | None:
        """True: found and drained; False: its bytes are in a file read under another entry; None: gone."""
        folder = os.path.dirname(entry.path) or "."
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            return None
        candidates = []
        for name in names:
            path = os.path.join(folder, name)
            if self._excluded(path):
                continue
            try:
                st = os.stat(path)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            same_inode = (st.st_dev, st.st_ino) == (entry.dev, entry.ino)
            candidates.append(((st.st_dev, st.st_ino) in self.readers, not same_inode, path, st))
        for taken, _, path, st in sorted(candidates):
            fd = self._open(path)
            if fd is None:
                continue
            if not same_generation(fd, st, entry):
                os.close(fd)
                continue
            if taken:
                os.close(fd)
                return False
            log.info("Found a file read before under a new name; draining it.",
                     extra={"input": self.cfg.id, "path": path, "offset": entry.offset})
            self._attach(fd, path, st, key, entry.offset, oneshot=True)
            return True
        return None

    # -- reading -----------------------------------------------------------------------------------

    def _reopen(self, reader: Reader) -> None:
        try:
            reader.fd = os.open(reader.path, os.O_RDONLY)
            reader.last_growth = time.monotonic()
        except OSError as exc:
            self._warn_once(reader.path, f"cannot reopen {reader.path}: {exc.strerror}")

    def _read(self, reader: Reader) -> list[Batch]:
        if reader.fd is None or reader.done:
            return []
        position = reader.framer.position
        try:
            data = os.pread(reader.fd, self.cfg.read_chunk_bytes, position)
        except OSError as exc:
            self._warn_once(reader.path, f"read error on {reader.path}: {exc.strerror}; will retry")
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
            self._check_generation(reader, st)
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
        `_check_generation`."""
        assert reader.fd is not None
        try:
            st = os.fstat(reader.fd)
        except OSError:
            return False
        if head_matches(reader.fd, st.st_size, reader.entry):
            return False
        self._check_generation(reader, st)
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

    def _forget_gone(self) -> None:
        """Drop entries of files that are gone and fully delivered (at scan time: this opens files)."""
        live = {r.key for r in self.readers.values()}
        for key in list(self.entries):
            tracker = self.trackers.get(key)
            if key not in live and (tracker is None or tracker.in_flight == 0) and not self._entry_alive(
                    self.entries[key]):
                del self.entries[key]
                self.trackers.pop(key, None)
                self.on_progress()

    def _poll_sizes(self) -> None:
        """Polling fallback: reopen closed files that grew; notice truncation of idle files."""
        for reader in list(self.readers.values()):
            if reader.fd is not None or reader.done:
                continue
            try:
                st = os.stat(reader.path)
            except OSError:
                continue
            if (st.st_dev, st.st_ino) == (reader.dev, reader.ino) and st.st_size != reader.framer.position:
                self._check_generation(reader, st)

    def _excluded(self, path: str) -> bool:
        name = os.path.basename(path)
        return any(fnmatch.fnmatch(name, ex) or fnmatch.fnmatch(path, ex) for ex in self.cfg.exclude)

    def _unknown_wanted(self, path: str) -> bool:
        """A file under the globs that no reader has. Runs on every change notification: the file being
        read (the usual case) is answered without a system call; another one costs one stat."""
        if any(r.path == path and not r.detached for r in self.readers.values()):
            return False
        if not any(fnmatch.fnmatch(path, pattern) for pattern in self.cfg.paths) or self._excluded(path):
            return False
        try:
            st = os.stat(path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) not in self.readers and (st.st_dev, st.st_ino) not in self._copies

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message, extra={"input": self.cfg.id})

    # -- change notification -----------------------------------------------------------------------

    def _start_watch(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            from watchdog.events import FileSystemEvent, FileSystemEventHandler
            from watchdog.observers import Observer
        except ImportError:  # pragma: no cover - watchdog is a dependency
            return
        def notify(kind: str, path: str) -> None:
            # a new, moved or deleted name re-expands the globs; so does the first write to a file we do
            # not read yet (rotation creates the new file empty: it is opened when it gets its first line,
            # not at the next periodic scan); other writes only wake the reader
            if kind in ("created", "moved", "deleted") or (kind == "modified" and self._unknown_wanted(path)):
                self._rescan = True
            self._wake.set()

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                loop.call_soon_threadsafe(notify, event.event_type, os.fsdecode(event.src_path))

        folders = {os.path.dirname(p) or "." for p in self.cfg.paths}
        observer = Observer()
        try:
            for folder in folders:
                if not glob.has_magic(folder) and os.path.isdir(folder):
                    observer.schedule(Handler(), folder, recursive=False)
            observer.daemon = True
            observer.start()
        except OSError as exc:
            log.warning("Change notification unavailable; polling instead.",
                        extra={"input": self.cfg.id, "error": str(exc)})
            return
        self._observer = observer

    def _stop_watch(self) -> None:
        observer = self._observer
        if observer is not None:
            observer.stop()  # type: ignore[attr-defined]
            self._observer = None
