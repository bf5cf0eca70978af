"""A one-line progress display on stderr for `run --once` and `parse`: bytes and lines, rate, ETA.

Shown only when stderr is a terminal (piped or redirected: nothing at all), redrawn at most
`interval` seconds apart, in place (carriage return, erase to the end of the line). The last state
stays on screen, followed by a newline, so what is printed next starts on a line of its own.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from ucsiem.sizes import format_size as _size

if TYPE_CHECKING:
    from ucsiem.agent import Agent

BAR = 20


class Progress:
    def __init__(self, stream: TextIO | None = None, *, interval: float = 0.25,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _is_tty(self.stream)
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self._last = -interval
        self._first: int | None = None  # bytes done at the first update (resumed files start part-way)
        self._shown = False
        self._state = (0, 0, 0)

    def update(self, done: int, total: int, lines: int, *, force: bool = False) -> None:
        """`done` of `total` bytes read, `lines` records so far; redrawn when `interval` has passed."""
        if not self.enabled:
            return
        self._state = (done, total, lines)
        if self._first is None:
            self._first = done
        now = self.clock()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        self._draw(now, final=False)

    def close(self) -> None:
        """The last state, then a newline (only if something was shown)."""
        if not self.enabled or (not self._shown and self._first is None):
            return
        self._draw(self.clock(), final=True)
        self.stream.write("\n")
        self.stream.flush()

    def _draw(self, now: float, *, final: bool) -> None:
        done, total, lines = self._state
        total = max(total, done)
        elapsed = max(now - self.started, 1e-6)
        rate = (done - (self._first or 0)) / elapsed
        fraction = done / total if total else 1.0
        filled = int(fraction * BAR)
        if final:
            tail = f"done in {_duration(elapsed)}"
        elif rate > 0:
            tail = f"ETA {_duration((total - done) / rate)}"
        else:
            tail = "ETA -"
        text = (f"[{'#' * filled}{'-' * (BAR - filled)}] {fraction * 100:3.0f}%  {_size(done)}/{_size(total)}  "
                f"{lines:,} lines  {_size(rate)}/s  {tail}")
        self.stream.write(f"\r{text}\x1b[K")
        self.stream.flush()
        self._shown = True


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False



def _duration(secs: float) -> str:
    secs = int(secs + 0.5)
    hours, rest = divmod(secs, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def file_positions(agent: Agent) -> tuple[int, int]:
    """(bytes read, bytes to read) over the files the agent's file inputs have open: their positions and sizes."""
    from ucsiem.inputs.file import FileInput

    done = total = 0
    for inp in agent.inputs:
        if not isinstance(inp, FileInput):
            continue
        for reader in list(inp.readers.values()):
            position = reader.framer.position
            try:
                size = os.fstat(reader.fd).st_size if reader.fd is not None else position
            except OSError:
                size = position
            done += position
            total += max(size, position)
    return done, total


async def follow(agent: Agent, progress: Progress) -> None:
    """`run --once`: redraw from the agent's readers and counters until cancelled (the agent stops)."""
    try:
        while True:
            done, total = file_positions(agent)
            progress.update(done, total, agent.stats.counters.records)
            await asyncio.sleep(progress.interval)
    finally:
        done, total = file_positions(agent)
        progress.update(done, total, agent.stats.counters.records, force=False)
        progress.close()
