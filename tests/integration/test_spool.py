"""The on-disk spool: outputs down, events buffered on disk, agent restarted, outputs back: all delivered.

"Down" is real: the outputs point at a loopback port nothing listens on; the second run points the
same outputs (same ids, so the same spool cursors) at the real Kafka broker and Elasticsearch node.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
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
from ucsiem.errors import ConfigError, SpoolError
from ucsiem.spool.crypto import DamagedBatch, SpoolCipher, write_new_key
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
        {"type": "kafka", "id": "k", "bootstrap_servers": [kafka], "topic": topic, "request_timeout_secs": 5},
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
    checkpoints = json.loads((tmp_path / "state" / "checkpoints.json").read_text())
    offsets = [e["offset"] for e in checkpoints["inputs"]["test"].values()]
    assert offsets == [log.stat().st_size]  # the input moved on: the spool owns the events now
    # Encrypted at rest: no event text in the database file.
    raw = b"".join(row[0] for row in sqlite3.connect(tmp_path / "state" / "spool.db").execute(
        "SELECT data FROM batches"))
    # Whole words of the events: 4 bytes such as "seq=" turn up in ~50 MB of ciphertext about once in 85 runs
    # (a CI run had it), 9 and more practically never.
    assert b"seq=99999" not in raw and b"payload" not in raw and b"labels" not in raw and len(raw) > 0

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
    bad.chmod(0o600)
    with pytest.raises(SpoolError, match="not an AES-256 key"):
        SpoolCipher.from_file(bad)


def test_key_files_hold_hex_or_base64_only(tmp_path: Path) -> None:
    key = os.urandom(32)
    forms = {"hex": key.hex().encode() + b"\n", "base64": base64.b64encode(key) + b"\n",
             "ascii": b"correct horse battery staple 123", "raw": key}
    ciphers: dict[str, SpoolCipher] = {}
    for name, content in forms.items():
        path = tmp_path / f"{name}.key"
        path.write_bytes(content)
        path.chmod(0o600)
        if name in ("ascii", "raw"):
            # 32 typed characters are a password, not 256 bits of key; raw bytes are refused with them
            with pytest.raises(SpoolError, match=r"not an AES-256 key.*64 hex digits or the base64"):
                SpoolCipher.from_file(path)
        else:
            ciphers[name] = SpoolCipher.from_file(path)
    spool_id = b"s" * 16
    sealed = ciphers["hex"].seal(spool_id, 3, b"event")
    assert ciphers["base64"].open(spool_id, 3, sealed) == b"event"  # one key, two spellings


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "spool.key"
    write_new_key(key)
    key.chmod(0o644)
    with pytest.raises(ConfigError, match=r"spool.encryption_key_file: .*spool.key is readable by other users "
                                          r"\(mode 0644\); chmod 600 it"):
        SpoolCipher.from_file(key)


def _feed_with_batches(tmp_path: Path, db: Path, key: Path, count: int) -> None:
    async def run() -> None:
        feed = SpoolFeed.open(SpoolConfig(enabled=True, encryption_key_file=key), db, ["a", "b"])
        for i in range(count):
            await feed.put(f'{{"i":{i}}}\n'.encode(), 1, lambda: None)
        feed.close_db()

    asyncio.run(run())


def _tamper(db: Path, seq: int) -> None:
    """Flip one bit of a spooled batch's ciphertext (its tag then fails)."""
    conn = sqlite3.connect(db)
    [(data,)] = conn.execute("SELECT data FROM batches WHERE seq = ?", (seq,)).fetchall()
    conn.execute("UPDATE batches SET data = ? WHERE seq = ?", (data[:-1] + bytes([data[-1] ^ 1]), seq))
    conn.commit()
    conn.close()


def _drain(db: Path, key: Path) -> tuple[dict[str, list[bytes]], SpoolFeed]:
    async def run() -> tuple[dict[str, list[bytes]], SpoolFeed]:
        feed = SpoolFeed.open(SpoolConfig(enabled=True, encryption_key_file=key), db, ["a", "b"])
        feed.close()
        got: dict[str, list[bytes]] = {}
        for name in ("a", "b"):
            got[name] = []
            while (entry := await feed.next(name)) is not None:
                got[name].append(entry.blob)
                await feed.ack(name, entry)
        return got, feed

    return asyncio.run(run())


def test_a_tampered_batch_is_quarantined_counted_and_the_rest_delivered(tmp_path: Path) -> None:
    key, db = tmp_path / "spool.key", tmp_path / "spool.db"
    write_new_key(key)
    _feed_with_batches(tmp_path, db, key, 3)
    _tamper(db, 1)

    got, feed = _drain(db, key)  # a restart: before the fix, every start stopped on this batch
    assert got == {"a": [b'{"i":0}\n', b'{"i":2}\n'], "b": [b'{"i":0}\n', b'{"i":2}\n']}
    assert (feed.damaged_batches, feed.damaged_events) == (1, 1)  # counted once, though both outputs met it
    assert [b.seq for b in feed.store.quarantined()] == [1]  # kept for a person to examine
    assert feed.store.batches() == []  # and the spool drained past it
    feed.close_db()
    config = tmp_path / "config.yml"
    config.write_text(f"agent: {{data_dir: {tmp_path / 'state'}}}\nspool: {{path: {db}, encryption_key_file: {key}}}\n"
                      f"inputs: [{{id: a, paths: [{tmp_path / 'x.log'}], parser: cisco_expressway}}]\n"
                      f"outputs: [{{type: file, path: {tmp_path / 'out.ndjson'}}}]\n")
    assert spool_status(config)["quarantined"] == {"batches": 1, "events": 1}  # shown to the operator


def test_batches_joined_for_a_send_stop_before_a_damaged_one_that_is_passed_only_after_them(tmp_path: Path) -> None:
    """An output reads the batches waiting as one entry (`max_events`); a damaged batch among them ends the
    entry, quarantined but not acknowledged: the cursor passes it only once the batches before it are."""
    key, db = tmp_path / "spool.key", tmp_path / "spool.db"
    write_new_key(key)
    _feed_with_batches(tmp_path, db, key, 4)
    _tamper(db, 2)

    async def run() -> tuple[list[tuple[list[int], bytes]], dict[str, int], dict[str, int]]:
        feed = SpoolFeed.open(SpoolConfig(enabled=True, encryption_key_file=key), db, ["a"])
        feed.close()
        first = await feed.next("a", 10)
        assert first is not None
        cursor_before_ack = feed.store.cursors()
        await feed.ack("a", first)
        entries = [(list(first.seqs), first.blob)]
        while (entry := await feed.next("a", 10)) is not None:
            entries.append((list(entry.seqs), entry.blob))
            await feed.ack("a", entry)
        cursors = feed.store.cursors()
        feed.close_db()
        return entries, cursor_before_ack, cursors

    entries, before, after = asyncio.run(run())
    assert entries == [([0, 1], b'{"i":0}\n{"i":1}\n'), ([3], b'{"i":3}\n')]
    assert before == {"a": -1}  # batch 2 found damaged while joining did not move the cursor past 0 and 1
    assert after == {"a": 3}


def test_a_row_moved_from_another_spool_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "spool.key"
    write_new_key(key)
    one, other = tmp_path / "one.db", tmp_path / "other.db"
    _feed_with_batches(tmp_path, one, key, 1)
    _feed_with_batches(tmp_path, other, key, 1)
    conn = sqlite3.connect(other)
    [(foreign,)] = sqlite3.connect(one).execute("SELECT data FROM batches WHERE seq = 0").fetchall()
    conn.execute("UPDATE batches SET data = ? WHERE seq = 0", (foreign,))  # same key, same position
    conn.commit()
    conn.close()
    store = SpoolStore(other, SpoolCipher.from_file(key))
    with pytest.raises(DamagedBatch, match="moved from another position or another spool"):
        store.read(0)
    store.close()
    got, feed = _drain(other, key)
    assert got == {"a": [], "b": []} and feed.damaged_batches == 1
    feed.close_db()


def test_an_older_spool_is_upgraded_unless_it_holds_encrypted_batches(tmp_path: Path) -> None:
    key = tmp_path / "spool.key"
    write_new_key(key)
    for encrypted in (False, True):
        db = tmp_path / f"old-{encrypted}.db"
        store = SpoolStore(db, SpoolCipher.from_file(key) if encrypted else None)
        store.append(0, b'{"a":1}\n', 1)
        store.close()
        conn = sqlite3.connect(db)  # what format 1 looked like: no spool identifier
        conn.execute("DELETE FROM meta WHERE key = 'spool_id'")
        conn.execute("UPDATE meta SET value = ? WHERE key = 'format'", (b"1",))
        conn.commit()
        conn.close()
        if encrypted:
            with pytest.raises(SpoolError, match="encrypted batches of an older format"):
                SpoolStore(db, SpoolCipher.from_file(key))
        else:
            store = SpoolStore(db, None)
            assert store.read(0) == b'{"a":1}\n' and len(store.spool_id) == 16
            store.close()


def test_full_spool_blocks_or_drops_as_configured(tmp_path: Path) -> None:
    blob = b"x" * 600_000 + b"\n"

    async def scenario(when_full: Literal["block", "drop_newest"]) -> tuple[int, int, bool, bool]:
        cfg = SpoolConfig(enabled=True, max_bytes=1_048_576, when_full=when_full)
        feed = SpoolFeed.open(cfg, tmp_path / f"{when_full}.db", ["out"])
        stored: list[int] = []
        assert await feed.put(blob, 1, lambda: stored.append(1))
        second = asyncio.create_task(feed.put(blob, 1, lambda: stored.append(2)))
        await asyncio.sleep(0.3)
        blocked = not second.done()
        entry = await feed.next("out")
        assert entry is not None and entry.blob == blob
        await feed.ack("out", entry)  # the first batch delivered: room for the second
        kept = await asyncio.wait_for(second, 5)
        depth = feed.depth()["out"]["events"]
        feed.close_db()
        return len(stored), feed.dropped_events, blocked and depth == 1, kept

    assert asyncio.run(scenario("block")) == (2, 0, True, True)
    # dropped and counted; put says so and leaves the acknowledgement to the caller (it tells its input first)
    stored, dropped, _, kept = asyncio.run(scenario("drop_newest"))
    assert (stored, dropped, kept) == (1, 1, False)


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
