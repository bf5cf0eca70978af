"""The file input in process (no agent, no output): a file that vanishes or loses its permission exactly at
one of the input's calls on it (os.open, os.stat, os.fstat patched to delete the file or to fail first, at
that call site only) never ends the input task; what was read is delivered once; the rest is read on.

Each test asserts its patched call was reached (`hits`), so a test cannot pass by never getting there.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import re
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.agenthelp import PLUGINS, write_lines
from ucsiem.config import FileInputConfig
from ucsiem.inputs.checkpoint import FileEntry
from ucsiem.inputs.file import Batch, FileInput
from ucsiem.parsing.contract import ParserSpec
from ucsiem.parsing.registry import load_plugin_folder


@pytest.fixture(scope="module")
def spec() -> ParserSpec:
    return load_plugin_folder(PLUGINS / "linetest").spec  # the test plugin alone: no built-in parser needed


class Run:
    """One FileInput over `paths`; every batch it emits is recorded and acknowledged at once."""

    def __init__(self, spec: ParserSpec, paths: list[Path | str], entries: dict[str, FileEntry] | None = None, *,
                 once: bool = False, **options: Any) -> None:
        options = {"poll_interval_secs": 0.05, "scan_interval_secs": 0.2, **options}
        self.cfg = FileInputConfig(id="t", paths=[str(p) for p in paths], parser="linetest", **options)
        self.entries: dict[str, FileEntry] = {} if entries is None else entries
        self.input = FileInput(self.cfg, spec, self.entries, once=once, batch_max_records=100,
                               on_progress=lambda: None)
        self.batches: list[Batch] = []

    async def emit(self, batch: Batch) -> None:
        self.batches.append(batch)
        self.input.ack(batch)

    def seqs(self, name: str | None = None) -> list[int]:
        """The seq= of every record read (of the file named `name`), in order."""
        out = []
        for batch in self.batches:
            if name is None or os.path.basename(batch.path) == name:
                out += [int(m.group(1)) for f in batch.frames if (m := re.search(rb"seq=(\d+) ", f.data))]
        return out

    def once(self) -> None:
        asyncio.run(asyncio.wait_for(self.input.run(self.emit), 30))

    def live(self, scenario: Callable[[], Awaitable[None]]) -> None:
        async def main() -> None:
            task = asyncio.create_task(self.input.run(self.emit))
            try:
                await scenario()
                await asyncio.sleep(0.3)
                assert not task.done(), "the input task ended"
            finally:
                self.input.stop()
                await asyncio.wait_for(task, 10)  # re-raises what ended the task

        asyncio.run(main())


async def until(predicate: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def at_call(monkeypatch: pytest.MonkeyPatch, name: str, site: str, path: Path,
            action: Callable[[], None], times: int = 1, hits: list[str] | None = None) -> list[str]:
    """Patch `os.<name>` so that, called on `path` from `site` (a qualified function name within three frames
    of the call), it first runs `action` (delete the file, or raise), `times` times. Returns the hits (`hits`
    when given)."""
    real = getattr(os, name)
    hits = [] if hits is None else hits

    def wrapper(p: Any, *args: Any, **kwargs: Any) -> Any:
        if len(hits) < times and isinstance(p, str | Path) and os.fspath(p) == str(path) and _called_from(site):
            hits.append(os.fspath(p))
            action()
        return real(p, *args, **kwargs)

    monkeypatch.setattr(os, name, wrapper)
    return hits


def _called_from(site: str) -> bool:
    frame = sys._getframe(2)
    for _ in range(3):
        if frame is None:
            return False
        if frame.f_code.co_qualname == site:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def denied(path: Path) -> Callable[[], None]:
    def action() -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))
    return action


@pytest.fixture
def warnings(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list[str]]]:
    caplog.set_level(logging.DEBUG, "ucsiem.input.file")
    yield lambda: [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


# -- discovery: the glob's os.stat, a new file's os.open --------------------------------------------------------

def test_a_file_vanishing_between_the_glob_and_its_stat_is_skipped_quietly(
        tmp_path: Path, spec: ParserSpec, monkeypatch: pytest.MonkeyPatch,
        warnings: Callable[[], list[str]]) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    write_lines(a, 0, 3)
    write_lines(b, 10, 13)
    hits = at_call(monkeypatch, "stat", "Discovery.glob", a, a.unlink)
    run = Run(spec, [tmp_path / "*.log"], once=True)
    run.once()
    assert hits and run.seqs() == [10, 11, 12]
    assert [e.path for e in run.entries.values()] == [str(b)]
    assert warnings() == []  # rotation deletes files all day: not a warning


def test_a_file_that_cannot_be_stat_is_warned_once_and_the_others_are_read(
        tmp_path: Path, spec: ParserSpec, monkeypatch: pytest.MonkeyPatch,
        warnings: Callable[[], list[str]]) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    write_lines(a, 0, 3)
    write_lines(b, 10, 13)
    hits = at_call(monkeypatch, "stat", "Discovery.glob", a, denied(a), times=100)

    async def scenario() -> None:
        await until(lambda: run.seqs() == [10, 11, 12], "b.log read")
        await until(lambda: len(hits) >= 3, "a few scans")

    run = Run(spec, [tmp_path / "*.log"])
    run.live(scenario)
    assert run.seqs() == [10, 11, 12]
    assert warnings() == [f"cannot stat {a}: Permission denied"]


def test_a_new_file_vanishing_at_its_open_is_not_read_and_the_others_are(
        tmp_path: Path, spec: ParserSpec, monkeypatch: pytest.MonkeyPatch,
        warnings: Callable[[], list[str]]) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    write_lines(a, 0, 3)
    write_lines(b, 10, 13)
    hits = at_call(monkeypatch, "open", "Generations.open_new", a, a.unlink)
    run = Run(spec, [tmp_path / "*.log"], once=True)
    run.once()
    assert hits and run.seqs() == [10, 11, 12]
    assert [e.path for e in run.entries.values()] == [str(b)]
    assert warnings() == []


def test_a_new_file_unreadable_at_its_open_is_read_once_permission_returns(
        tmp_path: Path, spec: ParserSpec, monkeypatch: pytest.MonkeyPatch,
        warnings: Callable[[], list[str]]) -> None:
    a = tmp_path / "a.log"
    write_lines(a, 0, 3)
    hits = at_call(monkeypatch, "open", "Generations.open_new", a, denied(a), times=2)

    async def scenario() -> None:
        await until(lambda: run.seqs() == [0, 1, 2], "a.log read at a later scan")

    run = Run(spec, [tmp_path / "*.log"])
    run.live(scenario)
    assert len(hits) == 2 and run.seqs() == [0, 1, 2]
    assert warnings() == [f"cannot open {a}: Permission denied"]  # once, not per scan


# -- a closed (inactive) file: the poll's os.stat, the head check's os.open, the reopen's os.open -----------------

def closed_reader(run: Run, path: Path) -> Callable[[], bool]:
    return lambda: any(r.path == str(path) and r.fd is None for r in run.input.readers.values())


def test_a_closed_file_vanishing_at_the_poll_is_let_go(
        tmp_path: Path, spec: ParserSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    write_lines(a, 0, 3)
    hits: list[str] = []

    async def scenario() -> None:
        await until(closed_reader(run, a), "a.log read and closed")
        at_call(monkeypatch, "stat", "Generations.poll_closed", a, a.unlink, hits=hits)
        await until(lambda: bool(hits), "the poll's stat")
        await until(lambda: not run.input.readers and not run.entries, "a.log let go and forgotten")
        write_lines(b, 10, 13)
        await until(lambda: run.seqs("b.log") == [10, 11, 12], "b.log read")

    run = Run(spec, [tmp_path / "*.log"], close_inactive_secs=0.2)
    run.live(scenario)
    assert run.seqs() == [0, 1, 2, 10, 11, 12]


def test_a_closed_file_vanishing_at_the_head_check_is_let_go(
        tmp_path: Path, spec: ParserSpec, monkeypatch: pytest.MonkeyPatch,
        warnings: Callable[[], list[str]]) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    write_lines(a, 0, 3)
    hits: list[str] = []

    async def scenario() -> None:
        await until(closed_reader(run, a), "a.log read and closed")
        at_call(monkeypatch, "open", "Generations.check_generation", a, a.unlink, hits=hits)
        write_lines(a, 3, 6)  # it grows: the next look checks its head, and it is gone right then
        await until(lambda: bool(hits), "the head check's open")
        await until(lambda: not run.input.readers and not run.entries, "a.log let go and forgotten")
        write_lines(b, 10, 13)
        await until(lambda: run.seqs("b.log") == [10, 11, 12], "b.log read")

    run = Run(spec, [tmp_path / "*.log"], close_inactive_secs=0.2)
    run.live(scenario)
    assert run.seqs() == [0, 1, 2, 10, 11, 12]  # 3-5 went with the file, which was deleted before they were read
    assert warnings() == []


def test_a_closed_file_vanishing_at_its_reopen_is_let_go(
        tmp_path: Path, spec: ParserSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    write_lines(a, 0, 3)
    hits: list[str] = []

    async def scenario() -> None:
        await until(closed_reader(run, a), "a.log read and closed")
        at_call(monkeypatch, "open", "Generations.reopen", a, a.unlink, hits=hits)
        write_lines(a, 3, 6)
        await until(lambda: bool(hits), "the reopen's open")
        await until(lambda: not run.input.readers and not run.entries, "a.log let go and forgotten")
        write_lines(b, 10, 13)
        await until(lambda: run.seqs("b.log") == [10, 11, 12], "b.log read")

    run = Run(spec, [tmp_path / "*.log"], close_inactive_secs=0.2)
    run.live(scenario)
    assert run.seqs() == [0, 1, 2, 10, 11, 12]


def test_a_closed_file_renamed_at_its_reopen_is_read_to_its_end_and_the_new_one_from_its_start(
        tmp_path: Path, spec: ParserSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rotation renames the file and creates a new one exactly when we reopen it by name: the name leads to
    the new file, which must not be read from the old file's position; the old file is found by identity."""
    a = tmp_path / "a.log"
    write_lines(a, 0, 3)
    hits: list[str] = []

    def rotate() -> None:
        a.rename(tmp_path / "a.log.1")
        write_lines(a, 100, 103)

    async def scenario() -> None:
        await until(closed_reader(run, a), "a.log read and closed")
        at_call(monkeypatch, "open", "Generations.reopen", a, rotate, hits=hits)
        write_lines(a, 3, 6)
        await until(lambda: bool(hits), "the reopen's open")
        await until(lambda: sorted(run.seqs()) == [0, 1, 2, 3, 4, 5, 100, 101, 102], "both files read")

    run = Run(spec, [tmp_path / "*.log"], close_inactive_secs=0.2)
    run.live(scenario)
    assert run.seqs("a.log.1") == [3, 4, 5]
    assert run.seqs("a.log") == [0, 1, 2, 100, 101, 102]


# -- rotation: the copy's os.open after a truncation, a rotated file's os.open at a restart ----------------------

def test_a_copy_vanishing_when_the_truncated_file_looks_for_it_does_not_stop_the_input(
        tmp_path: Path, spec: ParserSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    a, copy = tmp_path / "a.log", tmp_path / "a.log.1"
    write_lines(a, 0, 5)
    hits: list[str] = []

    async def scenario() -> None:
        await until(lambda: run.seqs() == [0, 1, 2, 3, 4], "a.log read")
        at_call(monkeypatch, "open", "Generations.recover_copy", copy, copy.unlink, hits=hits)
        # copytruncate, all before the input runs again: lines 5-7 are only in the copy, which goes
        # (compressed, say) just when the input opens it
        write_lines(a, 5, 8)
        copy.write_bytes(a.read_bytes())
        write_lines(a, 100, 102, mode="w")
        await until(lambda: bool(hits), "the copy's open")
        await until(lambda: run.seqs()[5:] == [100, 101], "the new generation read")

    run = Run(spec, [tmp_path / "*.log"])
    run.live(scenario)
    assert run.seqs() == [0, 1, 2, 3, 4, 100, 101]


def test_a_copy_found_while_logrotate_truncates_the_original_is_drained_not_read_again(
        tmp_path: Path, spec: ParserSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    """copytruncate truncates right after its copy: a scan that finds the copy compares it with the original,
    which is intact when looked at and truncated by the time its bytes are read. The copy is still the
    generation being read (drained from where we were), not a new file read from its start (a CI run shipped
    a whole generation twice so)."""
    a, copy = tmp_path / "a.log", tmp_path / "a.log.1"
    write_lines(a, 0, 5)
    real_pread = os.pread
    hits: list[int] = []

    def pread(fd: int, n: int, offset: int) -> bytes:
        if not hits and _called_from("same_bytes"):
            hits.append(fd)
            write_lines(a, 100, 102, mode="w")  # the truncation, and the writer's next lines
        return real_pread(fd, n, offset)

    async def scenario() -> None:
        await until(lambda: run.seqs() == [0, 1, 2, 3, 4], "a.log read")
        write_lines(a, 5, 8)
        await until(lambda: run.seqs() == list(range(8)), "the lines the copy will hold read")
        monkeypatch.setattr(os, "pread", pread)
        copy.write_bytes(a.read_bytes())  # the copy; the truncation comes when the input compares it
        await until(lambda: bool(hits), "the comparison of the copy with the original")
        await until(lambda: 101 in run.seqs(), "the new generation read")

    run = Run(spec, [tmp_path / "a.log*"])
    run.live(scenario)
    assert run.seqs() == [*range(8), 100, 101]
    assert run.seqs("a.log.1") == []  # drained from where the original was read to: nothing left in it


def test_a_rotated_file_vanishing_when_a_restart_looks_for_it_is_forgotten(
        tmp_path: Path, spec: ParserSpec, monkeypatch: pytest.MonkeyPatch,
        warnings: Callable[[], list[str]]) -> None:
    a, rotated = tmp_path / "a.log", tmp_path / "a.log.1"
    write_lines(a, 0, 5)
    first = Run(spec, [a], once=True)
    first.once()
    assert first.seqs() == [0, 1, 2, 3, 4]
    # while the agent is down: 5-7 written, the file rotated away, a new one created
    write_lines(a, 5, 8)
    a.rename(rotated)
    write_lines(a, 100, 102)
    hits = at_call(monkeypatch, "open", "Generations.drain_sibling", rotated, rotated.unlink)
    second = Run(spec, [a], first.entries, once=True)
    second.once()
    assert hits and second.seqs() == [100, 101]
    assert [e.path for e in second.entries.values()] == [str(a)]
    assert any(w.startswith("A file read before is gone") for w in warnings())


def test_without_the_vanishing_a_restart_drains_the_rotated_file(tmp_path: Path, spec: ParserSpec) -> None:
    """The control of the test above: the same steps, the rotated file stays, its lines 5-7 are read."""
    a = tmp_path / "a.log"
    write_lines(a, 0, 5)
    first = Run(spec, [a], once=True)
    first.once()
    write_lines(a, 5, 8)
    a.rename(tmp_path / "a.log.1")
    write_lines(a, 100, 102)
    second = Run(spec, [a], first.entries, once=True)
    second.once()
    assert sorted(second.seqs()) == [5, 6, 7, 100, 101]


def test_a_copy_that_ends_before_the_delivered_position_is_not_read_again_after_a_restart(
        tmp_path: Path, spec: ParserSpec, warnings: Callable[[], list[str]]) -> None:
    """copytruncate's copy misses the lines written between the copy and the truncation, which were read
    from the original: the copy ends before the delivered position. Found after a restart, it is that
    generation, finished; not a file truncated under the reader and read again (a CI chaos run shipped
    whole copies twice so, under load)."""
    a, copy = tmp_path / "a.log", tmp_path / "a.log.1"
    write_lines(a, 0, 40)  # more than the 1 KiB head that identifies a generation
    first = Run(spec, [tmp_path / "a.log*"], once=True)
    first.once()
    assert first.seqs() == list(range(40))
    (entry,) = first.entries.values()
    # while the agent is down: logrotate copied lines 0-29 (before 30-39 were written), then truncated
    copy.write_bytes(b"".join(a.read_bytes().splitlines(keepends=True)[:30]))
    os.utime(copy, (entry.updated - 5, entry.updated - 5))
    write_lines(a, 100, 102, mode="w")

    async def scenario() -> None:
        await until(lambda: 101 in second.seqs(), "the new generation read")
        await asyncio.sleep(0.5)  # reads and scans that would take the copy for a truncated file
        copy.rename(tmp_path / "a.log.2")  # the next rotation
        copy.write_bytes(a.read_bytes())
        write_lines(a, 200, 202, mode="w")
        await until(lambda: 201 in second.seqs(), "the generation after it read")
        await asyncio.sleep(0.5)

    second = Run(spec, [tmp_path / "a.log*"], first.entries)
    second.live(scenario)
    assert second.seqs() == [100, 101, 200, 201]
    assert sorted(os.path.basename(e.path) for e in second.entries.values()) == ["a.log", "a.log.1", "a.log.2"]
    # the one truncation: of a.log by the rotation (the copy was taken for truncated at every read, and each
    # time attached again)
    assert len([w for w in warnings() if "truncated" in w]) == 1


# -- an entry's own file: os.open and os.fstat in entry_alive ------------------------------------------------------

def test_an_entry_whose_file_vanishes_at_the_check_is_gone_and_one_denied_is_kept(
        tmp_path: Path, spec: ParserSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    a = tmp_path / "a.log"
    write_lines(a, 0, 3)
    run = Run(spec, [a], once=True)
    run.once()
    generations = run.input.generations
    generations.readers.clear()  # as after its reader retired: only the entry is left
    [entry] = run.entries.values()
    assert generations.entry_alive(entry)

    denied_hits = at_call(monkeypatch, "open", "Generations.entry_alive", a, denied(a))
    generations.forget_gone()
    assert denied_hits and list(run.entries.values()) == [entry]  # unreadable for now is not gone

    monkeypatch.undo()
    eio_hits: list[str] = []
    monkeypatch.setattr(os, "fstat", _fstat_failing_once(eio_hits))
    generations.forget_gone()
    assert eio_hits and list(run.entries.values()) == [entry]

    monkeypatch.undo()
    gone_hits = at_call(monkeypatch, "open", "Generations.entry_alive", a, a.unlink)
    generations.forget_gone()
    assert gone_hits and run.entries == {}


def _fstat_failing_once(hits: list[str]) -> Callable[[int], os.stat_result]:
    """os.fstat takes a descriptor, not a path: fail the first call made from entry_alive."""
    real = os.fstat

    def fstat(fd: int) -> os.stat_result:
        if not hits and _called_from("Generations.entry_alive"):
            hits.append(str(fd))
            raise OSError(errno.EIO, "Input/output error")
        return real(fd)

    return fstat


# -- an open file: os.fstat and os.pread failing while reading --------------------------------------------------

def test_an_io_error_on_the_open_file_costs_a_retry_not_the_input(
        tmp_path: Path, spec: ParserSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    a = tmp_path / "a.log"
    write_lines(a, 0, 3)
    real_fstat, real_pread = os.fstat, os.pread
    hits: list[str] = []

    def fstat(fd: int) -> os.stat_result:
        reading = _called_from("FileInput._read") or _called_from("FileInput._replaced_in_place")
        if hits.count("fstat") < 2 and reading:
            hits.append("fstat")
            raise OSError(errno.EIO, "Input/output error")
        return real_fstat(fd)

    def pread(fd: int, n: int, offset: int) -> bytes:
        if "pread" not in hits and _called_from("FileInput._read"):
            hits.append("pread")
            raise OSError(errno.EIO, "Input/output error")
        return real_pread(fd, n, offset)

    async def scenario() -> None:
        await until(lambda: run.seqs() == [0, 1, 2], "a.log read")
        monkeypatch.setattr(os, "fstat", fstat)
        monkeypatch.setattr(os, "pread", pread)
        await until(lambda: hits.count("fstat") == 2 and "pread" in hits, "the failing calls")
        write_lines(a, 3, 6)
        await until(lambda: run.seqs() == [0, 1, 2, 3, 4, 5], "the rest read")

    run = Run(spec, [a])
    run.live(scenario)
    assert "pread" in hits and "fstat" in hits

