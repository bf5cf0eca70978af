"""Correlation in the running agent: the shipped pack over an Asterisk log of a REGISTER brute force.

The lines are Asterisk's own (`parsers/asterisk/tests/security-events.log`), with times and addresses varied.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import yaml

from tests.agenthelp import delivered, events, start, wait_for

RULES = Path(__file__).parents[2] / "rules"
BRUTE_FORCE = "084104cf-8397-4627-b29d-0f3c75e804f6"  # rules/uc/sip_bruteforce.yml: >= 10 in 5 min per source
ATTACKER, MISTYPER = "203.0.113.80", "198.51.100.7"
START = datetime(2024, 3, 5, 10, 20, tzinfo=UTC)  # the log's time zone is set to UTC below


def failure(second: int, ip: str, ext: int = 1001) -> str:
    at = (START + timedelta(seconds=second)).strftime("%Y-%m-%d %H:%M:%S")
    return (f"[{at}] NOTICE[1638] chan_sip.c: Registration from '<sip:{ext}@example.com>' failed for "
            f"'{ip}' - Wrong password\n")


def config(tmp: Path, log: Path, workers: int) -> Path:
    path = tmp / "config.yml"
    path.write_text(yaml.safe_dump({
        "agent": {"data_dir": str(tmp / "state"), "stats_interval_secs": 0},
        "inputs": [{"id": "pbx", "paths": [str(log)], "parser": "asterisk", "timezone": "UTC",
                    "poll_interval_secs": 0.1}],
        "outputs": [{"type": "file", "path": str(tmp / "out" / "events.ndjson")}],
        "pipeline": {"workers": workers},
        "correlation": {"rules": [str(RULES)]},
    }))
    return path


def run_once(cfg: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "ucsiem", "run", "--once", "--config", str(cfg)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done


def alerts(tmp: Path) -> dict[str, list[dict[str, Any]]]:
    """Alert documents by alert id, in the order shipped (an alert is sent again as its count grows)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for event in events(tmp):
        if event["event"]["kind"] == "alert":
            out.setdefault(event["event"]["id"], []).append(event)
    return out


def test_a_brute_force_raises_one_alert_and_a_user_who_mistypes_none(tmp_path: Path) -> None:
    log = tmp_path / "asterisk.log"
    lines = [failure(10 * i, ATTACKER, 1004) for i in range(12)]  # 12 in 110 s
    lines[3:3] = [failure(31, MISTYPER), failure(32, MISTYPER)]  # a user mistypes twice
    log.write_text("".join(lines))
    run_once(config(tmp_path, log, workers=2))

    shipped = alerts(tmp_path)
    assert len(shipped) == 1, shipped
    [versions] = shipped.values()
    last = versions[-1]
    assert last["rule"]["id"] == BRUTE_FORCE and last["source"]["ip"] == ATTACKER
    assert last["uc"]["alert"]["count"] == 12
    assert last["event"]["start"] == "2024-03-05T10:20:00Z" and last["event"]["end"] == "2024-03-05T10:21:50Z"
    assert len(last["uc"]["alert"]["event_ids"]) == 12
    failures = [e for e in events(tmp_path) if e["event"]["kind"] == "event"]
    assert len(failures) == 14  # every line still ships as an event
    assert set(last["uc"]["alert"]["event_ids"]) == {e["event"]["id"] for e in failures
                                                    if e["source"]["ip"] == ATTACKER}
    state = orjson.loads((tmp_path / "state" / "correlation.state").read_bytes())
    assert state["version"] == 1 and state["pending_alerts"] == []


def test_an_attack_cut_by_kill_9_still_alerts_once_after_the_restart(tmp_path: Path) -> None:
    log = tmp_path / "asterisk.log"
    log.write_text("".join(failure(10 * i, ATTACKER, 1004) for i in range(6)))
    cfg = config(tmp_path, log, workers=1)
    proc = start(cfg)
    wait_for(lambda: delivered(tmp_path) >= 6, timeout=60, what="the first six failures")
    state = tmp_path / "state" / "correlation.state"
    wait_for(lambda: state.exists() and b"203.0.113.80" in state.read_bytes(), timeout=30,
             what="the correlation state with the attack in progress")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not alerts(tmp_path)  # six are not enough

    with log.open("a") as fh:
        fh.write("".join(failure(10 * i, ATTACKER, 1004) for i in range(6, 12)))
    run_once(cfg)  # the restart reads on from the committed position; the state holds the first six

    shipped = alerts(tmp_path)
    assert len(shipped) == 1, shipped
    [versions] = shipped.values()
    assert versions[-1]["uc"]["alert"]["count"] == 12  # each failure counted once, across the kill
    assert [e["event"]["kind"] for e in events(tmp_path)].count("event") >= 12
