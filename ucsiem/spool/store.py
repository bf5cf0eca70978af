"""The spool file: batches with contiguous sequence numbers, and each output's last delivered one.

SQLite in WAL mode with synchronous=FULL: a batch is on disk when `append` returns, which is what
lets the input forget it. Rows are deleted once every output is past them; the bound is on the
batches' bytes (SQLite reuses the freed pages, so the file stops growing at about that size).
Blocking calls: the async side runs them in a thread; one lock serialises them.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ucsiem.errors import SpoolError
from ucsiem.spool.crypto import SpoolCipher

FORMAT = "1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY, events INTEGER NOT NULL, bytes INTEGER NOT NULL,
                                    created REAL NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS cursors (output TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""


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
        self._lock = threading.Lock()
        try:
            if readonly:
                self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.executescript(SCHEMA)
                self._check_format()
        except sqlite3.Error as exc:
            raise SpoolError(f"spool {path}: cannot open: {exc}") from None

    def _check_format(self) -> None:
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        has_batches = self._db.execute("SELECT 1 FROM batches LIMIT 1").fetchone() is not None
        if meta.get("format", FORMAT.encode()) != FORMAT.encode():
            raise SpoolError(f"spool {self.path}: format {meta['format']!r} is not {FORMAT!r} (newer agent?)")
        check = meta.get("key_check")
        if has_batches and check is not None and self.cipher is None:
            raise SpoolError(f"spool {self.path} holds encrypted batches: set spool.encryption_key_file "
                             "to the key they were written with")
        if has_batches and check is None and self.cipher is not None:
            raise SpoolError(f"spool {self.path} holds unencrypted batches: let them drain (or move the file "
                             "away) before turning encryption on")
        if check is not None and self.cipher is not None and not self.cipher.matches(check):
            raise SpoolError(f"spool {self.path} was encrypted with another key than {self.cipher.source}")
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (FORMAT.encode(),))
            if self.cipher is None:
                self._db.execute("DELETE FROM meta WHERE key = 'key_check'")
            elif check is None or not has_batches:
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('key_check', ?)", (self.cipher.check_value(),))

    def batches(self) -> list[BatchInfo]:
        with self._lock:
            rows = self._db.execute("SELECT seq, events, bytes, created FROM batches ORDER BY seq").fetchall()
        return [BatchInfo(*row) for row in rows]

    def cursors(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT output, seq FROM cursors").fetchall())

    def append(self, seq: int, blob: bytes, events: int) -> float:
        data = self.cipher.seal(seq, blob) if self.cipher is not None else blob
        created = time.time()
        try:
            with self._lock, self._db:
                self._db.execute("INSERT INTO batches VALUES (?, ?, ?, ?, ?)", (seq, events, len(blob), created, data))
        except sqlite3.Error as exc:
            raise SpoolError(f"spool {self.path}: cannot store a batch: {exc}") from None
        return created

    def read(self, seq: int) -> bytes:
        with self._lock:
            row = self._db.execute("SELECT data FROM batches WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            raise SpoolError(f"spool {self.path}: batch {seq} is missing")
        data: bytes = row[0]
        return self.cipher.open(seq, data) if self.cipher is not None else data

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

    def close(self) -> None:
        with self._lock:
            self._db.close()
