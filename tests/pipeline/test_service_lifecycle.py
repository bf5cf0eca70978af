"""The agent as systemd runs it: READY/STATUS/STOPPING over NOTIFY_SOCKET, SIGHUP reloads (a bad config is
refused and the running one stays), and run --once tells the truth in its exit code."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import yaml

from tests.agenthelp import PLUGINS, seq_counts, stop, wait_for, write_lines


def start_with_notify(config: Path, notify: str) -> subprocess.Popen[bytes]:
    with (config.parent / "agent.log").open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "ucsiem", "run", "--config", str(config)],
                                stdout=subprocess.DEVNULL, stderr=log, env={**os.environ, "NOTIFY_SOCKET": notify})


def config_for(tmp: Path, inputs: list[tuple[str, str]]) -> Path:
    path = tmp / "config.yml"
    path.write_text(yaml.safe_dump({
        "agent": {"data_dir": str(tmp / "state"), "parser_dirs": [str(PLUGINS)], "stats_interval_secs": 0},
        "inputs": [{"id": ident, "paths": [pattern], "parser": "linetest", "poll_interval_secs": 0.1,
                    "scan_interval_secs": 0.3} for ident, pattern in inputs],
        "outputs": [{"type": "file", "path": str(tmp / "out" / "events.ndjson")}],
        "pipeline": {"workers": 1},
    }))
    return path


def received(sock: socket.socket) -> list[str]:
    out = []
    sock.setblocking(False)
    while True:
        try:
            out.append(sock.recv(4096).decode())
        except BlockingIOError:
            return out


def test_ready_reload_refused_reload_applied_stopping(tmp_path: Path) -> None:
    notify = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(notify)
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        write_lines(tmp_path / "a" / "one.log", 0, 50)
        write_lines(tmp_path / "b" / "two.log", 1000, 1030)
        config = config_for(tmp_path, [("a", str(tmp_path / "a" / "*.log"))])
        proc = start_with_notify(config, notify)
        messages: list[str] = []
        def heard(prefix: str) -> bool:
            messages.extend(received(sock))
            return any(prefix in m for m in messages)

        wait_for(lambda: heard("READY=1"), 60, "READY=1")
        wait_for(lambda: sum(seq_counts(tmp_path).values()) == 50, 60, "the first file")

        # a config that fails validation: refused, logged, the running agent goes on reading
        good = config.read_text()
        config.write_text(good.replace("parser: linetest", "parser: no_such_parser"))
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "Reload refused" in (tmp_path / "agent.log").read_text(), 30, "the refusal")
        wait_for(lambda: heard("STATUS=reload refused"), 30, "STATUS=reload refused")
        write_lines(tmp_path / "a" / "one.log", 50, 60)
        wait_for(lambda: sum(seq_counts(tmp_path).values()) == 60, 60, "lines read after the refused reload")

        # a good new config with a second input: drained, restarted, nothing read twice, the new input read
        config.write_text(yaml.safe_dump({**yaml.safe_load(good), "inputs": [
            *yaml.safe_load(good)["inputs"],
            {"id": "b", "paths": [str(tmp_path / "b" / "*.log")], "parser": "linetest", "poll_interval_secs": 0.1,
             "scan_interval_secs": 0.3}]}))
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: sum(seq_counts(tmp_path).values()) == 90, 60, "the second input after the reload")
        write_lines(tmp_path / "a" / "one.log", 60, 70)
        wait_for(lambda: sum(seq_counts(tmp_path).values()) == 100, 60, "the first input after the reload")
        stop(proc)
        messages.extend(received(sock))

    counts = seq_counts(tmp_path)
    assert set(counts) == set(range(70)) | set(range(1000, 1030)) and set(counts.values()) == {1}
    kinds = [m.split("\n", 1)[0] for m in messages]
    assert kinds.count("READY=1") == 2  # at start and after the reload
    assert kinds.index("RELOADING=1") < len(kinds) - 1 - kinds[::-1].index("READY=1")
    assert kinds[-1] == "STOPPING=1"
    log = (tmp_path / "agent.log").read_text()
    assert "unknown parser 'no_such_parser'" in log and "Reloaded: starting with the new configuration." in log


def test_run_once_stopped_early_exits_non_zero(tmp_path: Path) -> None:
    log = tmp_path / "slow.log"
    log.write_text("".join(f"sleep=0.2 seq={i}\n" for i in range(200)))  # 40 s of parsing
    config = config_for(tmp_path, [("slow", str(log))])
    config.write_text(config.read_text().replace("parser: linetest", "parser: slowtest"))
    proc = subprocess.Popen([sys.executable, "-m", "ucsiem", "run", "--once", "--config", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for(lambda: (tmp_path / "out" / "events.ndjson").exists(), 60, "the first events")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err.decode()[-2000:]
    assert b"stopped before everything read was delivered" in err
    assert b'"incomplete": true' in err
