"""Local NDJSON file with size-based rotation: the embedded default output.

Writes go straight to the file descriptor (no user-space buffer), so a crash loses nothing that was
acknowledged; `sync()` adds fsync for power loss and runs before every checkpoint. A torn last line
left by a crash mid-write was never acknowledged: it is cut off at start, and its batch is re-sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from ucsiem.errors import OutputError
from ucsiem.outputs.base import OutputDefaults, SendResult
from ucsiem.outputs.registry import FileOutputConfig

log = logging.getLogger("ucsiem.output.file")


class FileOutput(OutputDefaults):
    def __init__(self, cfg: FileOutputConfig) -> None:
        self.cfg = cfg
        self.name = f"file:{cfg.path}"
        self._fd: int | None = None
        self._size = 0
        self._lock = threading.Lock()  # write/rotate vs. sync from the checkpoint thread

    async def start(self) -> None:
        try:
            self.cfg.path.parent.mkdir(parents=True, exist_ok=True)
            self._open()
            self._repair_tail()
        except OSError as exc:
            raise OutputError(f"cannot open output file {self.cfg.path}: {exc.strerror}", retriable=False) from exc

    def _open(self) -> None:
        self._fd = os.open(self.cfg.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        self._size = os.fstat(self._fd).st_size

    def _repair_tail(self) -> None:
        if self._size == 0 or self._fd is None:
            return
        with open(self.cfg.path, "rb") as fh:
            fh.seek(max(0, self._size - 1))
            if fh.read(1) == b"\n":
                return
            # find the last newline; everything after it is an unacknowledged torn write
            pos = self._size
            while pos > 0:
                step = min(65536, pos)
                fh.seek(pos - step)
                chunk = fh.read(step)
                nl = chunk.rfind(b"\n")
                if nl >= 0:
                    pos = pos - step + nl + 1
                    break
                pos -= step
        log.warning("Output file ended in a partial line from an interrupted write; removing it (it is re-sent).",
                    extra={"path": str(self.cfg.path), "bytes": self._size - pos})
        os.truncate(self.cfg.path, pos)
        self._size = pos

    async def send(self, docs: Sequence[bytes]) -> SendResult:
        if docs:
            self.write_blob(b"\n".join(docs) + b"\n")
        return SendResult()

    def write_blob(self, blob: bytes) -> None:
        with self._lock:
            try:
                if self._size and self._size + len(blob) > self.cfg.max_bytes:
                    self._rotate()
                if self._fd is None:
                    self._open()
                assert self._fd is not None
            except OSError as exc:
                raise OutputError(f"cannot open {self.cfg.path}: {exc.strerror}", retriable=True) from exc
            before = self._size
            try:
                view = memoryview(blob)
                while view:
                    written = os.write(self._fd, view)
                    view = view[written:]
                    self._size += written
            except OSError as exc:
                # Disk full half-way: take the partial batch back, so the retry neither duplicates
                # its first events nor leaves a torn line in the middle of the file.
                try:
                    os.ftruncate(self._fd, before)
                    self._size = before
                except OSError:
                    self._size = os.fstat(self._fd).st_size
                raise OutputError(f"cannot write {self.cfg.path}: {exc.strerror}", retriable=True) from exc

    def _rotate(self) -> None:
        assert self._fd is not None
        if self.cfg.fsync:
            os.fsync(self._fd)
        os.close(self._fd)
        self._fd = None
        base = str(self.cfg.path)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{base}.{self.cfg.max_files}")
        for i in range(self.cfg.max_files - 1, 0, -1):
            with contextlib.suppress(FileNotFoundError):
                os.rename(f"{base}.{i}", f"{base}.{i + 1}")
        os.rename(base, f"{base}.1")
        self._open()

    def sync(self) -> None:
        if not self.cfg.fsync:
            return
        with self._lock:
            if self._fd is not None:
                os.fsync(self._fd)

    async def close(self) -> None:
        await asyncio.to_thread(self.sync)
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def rotated_files(path: Path, max_files: int) -> list[Path]:
    """Oldest first: path.N ... path.1, path (what a reader of the whole output should read)."""
    out = [Path(f"{path}.{i}") for i in range(max_files, 0, -1)]
    return [p for p in [*out, path] if p.exists()]
