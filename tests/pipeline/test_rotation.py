"""Rotation while the agent runs and while it is down: no line lost, no line duplicated.

The agent runs as a real subprocess; the log is written, rotated and appended to as logrotate would.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.agenthelp import delivered, line, make_config, seq_counts, start, stop, wait_for, write_lines


def assert_exactly_once(tmp: Path, total: int) -> None:
    counts = seq_counts(tmp)
    missing = [i for i in range(total) if counts[i] == 0]
    dups = {i: n for i, n in counts.items() if n > 1}
    assert not missing, f"{len(missing)} lines lost, first {missing[:10]}"
    assert not dups, f"{len(dups)} lines duplicated, first {list(dups.items())[:10]}"
    assert sum(counts.values()) == total


def rename_rotate(log: Path) -> None:
    os.rename(log, log.with_name(log.name + ".1"))


def copy_truncate(log: Path) -> None:
    shutil.copyfile(log, log.with_name(log.name + ".1"))
    with log.open("r+") as fh:
        fh.truncate(0)


@pytest.mark.parametrize("restart", [False, True], ids=["live", "restart"])
@pytest.mark.parametrize("rotate", [rename_rotate, copy_truncate], ids=["rename", "copytruncate"])
def test_rotation(tmp_path: Path, restart: bool, rotate: Callable[[Path], None]) -> None:
    log = tmp_path / "logs" / "app.log"
    log.parent.mkdir()
    write_lines(log, 0, 1000)
    config = make_config(tmp_path, [str(log)])
    proc = start(config)
    wait_for(lambda: delivered(tmp_path) >= 1000, what="first 1000 lines")
    if restart:
        stop(proc)
    write_lines(log, 1000, 1500)  # just before rotation: may be read from the live file or only after it
    rotate(log)
    write_lines(log, 1500, 2500)  # into the new (or truncated) app.log
    if restart:
        proc = start(config)
    wait_for(lambda: delivered(tmp_path) >= 2500, what="all 2500 lines")
    stop(proc)
    assert_exactly_once(tmp_path, 2500)


def test_copytruncate_then_growth_past_the_read_position(tmp_path: Path) -> None:
    """copytruncate, then more written to the truncated file than the agent had read before the agent
    looks again: the size never seems to shrink, only the head tells the generations apart. The lines
    after our position went to the copy; the new generation is read from its start."""
    log = tmp_path / "logs" / "app.log"
    log.parent.mkdir()
    write_lines(log, 0, 1000)
    config = make_config(tmp_path, [str(log)])
    proc = start(config)
    wait_for(lambda: delivered(tmp_path) >= 1000, what="first 1000 lines")
    write_lines(log, 1000, 1500)  # the agent may or may not read these before the rotation
    copy_truncate(log)
    write_lines(log, 1500, 5500)  # 4000 lines: far past any position the agent reached before
    wait_for(lambda: delivered(tmp_path) >= 5500, what="all 5500 lines")
    stop(proc)
    assert_exactly_once(tmp_path, 5500)


@pytest.mark.parametrize("restart", [False, True], ids=["live", "restart"])
@pytest.mark.parametrize("new_size", [300, 3000], ids=["shorter", "longer"])
def test_inode_reuse(tmp_path: Path, restart: bool, new_size: int) -> None:
    """A deleted file's inode given to a new file must not resume at the old position."""
    log = tmp_path / "logs" / "app.log"
    log.parent.mkdir()
    write_lines(log, 0, 1000, text="first-generation")
    # The agent's registry and output go to tmpfs, so its own file writes cannot take the freed inode.
    work = Path(tempfile.mkdtemp(prefix="ucsiem-test-", dir="/dev/shm"))
    try:
        # the live case closes idle files quickly, so the inode can be freed while the agent runs
        config = make_config(work, [str(log)], extra_input={"close_inactive_secs": 0.3})
        proc = start(config)
        wait_for(lambda: delivered(work) >= 1000, what="first generation")
        if restart:
            stop(proc)
        else:
            wait_for(lambda: not _agent_holds(proc.pid, log), what="the agent to close the idle file")
        recreate_on_same_inode(log, lambda p: write_lines(p, 1000, 1000 + new_size, mode="w", text="second"))
        if restart:
            proc = start(config)
        wait_for(lambda: delivered(work) >= 1000 + new_size, what="second generation")
        stop(proc)
        assert_exactly_once(work, 1000 + new_size)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def recreate_on_same_inode(path: Path, write: Callable[[Path], None]) -> None:
    """Delete `path` and create a new file there that has the same inode number.

    ext4 gives a new file the lowest free inode of its group, and lower ones may be free: occupy them with
    empty placeholder files until the old number comes up, then write that file and rename it into place.
    """
    old_inode = path.stat().st_ino
    path.unlink()
    placeholders: list[Path] = []
    try:
        for i in range(20_000):
            candidate = path.with_name(f".placeholder-{i}")
            candidate.touch()
            if candidate.stat().st_ino == old_inode:
                write(candidate)
                os.rename(candidate, path)
                return
            placeholders.append(candidate)
    finally:
        for placeholder in placeholders:
            placeholder.unlink()
    raise AssertionError("the file system did not reuse the inode; the case is not exercised")


def _agent_holds(pid: int, path: Path) -> bool:
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            if os.readlink(fd) == str(path):
                return True
        except OSError:
            continue
    return False


def test_unterminated_last_line_of_a_rotated_file_is_delivered(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "app.log"
    log.parent.mkdir()
    write_lines(log, 0, 10)
    config = make_config(tmp_path, [str(log)])
    proc = start(config)
    wait_for(lambda: delivered(tmp_path) >= 10, what="first lines")
    with log.open("a") as fh:
        fh.write(line(10).rstrip("\n"))  # the writer was cut off before its newline, then rotation
    rename_rotate(log)
    write_lines(log, 11, 20, mode="w")
    wait_for(lambda: delivered(tmp_path) >= 20, timeout=30, what="the rotated file's last line")
    stop(proc)
    assert_exactly_once(tmp_path, 20)


@pytest.mark.parametrize("restart", [False, True], ids=["live", "restart"])
def test_copytruncate_copy_seen_before_the_truncation_is_not_read_again(tmp_path: Path, restart: bool) -> None:
    """logrotate copies first and truncates after: with the glob over `app.log*` the agent meets the copy
    while the original is intact. The copy is that generation: not read as a new file (it used to be
    shipped whole a second time), and once the original is truncated, lines only the copy holds are read
    from it, from where we were."""
    log = tmp_path / "logs" / "app.log"
    log.parent.mkdir()
    write_lines(log, 0, 1000)
    config = make_config(tmp_path, [str(log) + "*"])
    proc = start(config)
    wait_for(lambda: delivered(tmp_path) >= 1000, what="first 1000 lines")
    write_lines(log, 1000, 1200)
    shutil.copyfile(log, log.with_name("app.log.1"))  # the copy, then a scan sees it (0.3 s in the test)
    wait_for(lambda: "A copy of a file being read" in (tmp_path / "agent.log").read_text(), what="the copy noticed")
    if restart:
        stop(proc)
        proc = start(config)
        wait_for(lambda: "A copy of a file being read" in (tmp_path / "agent.log").read_text().split(
            "Agent started.")[-1], what="the copy noticed after the restart")
    with log.open("r+") as fh:
        fh.truncate(0)
    write_lines(log, 1200, 1500)
    wait_for(lambda: delivered(tmp_path) >= 1500, what="all 1500 lines")
    time.sleep(1.0)  # scans run every 0.3 s: a copy read again would show up now
    stop(proc)
    assert_exactly_once(tmp_path, 1500)


def test_files_sharing_a_long_header_are_not_taken_for_each_other(tmp_path: Path) -> None:
    """CDR files each start with the same long header: their first 1024 bytes match. A file with that
    header beside one being read is not its copy; one that appears while the agent is down, after an
    older one was removed, is a new file (it used to be resumed at the old file's position, losing its
    first rows)."""
    folder = tmp_path / "cdr"
    folder.mkdir()
    header = "cdrRecordType," + "column," * 200 + "\n"  # not a test line: each header is one dead letter
    first = folder / "cdr_1.log"
    first.write_text(header + "".join(line(i) for i in range(0, 300)))
    config = make_config(tmp_path, [str(folder / "*.log")])
    proc = start(config)
    wait_for(lambda: delivered(tmp_path) >= 301, what="the first file")
    (folder / "cdr_2.log").write_text(header + "".join(line(i) for i in range(300, 350)))  # beside it
    wait_for(lambda: delivered(tmp_path) >= 352, what="the second file")
    stop(proc)
    first.unlink()
    (folder / "cdr_3.log").write_text(header + "".join(line(i) for i in range(350, 1000)))
    proc = start(config)
    wait_for(lambda: delivered(tmp_path) >= 1003, what="the third file")
    time.sleep(1.0)
    stop(proc)
    assert delivered(tmp_path) == 1003
    assert_counts_exactly_once(seq_counts(tmp_path), 1000)


def assert_counts_exactly_once(counts: Counter[int], total: int) -> None:
    assert sorted(counts) == list(range(total)), f"lost {sorted(set(range(total)) - set(counts))[:10]}"
    assert max(counts.values()) == 1, f"duplicated {[k for k, n in counts.items() if n > 1][:10]}"


def test_a_new_file_is_opened_at_its_first_write_not_at_the_next_scan(tmp_path: Path) -> None:
    """Rotation leaves a new empty app.log: it has nothing to identify until its first line, and was only
    opened at the next periodic scan. The change notification of that first write opens it."""
    log = tmp_path / "logs" / "app.log"
    log.parent.mkdir()
    write_lines(log, 0, 10)
    config = make_config(tmp_path, [str(log)], extra_input={"scan_interval_secs": 3600})
    proc = start(config)
    wait_for(lambda: delivered(tmp_path) >= 10, what="first lines")
    rename_rotate(log)
    log.touch()  # `create`: the new file exists, empty
    time.sleep(0.5)
    write_lines(log, 10, 20)
    wait_for(lambda: delivered(tmp_path) >= 20, timeout=60, what="the new file's lines (no scan for an hour)")
    stop(proc)
    assert_exactly_once(tmp_path, 20)


def test_a_file_first_seen_almost_empty_is_still_told_from_the_next_generation(tmp_path: Path) -> None:
    """The agent met app.log holding only the start of a line, a prefix every line of the log shares (the
    time stamp). Its identity must grow with it as it is read: after a kill and a copytruncate, the new
    generation (same inode, same first bytes) is not taken for it, and the copy is resumed, not read again."""
    log = tmp_path / "logs" / "app.log"
    log.parent.mkdir()
    first = line(0)
    log.write_text(first[:20])  # "2024-05-01T10:00:00+": what all generations start with
    config = make_config(tmp_path, [str(log) + "*"], extra_input={"scan_interval_secs": 3600})
    proc = start(config)
    time.sleep(1.0)  # the agent attaches to the 20-byte file
    with log.open("a") as fh:
        fh.write(first[20:] + "".join(line(i) for i in range(1, 200)))
    wait_for(lambda: delivered(tmp_path) >= 200, what="the first 200 lines")
    time.sleep(0.5)  # the position is saved
    proc.kill()
    proc.wait()
    copy_truncate(log)
    write_lines(log, 200, 300)
    proc = start(config)
    wait_for(lambda: delivered(tmp_path) >= 300, what="all 300 lines")
    time.sleep(1.0)
    stop(proc)
    assert_exactly_once(tmp_path, 300)
    assert "A file read before is gone" not in (tmp_path / "agent.log").read_text()
