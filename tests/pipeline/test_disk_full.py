"""Disk full under the output: reading pauses, the agent retries, and once there is room again every
event is delivered exactly once with no torn line (a real tmpfs that really fills up)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.agenthelp import delivered, events, make_config, run_once, seq_counts, start, stop, wait_for, write_lines

TOTAL = 5000


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "out"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_pauses_and_recovers_without_loss_or_tear(tmp_path: Path, small_disk: Path) -> None:
    log = tmp_path / "app.log"
    write_lines(log, 0, TOTAL)
    config = make_config(tmp_path, [str(log)], pipeline={"batch_max_records": 200})
    proc = start(config)
    agent_log = tmp_path / "agent.log"
    wait_for(lambda: b"Output failed; retrying" in agent_log.read_bytes(), what="the disk to fill up")
    assert delivered(tmp_path) < TOTAL
    subprocess.run(["mount", "-o", "remount,size=20m", str(small_disk)], check=True)
    wait_for(lambda: delivered(tmp_path) >= TOTAL, timeout=60, what="delivery after room was made")
    stop(proc)
    assert seq_counts(tmp_path) == dict.fromkeys(range(TOTAL), 1)
    assert len(events(tmp_path)) == TOTAL  # every line of the output is a whole event
    assert b"No space left on device" in agent_log.read_bytes()


def saved_offset(state: Path) -> int:
    try:
        entries = orjson.loads((state / "checkpoints.json").read_bytes())["inputs"].get("test", {})
    except (OSError, orjson.JSONDecodeError):
        return -1
    return max((entry["offset"] for entry in entries.values()), default=-1)


def test_checkpoints_that_cannot_be_written_stop_the_agent_loudly(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(state)], check=True)
    try:
        log = tmp_path / "app.log"
        write_lines(log, 0, 1000)
        config = make_config(tmp_path, [str(log)])
        proc = start(config)
        wait_for(lambda: delivered(tmp_path) >= 1000, what="first lines")
        # The save that follows the delivery must be over before the disk fills: a save whose rename freed
        # the old file's page after the filler stopped left one page free, and every later save cycled
        # through it, so the agent never failed (a CI run waited 60 s for the exit).
        wait_for(lambda: saved_offset(state) == log.stat().st_size, what="the first lines' checkpoint")
        fd = os.open(state / "filler", os.O_WRONLY | os.O_CREAT)  # the checkpoints' disk is now full
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        write_lines(log, 1000, 2000)
        assert proc.wait(timeout=60) == 1  # stops rather than run on without saving positions
        agent_log = (tmp_path / "agent.log").read_text()
        assert "cannot write the checkpoints" in agent_log and "stopping so no position is lost" in agent_log
        (state / "filler").unlink()
        again = run_once(config)
        assert again.returncode == 0, again.stderr
        counts = seq_counts(tmp_path)
        assert sorted(counts) == list(range(2000))  # at least once: nothing lost
    finally:
        subprocess.run(["umount", "-l", str(state)], check=False)
