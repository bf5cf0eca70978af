# mypy: disable-error-code="import-untyped"
# (aiokafka ships no type information; this comment stays silent if the project ignores it globally.)
"""The Kafka output against real brokers: the shared one of scripts/services.sh and a private SASL_SSL one.

* a real sample log arrives field for field (headers, key, zstd), the same as the file output writes it;
* the broker stopped for 30 s mid-stream and started again: every event arrives, at most a batch twice;
* the agent SIGKILLed mid-stream and restarted: every event arrives, duplicates within the in-flight bound;
* events larger than max_message_bytes arrive as small dead letters, every other one as itself;
* a broker that dies while events wait for it does not hold a stopping agent past its shutdown timeout;
* TLS + SASL/SCRAM-SHA-512 delivers everything; a wrong password pauses the output loudly, acknowledges
  nothing, and the agent still stops cleanly within its shutdown timeout.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka.structs import ConsumerRecord

from tests.agenthelp import events, line, run_once, start, stop, write_lines
from tests.integration.kafka_secure import SecureKafka, secure_kafka
from tests.integration.kafkahelp import (
    TopicReader,
    agent_log,
    batch_codecs,
    broker_pids,
    kafka_config,
    kafka_running,
    log_records,
    once_summary,
    read_topic,
    registry_offsets,
    run_async,
    start_kafka,
    stop_kafka,
    topic_prefix,
)
from ucsiem.parsing.registry import load_registry

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples"
OUTPUT = "kafka:k"  # output_name() of the Kafka output the configs declare (id "k")


@pytest.fixture(autouse=True)
def _shared_kafka_is_up() -> None:
    """Every test here needs the shared broker (the outage test restarts it in a finally)."""
    if not kafka_running():
        start_kafka()


def doc(record: ConsumerRecord) -> dict[str, Any]:
    value = record.value
    assert isinstance(value, bytes), record
    parsed: dict[str, Any] = orjson.loads(value)
    return parsed


def canonical(document: dict[str, Any]) -> bytes:
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


# ---------------------------------------------------------------- 1. a real sample, field for field

def test_sample_log_arrives_field_for_field_with_headers_key_and_zstd(tmp_path: Path) -> None:
    sample = SAMPLES / "cisco_expressway" / "samples.log"
    assert sample.is_file(), f"missing sample log {sample}"
    prefix = topic_prefix("sample")
    config = kafka_config(tmp_path, [str(sample)], {"topic": prefix + ".{event.dataset}", "key_field": "source.ip",
                                                    "compression": "zstd"},
                          file_output=True, parser="cisco_expressway")
    proc = run_once(config, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = once_summary(proc)

    file_events = events(tmp_path)
    assert len(file_events) == summary["records"] > 0
    spec = load_registry().get("cisco_expressway").spec
    topic = f"{prefix}.{spec.dataset}"
    records = run_async(read_topic(topic, len(file_events)), 90)

    # The same documents, as many times each, as the file output wrote.
    assert len(records) == len(file_events), f"{len(records)} messages in {topic}, {len(file_events)} in the file"
    assert Counter(canonical(doc(r)) for r in records) == Counter(canonical(e) for e in file_events)
    assert summary["outputs"][OUTPUT]["delivered"] == len(file_events), summary["outputs"]
    assert summary["outputs"][OUTPUT]["dead_letters"] == {}, summary["outputs"]

    keyed = 0
    for record in records:
        event = doc(record)
        assert dict(record.headers) == {"ucsiem.dataset": spec.dataset.encode(),
                                        "ucsiem.parser_version": spec.version.encode()}, record.headers
        assert len(record.headers) == 2, record.headers
        ip = event.get("source", {}).get("ip")
        assert record.key == (ip.encode() if ip is not None else None), (record.key, event.get("source"))
        keyed += ip is not None
    assert keyed > 0, "the sample has events with source.ip: some messages must carry a key"

    codecs = run_async(batch_codecs(topic), 60)
    assert codecs and set(codecs) == {"zstd"}, f"record batches by codec: {dict(codecs)}"


# ---------------------------------------------------------------- 2. the broker down for 30 s mid-stream

OUTAGE_TOTAL = 20_000
OUTAGE_BATCH = 1000
OUTAGE_SECS = 30.0


class Writer(threading.Thread):
    """Appends linetest lines in chunks at a steady pace, from `start` up to `cap`, until stopped."""

    def __init__(self, path: Path, start: int, cap: int, chunk: int = 100, every: float = 0.25) -> None:
        super().__init__(name="log-writer", daemon=True)
        self.path, self.next, self.cap, self.chunk, self.every = path, start, cap, chunk, every
        self.halt = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while self.next < self.cap and not self.halt.is_set():
                stop_at = min(self.next + self.chunk, self.cap)
                write_lines(self.path, self.next, stop_at)
                self.next = stop_at
                self.halt.wait(self.every)
        except BaseException as exc:  # reported by finish()
            self.error = exc

    def finish(self) -> int:
        self.halt.set()
        self.join(timeout=30)
        assert not self.is_alive(), "the log writer did not stop"
        if self.error is not None:
            raise self.error
        return self.next


def retry_logs(config: Path) -> list[dict[str, Any]]:
    """The agent's own warnings or errors about retrying deliveries of the Kafka output (not aiokafka's)."""
    return [r for r in log_records(config)
            if str(r.get("logger", "")).startswith("ucsiem") and r.get("output") == OUTPUT
            and r.get("level") in ("WARNING", "ERROR") and "retr" in str(r.get("message", "")).lower()]


@pytest.mark.slow
def test_broker_stopped_30s_mid_stream_loses_nothing(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "live.log"
    log.parent.mkdir()
    log.touch()
    prefix = topic_prefix("outage")
    topic = f"{prefix}.test.lines"
    config = kafka_config(tmp_path, [str(log)], {"topic": prefix + ".{event.dataset}", "request_timeout_secs": 5},
                          pipeline={"batch_max_records": OUTAGE_BATCH, "max_batches_in_flight": 4,
                                    "shutdown_timeout_secs": 10})
    data_dir = tmp_path / "state"
    proc = start(config)
    writer = Writer(log, 0, OUTAGE_TOTAL * 3 // 4)
    writer.start()
    try:
        # Delivery is under way (an offset is only committed once Kafka acknowledged its batch) ...
        deadline = time.monotonic() + 60
        while not any(registry_offsets(data_dir)):
            assert time.monotonic() < deadline, f"nothing delivered to Kafka in 60 s:\n{agent_log(config)}"
            assert proc.poll() is None, f"the agent exited with {proc.returncode}:\n{agent_log(config)}"
            time.sleep(0.1)
        # ... and lines are still being written when the broker goes away.
        time.sleep(1.0)
        assert writer.is_alive() and writer.next < writer.cap, "the writer finished before the outage began"
        stop_kafka()
        down_at = time.monotonic()
        written_at_stop = writer.next
        time.sleep(max(0.0, OUTAGE_SECS - (time.monotonic() - down_at)))
        assert proc.poll() is None, f"the agent exited during the outage:\n{agent_log(config)}"
        assert writer.next > written_at_stop, "no line was written during the outage"
    finally:
        if not kafka_running():
            start_kafka()
        end = writer.finish()
    write_lines(log, end, OUTAGE_TOTAL)
    up_at = time.monotonic()

    async def collect() -> tuple[Counter[int], float]:
        async with TopicReader(topic, count_seqs=True) as reader:
            try:  # retries back off to at most 45 s: two minutes is plenty once the broker is back
                await reader.until(lambda r: len(r.counts) >= OUTAGE_TOTAL, 120, f"all {OUTAGE_TOTAL} seqs")
            except AssertionError as exc:
                raise AssertionError(f"{exc}; agent.log without aiokafka's lines:\n{agent_log(config)}") from None
            caught_up = time.monotonic() - up_at
            stop(proc, timeout=60)
            await reader.drain()
            return reader.counts, caught_up

    counts, caught_up = run_async(collect(), 300)
    missing = [i for i in range(OUTAGE_TOTAL) if counts[i] == 0]
    assert not missing, f"{len(missing)} events lost, first {missing[:10]}"
    duplicates = sum(counts.values()) - OUTAGE_TOTAL
    retries = retry_logs(config)
    print(f"\noutage: {written_at_stop} lines written when Kafka stopped, {end} when it was back, "
          f"all {OUTAGE_TOTAL} consumed {caught_up:.1f} s after the restart; {duplicates} duplicates; "
          f"{len(retries)} retry log lines")
    assert duplicates <= OUTAGE_BATCH, (f"{duplicates} duplicates after a broker outage exceed one batch "
                                        f"(batch_max_records = {OUTAGE_BATCH})")
    if not retries:
        library = sum('"logger": "aiokafka' in raw for raw in agent_log(config, None, library=True).splitlines())
        raise AssertionError(f"during a {OUTAGE_SECS:.0f} s broker outage the agent logged no retry of {OUTPUT} "
                             f"(request_timeout_secs 5), only {library} lines of aiokafka's own. Its own lines:\n"
                             f"{agent_log(config)}")


# ---------------------------------------------------------------- 3. the agent SIGKILLed mid-stream

CRASH_TOTAL = 200_000
CRASH_BATCH = 1000
CRASH_IN_FLIGHT = 4


@pytest.mark.slow
def test_agent_sigkilled_mid_stream_and_restarted_loses_nothing(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "big.log"
    log.parent.mkdir()
    write_lines(log, 0, CRASH_TOTAL, text="x" * 40)
    prefix = topic_prefix("crash")
    topic = f"{prefix}.test.lines"
    config = kafka_config(tmp_path, [str(log)], {"topic": prefix + ".{event.dataset}"},
                          pipeline={"batch_max_records": CRASH_BATCH, "max_batches_in_flight": CRASH_IN_FLIGHT,
                                    "shutdown_timeout_secs": 10})
    data_dir = tmp_path / "state"

    async def scenario() -> tuple[Counter[int], int]:
        proc = start(config)
        deadline = time.monotonic() + 60
        while not any(registry_offsets(data_dir)):  # the topic exists once a batch was acknowledged
            assert time.monotonic() < deadline, f"nothing delivered in 60 s:\n{agent_log(config)}"
            assert proc.poll() is None, f"the agent exited with {proc.returncode}:\n{agent_log(config)}"
            time.sleep(0.05)
        async with TopicReader(topic, count_seqs=True) as reader:
            await reader.until(lambda r: len(r.counts) >= CRASH_TOTAL // 2, 120, "half of the events")
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            seen_at_kill = len(reader.counts)
            again = start(config)
            try:
                await reader.until(lambda r: len(r.counts) >= CRASH_TOTAL, 180, f"all {CRASH_TOTAL} seqs")
            except AssertionError as exc:
                raise AssertionError(f"{exc}; agent.log without aiokafka's lines:\n{agent_log(config)}") from None
            stop(again, timeout=60)
            await reader.drain()
            return reader.counts, seen_at_kill

    counts, seen_at_kill = run_async(scenario(), 400)
    assert seen_at_kill < CRASH_TOTAL, "the agent had delivered everything before it was killed"
    missing = [i for i in range(CRASH_TOTAL) if counts[i] == 0]
    assert not missing, f"{len(missing)} events lost, first {missing[:10]}"
    duplicates = sum(counts.values()) - CRASH_TOTAL
    bound = 2 * CRASH_IN_FLIGHT * CRASH_BATCH + CRASH_BATCH
    print(f"\ncrash: killed with {seen_at_kill} distinct events consumed; {duplicates} duplicates (bound {bound})")
    assert duplicates <= bound, (
        f"{duplicates} duplicates after one SIGKILL exceed the in-flight bound {bound} = "
        f"2 * max_batches_in_flight ({CRASH_IN_FLIGHT}) * batch_max_records ({CRASH_BATCH}) + one batch")


# ---------------------------------------------------------------- 4. oversize events become dead letters

OVERSIZE_LIMIT = 2048


def test_oversize_events_arrive_as_dead_letters_and_the_rest_as_events(tmp_path: Path) -> None:
    total = 200
    long_seqs = {i for i in range(total) if i % 20 == 7}
    log = tmp_path / "logs" / "mixed.log"
    log.parent.mkdir()
    log.write_text("".join(line(i, "L" * 4000 if i in long_seqs else "short payload") for i in range(total)))
    prefix = topic_prefix("oversize")
    topic = f"{prefix}.test.lines"
    config = kafka_config(tmp_path, [str(log)], {"topic": prefix + ".{event.dataset}",
                                                 "max_message_bytes": OVERSIZE_LIMIT}, file_output=True)
    proc = run_once(config, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = once_summary(proc)["outputs"]

    # The file output takes everything: it holds the originals.
    raw_lines = (tmp_path / "out" / "events.ndjson").read_bytes().splitlines()
    originals = {orjson.loads(raw)["event"]["id"]: raw for raw in raw_lines
                 if int(orjson.loads(raw)["labels"]["seq"]) in long_seqs}
    assert len(raw_lines) == total and len(originals) == len(long_seqs)
    assert all(len(raw) > OVERSIZE_LIMIT for raw in originals.values())

    local = tmp_path / "state" / "dead-letters.ndjson"
    local_text = local.read_text()[:600] if local.exists() else ""
    assert summary[OUTPUT]["dead_letters"] == {"oversize": len(long_seqs)}, summary[OUTPUT]
    assert summary[OUTPUT]["dead_letters_local"] == 0, (
        f"{summary[OUTPUT]['dead_letters_local']} dead letters were refused by Kafka too and kept in {local}; "
        f"they should fit max_message_bytes ({OVERSIZE_LIMIT}) with event.original cut short. First bytes:\n"
        f"{local_text}")
    assert not local.exists(), local_text

    records = run_async(read_topic(topic, total), 90)
    normal = [doc(r) for r in records if doc(r)["event"]["kind"] != "pipeline_error"]
    letters = [r for r in records if doc(r)["event"]["kind"] == "pipeline_error"]
    assert Counter(int(e["labels"]["seq"]) for e in normal) == Counter(set(range(total)) - long_seqs)
    assert len(letters) == len(long_seqs), f"{len(letters)} dead letters in {topic}"
    assert len(records) == total

    seen_ids = set()
    for record in letters:
        value = record.value
        assert isinstance(value, bytes)
        assert len(value) <= OVERSIZE_LIMIT, f"a dead letter of {len(value)} bytes"
        letter = doc(record)
        assert letter["error"]["type"] == "output_oversize", letter["error"]
        assert letter["event"]["dataset"] == "test.lines"
        original = originals.get(letter["event"]["id"])
        assert original is not None, f"dead letter with an unknown event.id {letter['event']['id']}"
        seen_ids.add(letter["event"]["id"])
        text = letter["event"]["original"]
        assert text and original.decode().startswith(text), "event.original is not the start of the original JSON"
        assert len(text.encode()) < len(original), "event.original was not cut short"
        assert "original_truncated" in letter.get("tags", []), letter.get("tags")
        assert dict(record.headers)["ucsiem.dataset"] == b"test.lines"
    assert seen_ids == set(originals), "each oversize event has exactly one dead letter"


# ---------------------------------------------------------------- 5. TLS + SASL/SCRAM-SHA-512

SECURE_TOTAL = 500
SHUTDOWN_TIMEOUT = 5.0


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureKafka]:
    with secure_kafka(tmp_path_factory.mktemp("secure-kafka")) as broker:
        yield broker


def secure_output(kafka: SecureKafka, topic: str, password_file: Path) -> dict[str, Any]:
    return {"bootstrap_servers": [kafka.bootstrap], "topic": topic, "request_timeout_secs": 10,
            "tls": {"ca_file": str(kafka.ca_file)},
            "sasl": {"mechanism": "SCRAM-SHA-512", "username": kafka.username, "password_file": str(password_file)}}


def secret_file(path: Path, secret: str) -> Path:
    path.write_text(secret + "\n")
    path.chmod(0o600)
    return path


def secure_client(kafka: SecureKafka) -> dict[str, Any]:
    return {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": kafka.username, "sasl_plain_password": kafka.password,
            "ssl_context": kafka.ssl_context()}


def test_sigterm_while_the_broker_is_down_stops_within_the_shutdown_timeout(tmp_path: Path) -> None:
    """A broker that vanished while events wait for it must not hold a stopping agent past its timeout.

    (A private broker, placed before the module's one so that only one runs at a time: it is killed here.)"""
    workdir = tmp_path / "broker"
    with secure_kafka(workdir) as kafka:
        log = tmp_path / "logs" / "a.log"
        log.parent.mkdir()
        write_lines(log, 0, 1000)
        first_size = log.stat().st_size
        topic = topic_prefix("vanished")
        output = {**secure_output(kafka, topic, secret_file(tmp_path / "kafka.pw", kafka.password)),
                  "request_timeout_secs": 5}
        config = kafka_config(tmp_path, [str(log)], output, pipeline={"shutdown_timeout_secs": SHUTDOWN_TIMEOUT})
        data_dir = tmp_path / "state"
        proc = start(config)
        deadline = time.monotonic() + 60
        while not any(registry_offsets(data_dir)):
            assert time.monotonic() < deadline, f"nothing delivered in 60 s:\n{agent_log(config)}"
            assert proc.poll() is None, f"the agent exited with {proc.returncode}:\n{agent_log(config)}"
            time.sleep(0.1)
        pids = broker_pids(workdir)
        assert len(pids) == 1, f"broker JVMs for {workdir}: {pids}"
        os.kill(pids[0], signal.SIGKILL)
        write_lines(log, 1000, 3000)  # read, but never delivered
        time.sleep(3)
        assert proc.poll() is None, f"the agent exited with {proc.returncode}:\n{agent_log(config)}"

        stopping = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=SHUTDOWN_TIMEOUT + 15)
        except subprocess.TimeoutExpired:
            pytest.fail(f"SIGTERM with the broker gone: the agent still runs {SHUTDOWN_TIMEOUT + 15:.0f} s later "
                        f"(shutdown_timeout_secs {SHUTDOWN_TIMEOUT}). Last lines of agent.log:\n"
                        f"{agent_log(config)}")
        took = time.monotonic() - stopping
        assert proc.returncode == 0, f"agent exited with {proc.returncode}:\n{agent_log(config)}"
        assert took <= SHUTDOWN_TIMEOUT + 5, f"the agent took {took:.1f} s to stop"
        assert all(offset <= first_size for offset in registry_offsets(data_dir)), \
            f"lines written after the broker died were acknowledged: {registry_offsets(data_dir)}"


def test_tls_and_scram_sha512_deliver_every_event(tmp_path: Path, secure: SecureKafka) -> None:
    log = tmp_path / "logs" / "a.log"
    log.parent.mkdir()
    write_lines(log, 0, SECURE_TOTAL)
    topic = topic_prefix("secure")
    config = kafka_config(tmp_path, [str(log)],
                          secure_output(secure, topic, secret_file(tmp_path / "kafka.pw", secure.password)))
    proc = run_once(config, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert once_summary(proc)["outputs"][OUTPUT]["delivered"] == SECURE_TOTAL

    records = run_async(read_topic(topic, SECURE_TOTAL, bootstrap=secure.bootstrap, **secure_client(secure)), 90)
    assert len(records) == SECURE_TOTAL
    assert sorted(int(doc(r)["labels"]["seq"]) for r in records) == list(range(SECURE_TOTAL))


def test_wrong_scram_password_pauses_loudly_acks_nothing_and_stops_cleanly(tmp_path: Path,
                                                                           secure: SecureKafka) -> None:
    log = tmp_path / "logs" / "a.log"
    log.parent.mkdir()
    write_lines(log, 0, SECURE_TOTAL)
    topic = topic_prefix("badpw")
    password_file = secret_file(tmp_path / "kafka.pw", "not-" + secure.password)
    config = kafka_config(tmp_path, [str(log)], secure_output(secure, topic, password_file),
                          pipeline={"shutdown_timeout_secs": SHUTDOWN_TIMEOUT})
    data_dir = tmp_path / "state"
    proc = start(config)
    started = time.monotonic()
    wanted = f"refused the credentials of user {secure.username!r} with SCRAM-SHA-512"

    def paused() -> list[dict[str, Any]]:
        return [r for r in log_records(config) if r.get("output") == OUTPUT and r.get("level") == "ERROR"
                and "PAUSED" in r.get("message", "") and wanted in r.get("error", "")]

    deadline = started + 60
    while not paused() or time.monotonic() - started < 10:
        assert time.monotonic() < deadline, f"no 'PAUSED' error with {wanted!r} in agent.log:\n" \
                                            f"{agent_log(config)}"
        assert proc.poll() is None, f"the agent exited with {proc.returncode}:\n{agent_log(config)}"
        time.sleep(0.2)
    record = paused()[0]
    assert record["message"].startswith("Output refused our credentials or permissions; it is PAUSED"), record
    assert secure.bootstrap in record["error"], record
    assert "not-" + secure.password not in agent_log(config, None, library=True), "the password must never be logged"
    assert not any(registry_offsets(data_dir)), f"an offset was committed: {registry_offsets(data_dir)}"

    stopping = time.monotonic()
    stop(proc, timeout=SHUTDOWN_TIMEOUT + 15)
    took = time.monotonic() - stopping
    assert took <= SHUTDOWN_TIMEOUT + 5, f"the agent took {took:.1f} s to stop (shutdown timeout {SHUTDOWN_TIMEOUT} s)"
    assert not any(registry_offsets(data_dir)), f"an offset was committed: {registry_offsets(data_dir)}"

    # Nothing was acknowledged: with the right password, the whole file is read (and delivered) again.
    secret_file(password_file, secure.password)
    again = run_once(config, timeout=120)
    assert again.returncode == 0, again.stderr[-3000:]
    assert once_summary(again)["outputs"][OUTPUT]["delivered"] == SECURE_TOTAL
    records = run_async(read_topic(topic, SECURE_TOTAL, bootstrap=secure.bootstrap, **secure_client(secure)), 90)
    assert sorted(int(doc(r)["labels"]["seq"]) for r in records) == list(range(SECURE_TOTAL))
