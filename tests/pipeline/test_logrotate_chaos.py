"""Rotation chaos with the real `logrotate` (Debian's, installed by scripts/system-packages.sh).

A writer appends numbered lines at a steady rate; logrotate rotates the file every couple of seconds
(`copytruncate`, or `create` with a reopen signal to the writer), with the input's glob covering the
rotated copies (`app.log*`, the common way to also drain them) or only the live file. The agent is
killed with SIGKILL at random moments and restarted, once after a downtime with rotations meanwhile.
At the end every sequence number that is on disk (in any app.log* file) must have been shipped; none
twice without kills, and with kills at most what can be in flight at each kill.

What logrotate itself loses (lines written between its copy and its truncate) is not on disk and not
counted; the agent may still have shipped some of them, read from the original before the truncation.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.agenthelp import make_config, seq_counts, start, stop, wait_for

LOGROTATE = shutil.which("logrotate") or "/usr/sbin/logrotate"
RATE = 2000  # lines per second
BATCH_MAX_RECORDS = 256
MAX_BATCHES_IN_FLIGHT = 4
# Lines a kill may have shipped without their positions being committed: the batches stored since the last
# finished commit (delivery waits beyond max_batches_in_flight of them, however slow the commit's fsync) and
# those still unacknowledged when that commit's positions were taken (the memory feed: as many again), plus
# slack of two. Without that wait, a slow fsync under load let twice this through (issue 12 pool rewrite).
IN_FLIGHT_BOUND = (2 * MAX_BATCHES_IN_FLIGHT + 2) * BATCH_MAX_RECORDS

WRITER = r"""
import os, signal, sys, time
path, rate, pidfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
reopen = False
def hup(*_):
    global reopen
    reopen = True
def term(*_):
    raise SystemExit(0)
signal.signal(signal.SIGHUP, hup)
signal.signal(signal.SIGTERM, term)
open(pidfile, "w").write(str(os.getpid()))
fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
seq, step, started = 0, max(1, rate // 100), time.monotonic()
try:
    while True:
        if reopen:  # logrotate's postrotate: the file was renamed away, write to the new one
            reopen = False
            os.close(fd)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.write(fd, "".join(f"2024-05-01T10:00:00+00:00 seq={seq + i} payload\n" for i in range(step)).encode())
        seq += step
        delay = started + seq / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
finally:
    os.write(2, f"written {seq}\n".encode())
"""


class Scene:
    """The folder, the writer, logrotate and the agent of one run."""

    def __init__(self, tmp: Path, method: str, glob_rotated: bool) -> None:
        self.tmp = tmp
        self.logs = tmp / "logs"
        self.logs.mkdir(mode=0o755)
        self.log = self.logs / "app.log"
        self.pidfile = tmp / "writer.pid"
        self.state = tmp / "logrotate.state"
        self.conf = tmp / "logrotate.conf"
        rule = "copytruncate" if method == "copytruncate" else (
            f"create 0644 root root\n    postrotate\n        kill -HUP $(cat {self.pidfile})\n    endscript")
        self.conf.write_text(f"{self.log} {{\n    {rule}\n    rotate 1000\n    missingok\n    notifempty\n"
                             f"    nocompress\n}}\n")
        self.conf.chmod(0o644)
        paths = [str(self.log) + "*"] if glob_rotated else [str(self.log)]
        self.config = make_config(tmp, paths, workers=1,
                                  pipeline={"batch_max_records": BATCH_MAX_RECORDS,
                                            "max_batches_in_flight": MAX_BATCHES_IN_FLIGHT})
        self.writer: subprocess.Popen[bytes] | None = None
        self.rotations = 0

    def start_writer(self) -> None:
        self.writer = subprocess.Popen([sys.executable, "-c", WRITER, str(self.log), str(RATE), str(self.pidfile)],
                                       stderr=subprocess.PIPE)
        wait_for(lambda: self.log.exists() and self.log.stat().st_size > 0, what="the writer's first lines")

    def stop_writer(self) -> None:
        assert self.writer is not None
        self.writer.terminate()
        _, err = self.writer.communicate(timeout=30)
        assert b"written" in err, err

    def rotate(self) -> None:
        done = subprocess.run([LOGROTATE, "-f", "-s", str(self.state), str(self.conf)],
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        self.rotations += 1

    def on_disk(self) -> set[int]:
        seqs: set[int] = set()
        for path in self.logs.glob("app.log*"):
            seqs.update(int(m) for m in re.findall(rb"seq=(\d+) ", path.read_bytes()))
        return seqs

    def wait_until_shipped(self, expected: set[int]) -> Counter[int]:
        wait_for(lambda: expected <= set(seq_counts(self.tmp)), timeout=120, what="every line on disk shipped")
        time.sleep(1.5)  # let anything else in flight land too: it must not be a duplicate either
        return seq_counts(self.tmp)


def run_for(scene: Scene, seconds: float, rnd: random.Random) -> None:
    """Write for `seconds`, rotating every 1.5-3 s."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(rnd.uniform(1.5, 3.0))
        scene.rotate()


def duplicates(counts: Counter[int]) -> int:
    return sum(n - 1 for n in counts.values() if n > 1)


@pytest.fixture(autouse=True)
def _logrotate_installed() -> None:
    assert os.access(LOGROTATE, os.X_OK), "logrotate is missing: run scripts/system-packages.sh"


@pytest.mark.slow
@pytest.mark.parametrize("glob_rotated", [True, False], ids=["glob-rotated", "glob-live-only"])
@pytest.mark.parametrize("method", ["copytruncate", "create"])
def test_live_rotation_ships_every_line_once(tmp_path: Path, method: str, glob_rotated: bool) -> None:
    """No kill at all: nothing lost, and not one duplicate (every copytruncate copy used to be shipped a
    second time when the glob covered it)."""
    scene = Scene(tmp_path, method, glob_rotated)
    scene.start_writer()
    agent = start(scene.config)
    run_for(scene, 10, random.Random(1))
    scene.stop_writer()
    on_disk = scene.on_disk()
    counts = scene.wait_until_shipped(on_disk)
    stop(agent)
    assert scene.rotations >= 4
    assert not on_disk - set(counts)
    assert duplicates(counts) == 0, f"{duplicates(counts)} duplicates after {scene.rotations} rotations"
    if method == "create":  # rename rotation loses nothing anywhere: every line written is on disk
        assert len(on_disk) == max(on_disk) + 1


@pytest.mark.slow
@pytest.mark.parametrize("method", ["copytruncate", "create"])
def test_kill_9_at_random_moments_and_downtime_with_rotations(tmp_path: Path, method: str) -> None:
    rnd = random.Random(f"{method}-chaos")
    scene = Scene(tmp_path, method, glob_rotated=True)
    scene.start_writer()
    agent = start(scene.config)
    kills = 0
    for _ in range(3):  # kill -9 at a random moment, restart at once
        run_for(scene, rnd.uniform(2.0, 5.0), rnd)
        time.sleep(rnd.uniform(0.0, 1.0))
        agent.kill()
        agent.wait()
        kills += 1
        agent = start(scene.config)
    run_for(scene, 3, rnd)
    agent.kill()  # then down for a while, with two rotations meanwhile
    agent.wait()
    kills += 1
    time.sleep(1.0)
    scene.rotate()
    time.sleep(1.5)
    scene.rotate()
    time.sleep(1.0)
    agent = start(scene.config)
    run_for(scene, 4, rnd)
    scene.stop_writer()
    on_disk = scene.on_disk()
    counts = scene.wait_until_shipped(on_disk)
    stop(agent)
    assert not on_disk - set(counts)
    bound = kills * IN_FLIGHT_BOUND
    assert duplicates(counts) <= bound, (
        f"{duplicates(counts)} duplicates after {kills} kills and {scene.rotations} rotations (bound {bound})")
    log = (tmp_path / "agent.log").read_text()
    assert "A file read before is gone" not in log  # every generation is still on disk under some name
