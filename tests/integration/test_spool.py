"""The on-disk spool: outputs down, events buffered on disk, agent restarted, outputs back: all delivered.

"Down" is real: the outputs point at a loopback port nothing listens on; the second run points the
same outputs (same ids, so the same spool cursors) at the real Kafka broker and Elasticsearch node.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from aiokafka import AIOKafkaConsumer

from tests.agenthelp import make_config, start, stop, wait_for, write_lines
from ucsiem.config import SpoolConfig
from ucsiem.errors import SpoolError
from ucsiem.spool.crypto import SpoolCipher, write_new_key
from ucsiem.spool.feed import SpoolFeed
from ucsiem.spool.store import SpoolStore

ES = "http://127.0.0.1:19200"
KAFKA = "127.0.0.1:19092"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def es_count(pattern: str) -> int:
    urllib.request.urlopen(urllib.request.Request(f"{ES}/{pattern}/_refresh", method="POST"), timeout=30).read()
    with urllib.request.urlopen(f"{ES}/{pattern}/_count", timeout=30) as resp:
        return int(json.load(resp)["count"])


def spool_status(config: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "ucsiem", "spool", "status", "--config", str(config)],
                         capture_output=True, text=True, check=True, timeout=60)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


async def consume_seqs(topic: str, expected: int, timeout: float = 120) -> list[int]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=KAFKA, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    seqs: list[int] = []
    try:
        deadline = time.monotonic() + timeout
        while len(seqs) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            for records in batch.values():
                seqs.extend(int(json.loads(r.value)["labels"]["seq"]) for r in records if r.value)
    finally:
        await consumer.stop()
    return seqs


def spool_config(tmp: Path, log: Path, es_host: str, kafka: str, topic: str, ns: str, **spool: Any) -> Path:
    path = make_config(tmp, [str(log)], pipeline={"batch_max_records": 2000, "shutdown_timeout_secs": 10})
    config = yaml.safe_load(path.read_text())
    config["outputs"] = [
        {"type": "elasticsearch", "id": "es", "hosts": [es_host], "namespace": ns, "request_timeout_secs": 5},
        {"type": "kafka", "id": "k", "bootstrap_servers": [kafka], "topic": topic, "request_timeout_ms": 5000},
    ]
    config["spool"] = {"enabled": True, **spool}
    path.write_text(yaml.safe_dump(config))
    return path


def test_outputs_down_100k_events_spooled_then_all_delivered(tmp_path: Path) -> None:
    n = 100_000
    log = tmp_path / "calls.log"
    write_lines(log, 0, n)
    ns, topic = f"spool{uuid.uuid4().hex[:8]}", f"spool-{uuid.uuid4().hex[:8]}"
    key = tmp_path / "spool.key"
    write_new_key(key)
    down = spool_config(tmp_path, log, f"http://127.0.0.1:{closed_port()}", f"127.0.0.1:{closed_port()}", topic, ns,
                        encryption_key_file=str(key))

    proc = start(down)
    # Every line is read and acknowledged to the input once it is in the spool, while both outputs are down.
    wait_for(lambda: spool_status(down).get("events") == n, timeout=120, what="100k events in the spool")
    stop(proc)
    status = spool_status(down)
    assert status["outputs"]["elasticsearch:es"]["events"] == n
    assert status["outputs"]["kafka:k"]["events"] == n
    registry = json.loads((tmp_path / "state" / "registry.json").read_text())
    offsets = [e["offset"] for e in registry["inputs"]["test"].values()]
    assert offsets == [log.stat().st_size]  # the input moved on: the spool owns the events now
    # Encrypted at rest: no event text in the database file.
    raw = b"".join(row[0] for row in sqlite3.connect(tmp_path / "state" / "spool.db").execute(
        "SELECT data FROM batches"))
    assert b"seq=" not in raw and b"labels" not in raw and len(raw) > 0

    log.rename(tmp_path / "gone.log")  # the second run can only deliver from the spool
    up = spool_config(tmp_path, log, ES, KAFKA, topic, ns, encryption_key_file=str(key))
    proc = start(up)
    wait_for(lambda: spool_status(up)["events"] == 0, timeout=240, what="spool drained")
    stop(proc)
    assert es_count(f"logs-uc.*-{ns}") == n
    seqs = asyncio.run(consume_seqs(topic, n))
    assert sorted(set(seqs)) == list(range(n))
    assert len(seqs) == n  # a clean stop and restart: no batch was sent twice


def test_wrong_key_and_tampering_are_refused(tmp_path: Path) -> None:
    key, other = tmp_path / "a.key", tmp_path / "b.key"
    write_new_key(key)
    write_new_key(other)
    db = tmp_path / "spool.db"
    store = SpoolStore(db, SpoolCipher.from_file(key))
    store.append(0, b'{"a":1}\n', 1)
    store.close()
    with pytest.raises(SpoolError, match="another key"):
        SpoolStore(db, SpoolCipher.from_file(other))
    with pytest.raises(SpoolError, match="encrypted batches"):
        SpoolStore(db, None)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE batches SET seq = 5")  # a row moved to another position fails authentication
    conn.commit()
    conn.close()
    store = SpoolStore(db, SpoolCipher.from_file(key))
    with pytest.raises(SpoolError, match="fails authentication"):
        store.read(5)
    store.close()
    with pytest.raises(FileExistsError):
        write_new_key(key)
    bad = tmp_path / "bad.key"
    bad.write_text("not a key\n")
    with pytest.raises(SpoolError, match="not an AES-256 key"):
        SpoolCipher.from_file(bad)


def test_full_spool_blocks_or_drops_as_configured(tmp_path: Path) -> None:
    blob = b"x" * 600_000 + b"\n"

    async def scenario(when_full: Literal["block", "drop_newest"]) -> tuple[int, int, bool]:
        cfg = SpoolConfig(enabled=True, max_bytes=1_048_576, when_full=when_full)
        feed = SpoolFeed.open(cfg, tmp_path / f"{when_full}.db", ["out"])
        stored: list[int] = []
        await feed.put(blob, 1, lambda: stored.append(1))
        second = asyncio.create_task(feed.put(blob, 1, lambda: stored.append(2)))
        await asyncio.sleep(0.3)
        blocked = not second.done()
        entry = await feed.next("out")
        assert entry is not None and entry.blob == blob
        await feed.ack("out", entry)  # the first batch delivered: room for the second
        await asyncio.wait_for(second, 5)
        depth = feed.depth()["out"]["events"]
        feed.close_db()
        return len(stored), feed.dropped_events, blocked and depth == 1

    stored, dropped, blocked_then_kept = asyncio.run(scenario("block"))
    assert (stored, dropped, blocked_then_kept) == (2, 0, True)
    stored, dropped, _ = asyncio.run(scenario("drop_newest"))
    assert (stored, dropped) == (2, 1)  # acknowledged upstream (dropped on purpose) and counted


def test_cursors_survive_restart_and_new_outputs_start_at_the_oldest_batch(tmp_path: Path) -> None:
    async def first_run() -> None:
        feed = SpoolFeed.open(SpoolConfig(enabled=True), tmp_path / "s.db", ["a", "b"])
        for i in range(3):
            await feed.put(f'{{"i":{i}}}\n'.encode(), 1, lambda: None)
        for name, upto in (("a", 3), ("b", 1)):
            for _ in range(upto):
                entry = await feed.next(name)
                assert entry is not None
                await feed.ack(name, entry)
        feed.close_db()

    async def second_run() -> dict[str, list[bytes]]:
        feed = SpoolFeed.open(SpoolConfig(enabled=True), tmp_path / "s.db", ["b", "c"])
        feed.close()
        got: dict[str, list[bytes]] = {}
        for name in ("b", "c"):
            got[name] = []
            while (entry := await feed.next(name)) is not None:
                got[name].append(entry.blob)
                await feed.ack(name, entry)
        remaining = len(feed.store.batches())
        feed.close_db()
        got["remaining"] = [str(remaining).encode()]
        return got

    asyncio.run(first_run())
    got = asyncio.run(second_run())
    assert got["b"] == [b'{"i":1}\n', b'{"i":2}\n']  # b resumes after what it had
    assert got["c"] == [b'{"i":1}\n', b'{"i":2}\n']  # c is new: from the oldest batch still spooled ("a" is gone)
    assert got["remaining"] == [b"0"]
