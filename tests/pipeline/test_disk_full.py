"""Disk full under the output: reading pauses, the agent retries, and once there is room again every
event is delivered exactly once with no torn line (a real tmpfs that really fills up)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agenthelp import delivered, events, make_config, seq_counts, start, stop, wait_for, write_lines

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
