"""Syslog over TCP into the spool while the output is down: backpressure, no loss, no duplicate, kill -9.

"Down" is real: the file output writes into a 64 KiB tmpfs that fills after a few batches (ENOSPC, which
the agent retries); "up" is the same tmpfs remounted larger, under the running agent or before a restart.
The spool (`spool.enabled`) sits between the pipeline and the output; the messages are Expressway event
lines (`parsers/cisco_expressway/tests/event-log.log`) whose AOR carries a sequence number, so every
event says which message it came from.

* 100,000 messages over one TCP connection while the output is down, with a spool bounded to 1 MiB
  (`when_full: block`): the sender is slowed (it stops making progress: its socket is not read while the
  pipeline is full) instead of anything being dropped; once the output is up every message is delivered
  exactly once.
* kill -9 of the agent once N messages are in the spool (`ucsiem spool status`), then a restart with the
  output up: every one of them is delivered (the batch being sent at the kill may come twice).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from tests.agenthelp import delivered, start, stop, wait_for
from tests.agenthelp import events as output_events
from tests.pipeline.syslogtls import HOST, octet_counted, to_rfc5424
from tests.pipeline.test_syslog_tls import free_port, stopped_stats

SAMPLE = (Path(__file__).parents[2] / "parsers" / "cisco_expressway" / "tests" / "event-log.log").read_text()
TEMPLATE = SAMPLE.splitlines()[0]  # Event="Registration Requested" ... AOR="sip:alice.martin@example.com"
assert "alice.martin@" in TEMPLATE
TOTAL = 100_000
BATCH = 1024  # the input's batch_max_records


def message(seq: int) -> bytes:
    return to_rfc5424(TEMPLATE.replace("alice.martin@", f"s{seq}@"))


def seq_of(event: dict[str, Any]) -> int:
    return int(event["source"]["user"]["name"][1:])


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "out"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def grow(mount: Path) -> None:
    subprocess.run(["mount", "-o", "remount,size=400m", str(mount)], check=True)


def config(tmp: Path, port: int, *, spool: dict[str, Any], workers: int) -> Path:
    path = tmp / "config.yml"
    path.write_text(yaml.safe_dump({
        "agent": {"data_dir": str(tmp / "state"), "stats_interval_secs": 0},
        "inputs": [{"type": "syslog", "id": "net", "batch_max_records": BATCH, "batch_max_wait_secs": 0.2,
                    "listeners": [{"protocol": "tcp", "address": HOST, "port": port}],
                    "routes": [{"name": "expressway", "parser": "cisco_expressway", "hostnames": ["exp*"]}]}],
        "outputs": [{"type": "file", "path": str(tmp / "out" / "events.ndjson"), "max_bytes": 200_000_000}],
        "spool": {"enabled": True, **spool},
        "pipeline": {"workers": workers, "max_batches_in_flight": 2, "shutdown_timeout_secs": 30},
    }))
    return path


def spool_status(config_path: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "ucsiem", "spool", "status", "--config", str(config_path)],
                          capture_output=True, text=True, check=True, timeout=60)
    status: dict[str, Any] = orjson.loads(done.stdout)
    return status


class Sender(threading.Thread):
    """One TCP connection, `total` messages in chunks; `sent` is how many the kernel has taken so far."""

    def __init__(self, port: int, total: int, *, octets: bool) -> None:
        super().__init__(daemon=True)
        self.port, self.total, self.octets = port, total, octets
        self.sent = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with socket.create_connection((HOST, self.port), timeout=600) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65_536)
                for start_at in range(0, self.total, 500):
                    chunk = [message(i) for i in range(start_at, min(start_at + 500, self.total))]
                    sock.sendall(octet_counted(chunk) if self.octets else b"".join(m + b"\n" for m in chunk))
                    self.sent = start_at + len(chunk)
        except BaseException as exc:  # reported by the test
            self.error = exc


def stalled(sender: Sender, secs: float) -> bool:
    """The sender has made no progress for `secs` while it had more to send."""
    before = sender.sent
    time.sleep(secs)
    return sender.sent == before < sender.total


def seqs(tmp: Path) -> Counter[int]:
    return Counter(seq_of(e) for e in output_events(tmp))


@pytest.mark.slow
def test_100k_over_tcp_with_the_output_down_are_slowed_then_delivered_exactly_once(
        tmp_path: Path, small_disk: Path) -> None:
    port = free_port()
    proc = start(config(tmp_path, port, spool={"max_bytes": 1_048_576}, workers=1))
    wait_for(lambda: "Syslog listeners up" in (tmp_path / "agent.log").read_text(), timeout=60, what="the listeners")
    sender = Sender(port, TOTAL, octets=False)
    sender.start()
    agent_log = tmp_path / "agent.log"
    wait_for(lambda: b"Output failed; retrying" in agent_log.read_bytes(), timeout=60, what="the output to fail")
    # backpressure: the spool is full, the pipeline is full, the socket buffers are full: the sender waits
    wait_for(lambda: stalled(sender, 2.0), timeout=120, what="the sender to be held back")
    held_at = sender.sent
    assert held_at < TOTAL and sender.error is None and proc.poll() is None
    assert delivered(tmp_path) < held_at  # the output is really down
    time.sleep(3)
    assert sender.sent == held_at  # still held: nothing is read (and so nothing dropped) while full

    grow(small_disk)  # the output is back
    sender.join(180)
    assert not sender.is_alive() and sender.error is None and sender.sent == TOTAL
    wait_for(lambda: delivered(tmp_path) >= TOTAL, timeout=120, what="every message in the output")
    time.sleep(1)  # a duplicate would come now
    stop(proc)

    counts = seqs(tmp_path)
    missing = sorted(set(range(TOTAL)) - set(counts))
    twice = sorted(s for s, n in counts.items() if n > 1)
    assert not missing and not twice, (len(missing), missing[:10], len(twice), twice[:10])
    assert len(counts) == TOTAL
    peers = stopped_stats(tmp_path)["syslog"]["net"][f"tcp://{HOST}:{port}"]["peers"][HOST]
    assert peers["received"] == TOTAL and peers["dropped"] == 0 and peers["unrouted"] == 0


@pytest.mark.slow
def test_kill_9_loses_nothing_that_reached_the_spool(tmp_path: Path, small_disk: Path) -> None:
    count = 20_000
    port = free_port()
    path = config(tmp_path, port, spool={}, workers=0)
    proc = start(path)
    wait_for(lambda: "Syslog listeners up" in (tmp_path / "agent.log").read_text(), timeout=60, what="the listeners")
    sender = Sender(port, count, octets=True)
    sender.start()
    sender.join(120)
    assert sender.error is None and sender.sent == count

    def all_spooled() -> bool:  # undelivered events in the spool, and the few written before the disk filled
        return int(spool_status(path)["events"]) + delivered(tmp_path) >= count

    wait_for(all_spooled, timeout=120, what="every message in the spool")
    assert delivered(tmp_path) < count  # the output is really down: they are in the spool only
    proc.kill()  # kill -9
    proc.wait()

    grow(small_disk)
    proc = start(path)
    wait_for(lambda: delivered(tmp_path) >= count, timeout=120, what="the spool to be delivered after the restart")
    time.sleep(1)
    stop(proc)
    counts = seqs(tmp_path)
    missing = sorted(set(range(count)) - set(counts))
    assert not missing, (len(missing), missing[:10])
    assert set(counts) == set(range(count))
    # the batch being written when the agent was killed may come again; nothing else
    assert sum(n - 1 for n in counts.values()) <= BATCH
    assert spool_status(path)["events"] == 0
