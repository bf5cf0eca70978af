"""The spool file: batches with contiguous sequence numbers, and each output's last delivered one.

SQLite in WAL mode with synchronous=FULL: a batch is on disk when `append` returns, which is what
lets the input forget it. Rows are deleted once every output is past them; the bound is on the
batches' bytes (SQLite reuses the freed pages, so the file stops growing at about that size).
Blocking calls: the async side runs them in a thread; one lock serialises them.

The file gives its space back: once the spool holds at most a quarter of it (a backlog delivered),
`reclaim` returns the free pages to the file system (`auto_vacuum=INCREMENTAL`, `PRAGMA
incremental_vacuum` a few MiB at a time, the lock released in between) and truncates the write-ahead
log. A file written before this (auto_vacuum off) is rebuilt once with VACUUM at that moment, when
little is left to copy, and is incremental from then on.

The file and its `-wal`/`-shm` companions are 0600 whatever the umask (SQLite gives the companions the
database's mode): unencrypted batches hold the events, URLs and user names included. Each spool has a
random identifier, authenticated with every encrypted batch. A batch that fails authentication is
copied to the `quarantine` table for a person to examine, and skipped.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ucsiem.errors import SpoolError
from ucsiem.spool.crypto import SpoolCipher, new_spool_id

# 2: a spool identifier in the authenticated data. A format 1 spool is upgraded in place unless it
# holds encrypted batches (those were sealed without the identifier).
FORMAT = "2"
OLD_FORMATS = ("1",)
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY, events INTEGER NOT NULL, bytes INTEGER NOT NULL,
                                    created REAL NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS cursors (output TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS quarantine (seq INTEGER PRIMARY KEY, events INTEGER NOT NULL, bytes INTEGER NOT NULL,
                                       created REAL NOT NULL, data BLOB NOT NULL, reason TEXT NOT NULL,
                                       quarantined REAL NOT NULL);
"""
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
AUTO_VACUUM_INCREMENTAL = 2  # PRAGMA auto_vacuum
JOURNAL_SIZE_LIMIT = 8 * 1024 * 1024  # the WAL file is cut back to this after a checkpoint
RECLAIM_MIN_FREE_BYTES = 4 * 1024 * 1024  # less free space than this is not worth a vacuum
RECLAIM_MIN_FREE_EMPTY_BYTES = 256 * 1024  # ... except in an empty spool
RECLAIM_FREE_SHARE = 0.75  # ... nor is it while the spool still holds more than a quarter of the file
RECLAIM_STEP_BYTES = 4 * 1024 * 1024  # freed per incremental_vacuum, the lock held for that long only


@dataclass(frozen=True)
class BatchInfo:
    seq: int
    events: int
    bytes: int
    created: float


class SpoolStore:
    def __init__(self, path: Path, cipher: SpoolCipher | None, *, readonly: bool = False) -> None:
        self.path = path
        self.cipher = cipher
        self.spool_id = b""
        self._lock = threading.Lock()
        self._closed = False
        try:
            if readonly:
                self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            else:
                _private_files(path)
                self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
                if self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
                    self._db.execute(f"PRAGMA auto_vacuum={AUTO_VACUUM_INCREMENTAL}")  # only before the first table
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.executescript(SCHEMA)
                self._check_format()
        except sqlite3.Error as exc:
            raise SpoolError(f"spool {path}: cannot open: {exc}") from None
        except OSError as exc:
            raise SpoolError(f"spool {path}: cannot create or protect the file: {exc.strerror}") from None

    def created(self) -> bool:
        """Has the agent made its tables yet? (A reader may open the file while the agent creates it.)"""
        return self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'batches'").fetchone() \
            is not None

    def _check_format(self) -> None:
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        has_batches = self._db.execute("SELECT 1 FROM batches LIMIT 1").fetchone() is not None
        fmt = bytes(meta.get("format", FORMAT.encode())).decode(errors="replace")
        if fmt != FORMAT and fmt not in OLD_FORMATS:
            raise SpoolError(f"spool {self.path}: format {fmt!r} is not {FORMAT!r} (newer agent?)")
        check = meta.get("key_check")
        spool_id = meta.get("spool_id")
        if spool_id is None:
            if has_batches and check is not None:
                raise SpoolError(f"spool {self.path} holds encrypted batches of an older format (no spool "
                                 "identifier): deliver them with the ucsiem version that wrote them, or move the "
                                 "file away")
            spool_id, check = new_spool_id(), None  # an old key check was sealed without the identifier
        self.spool_id = bytes(spool_id)
        if has_batches and check is not None and self.cipher is None:
            raise SpoolError(f"spool {self.path} holds encrypted batches: set spool.encryption_key_file "
                             "to the key they were written with")
        if has_batches and check is None and self.cipher is not None:
            raise SpoolError(f"spool {self.path} holds unencrypted batches: let them drain (or move the file "
                             "away) before turning encryption on")
        if check is not None and self.cipher is not None and not self.cipher.matches(self.spool_id, check):
            raise SpoolError(f"spool {self.path} was encrypted with another key than {self.cipher.source}")
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (FORMAT.encode(),))
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('spool_id', ?)", (self.spool_id,))
            if self.cipher is None:
                self._db.execute("DELETE FROM meta WHERE key = 'key_check'")
            elif check is None or not has_batches:
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('key_check', ?)",
                                 (self.cipher.check_value(self.spool_id),))

    def batches(self) -> list[BatchInfo]:
        with self._lock:
            rows = self._db.execute("SELECT seq, events, bytes, created FROM batches ORDER BY seq").fetchall()
        return [BatchInfo(*row) for row in rows]

    def cursors(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT output, seq FROM cursors").fetchall())

    def append(self, seq: int, blob: bytes, events: int) -> float:
        data = self.cipher.seal(self.spool_id, seq, blob) if self.cipher is not None else blob
        created = time.time()
        try:
            with self._lock, self._db:
                self._db.execute("INSERT INTO batches VALUES (?, ?, ?, ?, ?)", (seq, events, len(blob), created, data))
        except sqlite3.Error as exc:
            raise SpoolError(f"spool {self.path}: cannot store a batch: {exc}") from None
        return created

    def read(self, seq: int) -> bytes:
        """The batch's bytes; DamagedBatch if it fails authentication (quarantine it and go on)."""
        with self._lock:
            row = self._db.execute("SELECT data FROM batches WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            raise SpoolError(f"spool {self.path}: batch {seq} is missing")
        data: bytes = row[0]
        return self.cipher.open(self.spool_id, seq, data) if self.cipher is not None else data

    def quarantine(self, seq: int, reason: str) -> None:
        """Keep a copy of a damaged batch for a person to examine; it leaves `batches` like any other."""
        try:
            with self._lock, self._db:
                self._db.execute("INSERT OR REPLACE INTO quarantine SELECT seq, events, bytes, created, data, ?, ? "
                                 "FROM batches WHERE seq = ?", (reason, time.time(), seq))
        except sqlite3.Error as exc:
            raise SpoolError(f"spool {self.path}: cannot quarantine batch {seq}: {exc}") from None

    def quarantined(self) -> list[BatchInfo]:
        try:
            with self._lock:
                rows = self._db.execute("SELECT seq, events, bytes, created FROM quarantine ORDER BY seq").fetchall()
        except sqlite3.OperationalError:  # a read-only look at a spool written before the table existed
            return []
        return [BatchInfo(*row) for row in rows]

    def advance(self, output: str, seq: int, prune_to: int | None) -> None:
        """Record `output`'s last delivered batch and delete the batches every output has."""
        try:
            with self._lock, self._db:
                self._db.execute("INSERT OR REPLACE INTO cursors VALUES (?, ?)", (output, seq))
                if prune_to is not None:
                    self._db.execute("DELETE FROM batches WHERE seq <= ?", (prune_to,))
        except sqlite3.Error as exc:
            raise SpoolError(f"spool {self.path}: cannot record delivery: {exc}") from None

    def set_cursors(self, cursors: dict[str, int]) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM cursors")
            self._db.executemany("INSERT INTO cursors VALUES (?, ?)", list(cursors.items()))

    def file_bytes(self) -> int:
        """The spool's size on disk: the database file and its write-ahead log."""
        return file_bytes(self.path)

    def free_bytes(self) -> tuple[int, int]:
        """(free bytes inside the file, the file's bytes) as SQLite counts them (pages)."""
        with self._lock:
            if self._closed:
                return 0, 0
            page = int(self._db.execute("PRAGMA page_size").fetchone()[0])
            pages = int(self._db.execute("PRAGMA page_count").fetchone()[0])
            free = int(self._db.execute("PRAGMA freelist_count").fetchone()[0])
        return free * page, pages * page

    def wants_reclaim(self, *, empty: bool = False) -> bool:
        """Is enough of the file free (a backlog delivered) to give the space back? An `empty` spool gives
        back even a little (it costs nothing: there is nothing left to move)."""
        free, total = self.free_bytes()
        least = RECLAIM_MIN_FREE_EMPTY_BYTES if empty else RECLAIM_MIN_FREE_BYTES
        return free >= least and free >= total * RECLAIM_FREE_SHARE

    def reclaim(self) -> tuple[int, int]:
        """Give the file's free pages back to the file system; returns the size on disk (before, after).

        Incremental: a few MiB per step, the lock released between steps so that appends and reads go on.
        A file created before auto_vacuum was set is rebuilt once (VACUUM copies only what the spool holds,
        which is little by now) and switched to incremental. Raises SpoolError if SQLite fails."""
        before = self.file_bytes()
        try:
            with self._lock:
                if self._closed:
                    return before, before
                mode = int(self._db.execute("PRAGMA auto_vacuum").fetchone()[0])
                page = int(self._db.execute("PRAGMA page_size").fetchone()[0])
                if mode != AUTO_VACUUM_INCREMENTAL:
                    self._db.execute(f"PRAGMA auto_vacuum={AUTO_VACUUM_INCREMENTAL}")
                    self._db.execute("VACUUM")  # takes the new mode; keeps WAL mode
            step = max(1, RECLAIM_STEP_BYTES // page)
            while True:
                with self._lock:
                    if self._closed:
                        return before, self.file_bytes()
                    if int(self._db.execute("PRAGMA freelist_count").fetchone()[0]) == 0:
                        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
                        break
                    self._db.execute(f"PRAGMA incremental_vacuum({step})").fetchall()
        except sqlite3.Error as exc:
            raise SpoolError(f"spool {self.path}: cannot give free space back: {exc}") from None
        return before, self.file_bytes()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._db.close()


def file_bytes(path: Path) -> int:
    """Bytes on disk of a spool file and its write-ahead log (0 for what does not exist)."""
    total = 0
    for part in (path, path.with_name(path.name + "-wal")):
        with contextlib.suppress(FileNotFoundError):
            total += part.stat().st_size
    return total


def _private_files(path: Path) -> None:
    """Create the spool (and its folder) readable by the agent only; tighten files an older run left open."""
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, mode=PRIVATE_DIR)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(companion, PRIVATE_FILE)
