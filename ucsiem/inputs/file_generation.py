"""File generations: which stream of bytes a file holds, and what becomes of it when logs rotate.

A file *generation* is one stream of bytes we read from its start: identified by device + inode and
a fingerprint of its head (the first up-to-1024 bytes). That identity survives rename rotation
(same inode), recognises a copytruncate copy (same head, new inode) and a truncated or reused inode
(head changed, or the saved position is past the end). `Generations` keeps the bookkeeping: the readers
open on files, the checkpoint entries (acknowledged positions) they advance, the copies known to be
copytruncate's, and what a scan, a truncation or a restart changes in them.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from ucsiem.config import FileInputConfig
from ucsiem.inputs.checkpoint import FileEntry
from ucsiem.inputs.file_discovery import Discovery, Found, Ident
from ucsiem.inputs.framing import Framer
from ucsiem.parsing.contract import ParserSpec
from ucsiem.pipeline.acks import AckTracker

log = logging.getLogger("ucsiem.input.file")

FINGERPRINT_BYTES = 1024
ANCHOR_BYTES = 64
COMPARE_BYTES = 4096


class Mark(NamedTuple):
    """What a generation's entry records when a batch is acknowledged, besides the offset."""

    headers: dict[str, str]
    anchor: str


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


# -- identity ---------------------------------------------------------------------------------------------------

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


def holds_reader_position(fd: int, st: os.stat_result, reader: Reader) -> bool:
    """The file still holds the reader's generation up to where it read (not truncated, not rewritten)."""
    return st.st_size >= reader.framer.position and head_matches(fd, st.st_size, reader.entry)


def same_generation(fd: int, st: os.stat_result, entry: FileEntry) -> bool:
    """Does this file (of another inode) hold the generation of `entry`? `holds_position`; or, for a copy
    ending before that position (copytruncate's copy, when we delivered lines written between the copy
    and the truncation), the same head and older than that delivery."""
    if st.st_size >= entry.offset:
        return holds_position(fd, st, entry)
    return entry.fp_len > 0 and head_matches(fd, st.st_size, entry) and st.st_mtime <= entry.updated


# -- bookkeeping ------------------------------------------------------------------------------------------------

class Generations:
    """The generations one input reads: readers by file identity, entries by generation key (shared with the
    checkpoint store: only acknowledged positions go in), their ack trackers, and copytruncate's copies."""

    def __init__(self, cfg: FileInputConfig, spec: ParserSpec, entries: dict[str, FileEntry], discovery: Discovery,
                 *, on_progress: Callable[[], None], wake: Callable[[], None]) -> None:
        self.cfg = cfg
        self.spec = spec
        self.entries = entries
        self.discovery = discovery
        self.on_progress = on_progress
        self.wake = wake  # a reader was attached: read now
        self.readers: dict[Ident, Reader] = {}
        self.trackers: dict[str, AckTracker[Mark]] = {}
        # copies of generations being read (copytruncate's, seen before the truncation): file -> entry key
        self.copies: dict[Ident, str] = {}

    def scan(self, found: Found, initial: bool) -> None:
        """Apply what the globs find now: renamed, deleted, truncated and new files."""
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
            self.check_generation(reader, loc[1])
        live = {r.key for r in self.readers.values()}
        for ident, (path, st) in found.items():
            if ident in self.readers or st.st_size == 0:
                continue  # opened meanwhile (a copy being drained); or nothing to identify or read yet
            if self.copies.get(ident) in live:
                continue  # a copy of a generation we are reading: read only if that one is truncated
            self.copies.pop(ident, None)
            self.open_new(path, st, initial)
        if initial:
            self.recover_orphans()
        else:
            self.forget_gone()

    def open_new(self, path: str, st: os.stat_result, initial: bool, headers: dict[str, str] | None = None) -> None:
        fd = self.discovery.open(path)
        if fd is None:
            return  # gone (or not readable) since the glob: nothing of it was read, a later scan retries
        try:
            self._open_new(fd, path, st, initial, headers)
        except OSError as exc:  # reading the head of the file (or of another we compared it with) failed
            with contextlib.suppress(OSError):
                os.close(fd)
            self.discovery.warn_once(path, f"cannot identify {path}: {exc.strerror}; will retry")

    def _open_new(self, fd: int, path: str, st: os.stat_result, initial: bool, headers: dict[str, str] | None) -> None:
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
        if entry_key is None and self.claimed_as_copy(fd, path, st):
            os.close(fd)
            return
        finished_copy = False
        if entry_key is None:
            # same head and bytes before the position, other inode, and the entry's own file is gone:
            # a copy or a move of a generation read before
            for key, entry in sorted(self.entries.items(), key=lambda kv: -kv[1].fp_len):
                if key in owned or entry.fp_len == 0 or self.entry_alive(entry):
                    continue
                if same_generation(fd, st, entry):
                    entry_key, start = key, entry.offset
                    # copytruncate's copy that ends before the position (we read the lines it missed from the
                    # original): finished, as a drained copy is; read as a live file, it looked truncated
                    finished_copy = st.st_size < entry.offset
                    break
        if entry_key is None:
            start = st.st_size if (initial and self.cfg.start_at == "end") else 0
        elif (tracker := self.trackers.get(entry_key)) is not None and tracker.registered_end is not None:
            start = max(start, tracker.registered_end)  # its batches are still in the pipeline: go on after them
        self.attach(fd, path, st, entry_key, start, oneshot=finished_copy, headers=headers)

    def claimed_as_copy(self, fd: int, path: str, st: os.stat_result) -> bool:
        """Is this new file copytruncate's copy of a generation we are reading? Same head, and the same bytes
        before the copy's end and before our position while the original is intact: then it is that
        generation, remembered as its copy and read only if the original is truncated (from where we were
        in it). If the original was truncated already, or is while we compare (logrotate truncates right after
        its copy), its generation moves to the copy now."""
        for reader in list(self.readers.values()):
            if reader.fd is None or reader.oneshot or reader.done or not head_matches(fd, st.st_size, reader.entry):
                continue
            try:
                original = os.fstat(reader.fd)
                if holds_reader_position(reader.fd, original, reader):
                    if self._copy_of(fd, st, reader, original):
                        self.copies[(st.st_dev, st.st_ino)] = reader.key
                        log.info("A copy of a file being read; it is read only if the original is truncated.",
                                 extra={"input": self.cfg.id, "path": path, "original": reader.path})
                        return True
                    original = os.fstat(reader.fd)  # not its copy: another file, or truncated meanwhile?
                    if holds_reader_position(reader.fd, original, reader):
                        continue
            except OSError:
                continue
            self.check_generation(reader, original)  # truncated under us: drains the copy, maybe this one
            if (st.st_dev, st.st_ino) in self.readers:
                return True
        return False

    @staticmethod
    def _copy_of(fd: int, st: os.stat_result, reader: Reader, original: os.stat_result) -> bool:
        """The new file `fd` holds the bytes of the reader's file before its own end and before our position."""
        assert reader.fd is not None
        ends = {st.st_size, min(reader.emitted_end, st.st_size)}
        return original.st_size >= st.st_size and all(same_bytes(fd, reader.fd, end) for end in ends)

    def attach(self, fd: int, path: str, st: os.stat_result, entry_key: str | None, start: int,
               oneshot: bool, headers: dict[str, str] | None = None) -> Reader:
        fp, fp_len, head_id = fingerprint(fd, st.st_size)
        if entry_key is None:
            entry_key = uuid.uuid4().hex[:16]
            inherited = self.inherited_headers(path) if headers is None else dict(headers)
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
        tracker = self.trackers.get(entry_key) or self.tracker(entry_key)
        reader = Reader(entry_key, entry, path, st.st_dev, st.st_ino,
                        Framer(self.spec.framing, self.cfg.max_record_bytes, start), tracker,
                        dict(entry.headers) if headers is None else dict(headers), fd=fd, emitted_end=start,
                        mtime=st.st_mtime, oneshot=oneshot)
        self.readers[(st.st_dev, st.st_ino)] = reader
        self.wake()
        return reader

    def inherited_headers(self, path: str) -> dict[str, str]:
        """A device that sends its CDR header once keeps sending rows after the receiver rotates the file:
        the new generation at the same path starts with the header lines of the previous one."""
        previous = [e for e in self.entries.values() if e.path == path and e.headers]
        return dict(max(previous, key=lambda e: e.updated).headers) if previous else {}

    def tracker(self, entry_key: str) -> AckTracker[Mark]:
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

    def entry_alive(self, entry: FileEntry) -> bool:
        """Does the entry's own file still hold its generation (then a same-head file is another file)? A file
        that is there but cannot be read now (permission, I/O error) counts as alive when its name still
        leads to its inode: its entry is not forgotten, nor given to another file, for an error that may pass."""
        try:
            fd = os.open(entry.path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        except OSError:
            return self._still_there(entry)
        try:
            st = os.fstat(fd)
            return (st.st_dev, st.st_ino) == (entry.dev, entry.ino) and holds_position(fd, st, entry)
        except OSError:
            return self._still_there(entry)
        finally:
            os.close(fd)

    @staticmethod
    def _still_there(entry: FileEntry) -> bool:
        try:
            st = os.stat(entry.path)
        except FileNotFoundError:
            return False
        except OSError:
            return True  # its folder cannot be searched now: nothing says it is gone
        return (st.st_dev, st.st_ino) == (entry.dev, entry.ino)

    def check_generation(self, reader: Reader, st: os.stat_result) -> None:
        """Truncated (size below our position) or rewritten (head changed): the file is a new generation."""
        if reader.oneshot or (reader.fd is None and st.st_size == reader.framer.position):
            return
        fd = reader.fd if reader.fd is not None else self.discovery.open(reader.path)
        if fd is None:
            return  # gone since the stat: the next scan finds it renamed (read to its end) or deleted
        try:
            same = holds_reader_position(fd, st, reader)
        except OSError:
            return  # cannot read its head now: decide at the next look, not on a guess
        finally:
            if reader.fd is None:
                os.close(fd)
        if same:
            if reader.entry.fp_len < FINGERPRINT_BYTES and st.st_size > reader.entry.fp_len and reader.fd is not None:
                with contextlib.suppress(OSError):  # it grows at the next read otherwise
                    reader.entry.fingerprint, reader.entry.fp_len, _ = fingerprint(reader.fd, st.st_size)
            if reader.fd is None and st.st_size > reader.framer.position:
                self.reopen(reader)
            return
        log.warning("File truncated or replaced in place; reading it again from the start.",
                    extra={"input": self.cfg.id, "path": reader.path, "offset": reader.framer.position,
                           "size": st.st_size})
        reader.close()
        reader.done = True
        del self.readers[(reader.dev, reader.ino)]
        self.recover_copy(reader)
        if st.st_size > 0:
            self.open_new(reader.path, st, initial=False, headers=reader.headers)

    def reopen(self, reader: Reader) -> None:
        """A closed (inactive) reader's file grew: open it again. Its name may lead elsewhere by now (rotation
        renamed it, and maybe created a new file there): then its file is looked for by identity beside it,
        and read to its end under its new name; a deleted file is let go (the next scan drops the reader)."""
        fd = self.discovery.open(reader.path, "reopen")
        if fd is not None and not self._is_reader_file(fd, reader):
            os.close(fd)
            fd = None
        if fd is None:
            for path, st in self.discovery.siblings(os.path.dirname(reader.path) or "."):
                if (st.st_dev, st.st_ino) == (reader.dev, reader.ino):
                    fd = self.discovery.open(path, "reopen")
                    if fd is not None and not self._is_reader_file(fd, reader):
                        os.close(fd)
                        fd = None
                    if fd is not None:
                        log.info("File renamed while closed; reading it to its end.",
                                 extra={"input": self.cfg.id, "path": path, "old_path": reader.path})
                        reader.path = reader.entry.path = path
                        reader.detached = not self.discovery.wanted(path)
                    break
        if fd is not None:
            reader.fd = fd
            reader.last_growth = time.monotonic()

    @staticmethod
    def _is_reader_file(fd: int, reader: Reader) -> bool:
        try:
            st = os.fstat(fd)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == (reader.dev, reader.ino)

    def recover_copy(self, reader: Reader) -> None:
        """copytruncate: lines written after our last read went to the copy only. The generation moves to
        the copy (same entry, same acknowledgements, same event ids) and is read there from where we were."""
        best: tuple[int, str, int] | None = None  # size, path, open fd of the largest matching file
        for path, st in self.discovery.siblings(os.path.dirname(reader.path) or "."):
            if (st.st_dev, st.st_ino) in self.readers or (st.st_dev, st.st_ino) == (reader.dev, reader.ino):
                continue
            fd = self.discovery.open(path)
            if fd is None:
                continue  # gone since the listing (compressed, deleted): not the copy we can read
            try:
                matches = head_matches(fd, st.st_size, reader.entry)
            except OSError:
                matches = False
            if matches and (best is None or st.st_size > best[0]):
                if best is not None:
                    os.close(best[2])
                best = (st.st_size, path, fd)
            else:
                os.close(fd)
        if best is None:
            return
        _, path, fd = best
        try:
            st = os.fstat(fd)
        except OSError:
            os.close(fd)
            return
        log.info("Draining the rotated copy of a truncated file.",
                 extra={"input": self.cfg.id, "path": path, "offset": reader.emitted_end})
        self.copies.pop((st.st_dev, st.st_ino), None)
        self.attach(fd, path, st, reader.key, reader.emitted_end, oneshot=True, headers=reader.headers)

    def recover_orphans(self) -> None:
        """At start: entries whose file was rotated out of the globs while we were down."""
        owned = {r.key for r in self.readers.values()}
        for key, entry in list(self.entries.items()):
            if key in owned:
                continue
            found = self.drain_sibling(key, entry)
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

    def drain_sibling(self, key: str, entry: FileEntry) -> bool | None:
        """True: found and drained; False: its bytes are in a file read under another entry; None: gone."""
        candidates = []
        for path, st in self.discovery.siblings(os.path.dirname(entry.path) or "."):
            same_inode = (st.st_dev, st.st_ino) == (entry.dev, entry.ino)
            candidates.append(((st.st_dev, st.st_ino) in self.readers, not same_inode, path, st))
        for taken, _, path, st in sorted(candidates):
            fd = self.discovery.open(path)
            if fd is None:
                continue  # gone since the listing
            try:
                same = same_generation(fd, st, entry)
            except OSError:
                same = False
            if not same:
                os.close(fd)
                continue
            if taken:
                os.close(fd)
                return False
            log.info("Found a file read before under a new name; draining it.",
                     extra={"input": self.cfg.id, "path": path, "offset": entry.offset})
            self.attach(fd, path, st, key, entry.offset, oneshot=True)
            return True
        return None

    def forget_gone(self) -> None:
        """Drop entries of files that are gone and fully delivered (at scan time: this opens files)."""
        live = {r.key for r in self.readers.values()}
        for key in list(self.entries):
            tracker = self.trackers.get(key)
            if key not in live and (tracker is None or tracker.in_flight == 0) and not self.entry_alive(
                    self.entries[key]):
                del self.entries[key]
                self.trackers.pop(key, None)
                self.on_progress()

    def poll_closed(self) -> None:
        """Polling fallback: reopen closed files that grew; notice truncation of idle files."""
        for reader in list(self.readers.values()):
            if reader.fd is not None or reader.done:
                continue
            st = self.discovery.stat(reader.path, quiet=True)
            if st is not None and (st.st_dev, st.st_ino) == (reader.dev, reader.ino) \
                    and st.st_size != reader.framer.position:
                self.check_generation(reader, st)

    def unknown_wanted(self, path: str) -> bool:
        """A file under the globs that no reader has. Runs on every change notification: the file being
        read (the usual case) is answered without a system call; another one costs one stat."""
        if any(r.path == path and not r.detached for r in self.readers.values()):
            return False
        if not self.discovery.wanted(path):
            return False
        st = self.discovery.stat(path, quiet=True)
        return st is not None and (st.st_dev, st.st_ino) not in self.readers and (st.st_dev, st.st_ino) not in \
            self.copies
