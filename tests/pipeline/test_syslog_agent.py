"""The syslog input in the running agent, fed by a real sender: util-linux `logger` over UDP and TCP.

Kamailio's own lines (`parsers/kamailio/tests/core.log`) are sent as Kamailio's syslog would send them
(tag `kamailio[2001]`, facility local0); a route by app-name gives them to the kamailio parser, and the
events must equal those of the same lines read from a file but for what the network adds (`log.syslog`
PRI, `observer.ip`, `log.source.address`). A message from an app no route claims becomes a dead letter.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import yaml

from tests.agenthelp import events, start, stop, wait_for

SAMPLES = Path(__file__).parents[2] / "parsers" / "kamailio" / "tests" / "core.log"


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def logger(protocol: str, port: int, tag: str, message: str, *extra: str) -> None:
    subprocess.run(["logger", "--server", "127.0.0.1", "--port", str(port), f"--{protocol}", "--rfc3164",
                    "-p", "local0.err", "-t", tag, *extra, message], check=True, timeout=30)


def config(tmp: Path, udp: int, tcp: int) -> Path:
    path = tmp / "config.yml"
    path.write_text(yaml.safe_dump({
        "agent": {"data_dir": str(tmp / "state"), "stats_interval_secs": 0},
        "inputs": [{
            "type": "syslog", "id": "net", "timezone": "UTC", "batch_max_wait_secs": 0.1,
            "listeners": [{"protocol": "udp", "address": "127.0.0.1", "port": udp},
                          {"protocol": "tcp", "address": "127.0.0.1", "port": tcp}],
            "routes": [{"name": "kamailio", "parser": "kamailio", "app_names": ["kamailio"]}],
        }],
        "outputs": [{"type": "file", "path": str(tmp / "out" / "events.ndjson")}],
        "pipeline": {"workers": 1},
    }))
    return path


def without_network(event: dict[str, Any]) -> dict[str, Any]:
    """The event as the same line read from a file gives it (pipeline-owned fields aside)."""
    out = {k: v for k, v in event.items() if k not in ("observer", "log", "event", "agent", "host", "related")}
    out["event"] = {k: v for k, v in event["event"].items() if k not in ("id", "ingested")}
    return out


def test_lines_sent_by_logger_over_udp_and_tcp_parse_as_from_a_file(tmp_path: Path) -> None:
    udp, tcp = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    proc = start(config(tmp_path, udp, tcp))
    wait_for(lambda: "Syslog listeners up" in (tmp_path / "agent.log").read_text(), timeout=60,
             what="the listeners")
    lines = SAMPLES.read_text().splitlines()
    # logger writes its own header (time, host, tag): send the message part of each Kamailio line
    bodies = [line.split(": ", 1)[1] for line in lines]
    for i, body in enumerate(bodies):
        logger("udp" if i % 2 == 0 else "tcp", udp if i % 2 == 0 else tcp, "kamailio[2001]", body)
    logger("tcp", tcp, "sshd[77]", "Accepted publickey for root from 192.0.2.1 port 50000")
    wait_for(lambda: len(events(tmp_path)) >= len(bodies) + 1, timeout=60, what="every message")
    stop(proc)

    got = events(tmp_path)
    assert len(got) == len(bodies) + 1
    parsed = [e for e in got if e["event"]["kind"] != "pipeline_error"]
    [unrouted] = [e for e in got if e["event"]["kind"] == "pipeline_error"]
    assert unrouted["error"]["type"] == "no_match" and "no route claims this message" in unrouted["error"]["message"]
    assert "sshd[77]: Accepted publickey for root" in unrouted["event"]["original"]  # the filed line, kept
    assert f"(tcp://127.0.0.1:{tcp} from 127.0.0.1:" in unrouted["error"]["message"]
    assert unrouted["log"]["syslog"]["appname"] == "sshd" and unrouted["observer"]["ip"] == ["127.0.0.1"]
    assert len(parsed) == len(bodies)
    for event in parsed:
        assert event["event"]["dataset"] == "kamailio.log"
        assert event["log"]["syslog"]["facility"] == {"code": 16, "name": "local0"}
        assert event["log"]["syslog"]["severity"] == {"code": 3, "name": "err"}
        assert event["log"]["syslog"]["priority"] == 131
        assert event["observer"]["ip"] == ["127.0.0.1"]
        assert event["log"]["source"]["address"].startswith("127.0.0.1:")
    # the same text as a file line: the parser reads the same message whatever carried it
    messages = sorted(e["message"] for e in parsed)
    from_file = sorted(_file_messages(tmp_path))
    assert messages == from_file


def _file_messages(tmp: Path) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "ucsiem", "parse", "--parser", "kamailio", str(SAMPLES)],
                          capture_output=True, text=True, check=True, timeout=120)
    return [orjson.loads(row)["message"] for row in done.stdout.splitlines() if row.strip()]
