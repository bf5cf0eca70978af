"""Wakeups of a file input: change notification (watchdog) where the system has it, a timed poll otherwise.

The reader sleeps in `Watcher.wait` when it has nothing to read. A notification of a new, moved or deleted
name asks for a rescan of the globs (`rescan`); so does the first write to a file no reader has yet (rotation
creates the new file empty: it is opened when it gets its first line, not at the next periodic scan). Other
writes only wake the reader. Without notification (once mode, or an observer that cannot start), the
reader wakes every `poll_interval_secs` and polls the sizes of its closed files.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import logging
import os
from collections.abc import Callable

log = logging.getLogger("ucsiem.input.file")


class Watcher:
    def __init__(self, input_id: str, folders: set[str], unknown_wanted: Callable[[str], bool]) -> None:
        self.input_id = input_id
        self.folders = folders
        self.unknown_wanted = unknown_wanted  # a path under the globs that no reader has (one stat at most)
        self.event = asyncio.Event()  # data may be ready: do not sleep
        self.rescan = False  # names changed (created, moved, deleted): expand the globs now
        self._observer: object | None = None

    def wake(self) -> None:
        self.event.set()

    async def wait(self, timeout: float) -> None:
        """Until a wakeup or `timeout` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), timeout)
        self.event.clear()

    def notify(self, kind: str, path: str) -> None:
        """A change notification (in the event loop)."""
        if kind in ("created", "moved", "deleted") or (kind == "modified" and self.unknown_wanted(path)):
            self.rescan = True
        self.event.set()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            from watchdog.events import FileSystemEvent, FileSystemEventHandler
            from watchdog.observers import Observer
        except ImportError:  # pragma: no cover - watchdog is a dependency
            return
        notify = self.notify

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                loop.call_soon_threadsafe(notify, event.event_type, os.fsdecode(event.src_path))

        observer = Observer()
        try:
            for folder in self.folders:
                if not glob.has_magic(folder) and os.path.isdir(folder):
                    observer.schedule(Handler(), folder, recursive=False)
            observer.daemon = True
            observer.start()
        except OSError as exc:
            log.warning("Change notification unavailable; polling instead.",
                        extra={"input": self.input_id, "error": str(exc)})
            return
        self._observer = observer

    def stop(self) -> None:
        observer = self._observer
        if observer is not None:
            observer.stop()  # type: ignore[attr-defined]
            self._observer = None
