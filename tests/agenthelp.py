"""Run the real agent (`python -m ucsiem`) in a subprocess against files in a temporary folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import yaml

from ucsiem.outputs.file import rotated_files

PLUGINS = Path(__file__).parent / "fixtures" / "plugins"


def line(seq: int, text: str = "payload") -> str:
    return f"2024-05-01T10:00:00+00:00 seq={seq} {text}\n"


def write_lines(path: Path, start: int, stop: int, mode: str = "a", text: str = "payload") -> None:
    with path.open(mode) as fh:
        fh.write("".join(line(i, text) for i in range(start, stop)))
        fh.flush()
        os.fsync(fh.fileno())


def make_config(tmp: Path, paths: list[str], *, parser: str = "linetest", workers: int = 0,
                extra_input: dict[str, Any] | None = None, pipeline: dict[str, Any] | None = None) -> Path:
    config = {
        "agent": {"data_dir": str(tmp / "state"), "parser_dirs": [str(PLUGINS)], "stats_interval_secs": 0},
        "inputs": [{"id": "test", "paths": paths, "parser": parser, "poll_interval_secs": 0.1,
                    "scan_interval_secs": 0.3, **(extra_input or {})}],
        "outputs": [{"type": "file", "path": str(tmp / "out" / "events.ndjson")}],
        "pipeline": {"workers": workers, **(pipeline or {})},
    }
    path = tmp / "config.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def run_once(config: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ucsiem", "run", "--once", "--config", str(config)],
                          capture_output=True, text=True, timeout=timeout, check=False)


STARTED: list[subprocess.Popen[bytes]] = []  # killed after each test by the conftest fixture


def start(config: Path) -> subprocess.Popen[bytes]:
    """The agent, its own log appended to agent.log beside the config (a pipe could fill and block it)."""
    with (config.parent / "agent.log").open("ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "ucsiem", "run", "--config", str(config)],
                                stdout=subprocess.DEVNULL, stderr=log)
    STARTED.append(proc)
    return proc


def kill_leftovers() -> None:
    while STARTED:
        proc = STARTED.pop()
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def stop(proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=timeout)
    assert proc.returncode == 0, f"agent exited with {proc.returncode}; see agent.log"


def events(tmp: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in rotated_files(tmp / "out" / "events.ndjson", 1000):  # oldest first
        out.extend(orjson.loads(raw) for raw in path.read_bytes().splitlines() if raw)
    return out


def seq_counts(tmp: Path) -> Counter[int]:
    return Counter(int(e["labels"]["seq"]) for e in events(tmp) if e.get("labels"))


def wait_for(predicate: Any, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def delivered(tmp: Path) -> int:
    total = 0
    for path in (tmp / "out").glob("events.ndjson*"):
        total += path.read_bytes().count(b"\n")
    return total


def children(pid: int) -> list[int]:
    """Live child processes of `pid` (the agent's parse workers and multiprocessing helpers)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(stat.parent.name))
    return out
