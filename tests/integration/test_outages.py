# mypy: disable-error-code="import-untyped"
# (aiokafka ships no type information; this comment stays silent if the project ignores it globally.)
"""The agent under outages of its outputs, with the real Kafka 4.4 and Elasticsearch 8.19 (issue 11).

* Kafka down: the agent does not spin. Its broker (a private one: the shared broker is left alone) is stopped
  while lines keep coming; over 10 s the agent makes a handful of connection attempts, not thousands (the
  reconnect backoff, 0.1 s doubling to 2 s, plus the sender's probe each second); the CPU it used is printed.
  Started again, every line is in the topic within seconds of the broker listening.
* Elasticsearch down (a TCP gate in front of the shared node closes its port for 30 s, long enough for the
  sender's backoff to pass 10 s): delivery resumes within seconds of the port opening again, found by the
  sender's probe (GET _cluster/health each second), not at the end of a 12-38 s backoff.
* An index write block (`PUT <index>/_block/write` on the day's index): the output pauses with
  one ERROR per retry that names the index, the block and the request that lifts it, and no per-document
  WARNINGs; the block lifted with that very request, every event arrives, once.
Nothing is lost in any of them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.agenthelp import STARTED, start, stop, write_lines
from tests.integration.eshelp import (
    ES_URL,
    cleanup,
    count,
    es_config,
    json_lines,
    new_namespace,
    reachable,
    records,
    request,
    resolve,
    wait_until,
)
from tests.integration.kafka_private import private_kafka
from tests.integration.kafka_secure import HOST, free_ports
from tests.integration.kafkahelp import TopicReader, kafka_config, run_async, topic_prefix
from ucsiem.config import KafkaOutputConfig
from ucsiem.outputs.kafka import KafkaOutput
from ucsiem.pipeline.delivery import AUTH_DELAY_SECS, PROBE_SECS

ROOT = Path(__file__).resolve().parents[2]
DATASET = "test.lines"  # tests/fixtures/plugins/linetest
WINDOW_SECS = 10.0
MAX_CONNECTS_IN_WINDOW = 40  # paced: ~0.5-1/s per path + the probe's 1/s; unpaced: thousands (200 at the least)
RECOVERY_SECS = 10.0


def cpu_secs(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Writer(threading.Thread):
    """Appends linetest lines, `chunk` every `every` seconds, until stopped; `next` is the next line's number."""

    def __init__(self, path: Path, start: int, chunk: int = 20, every: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.path, self.next, self.chunk, self.every = path, start, chunk, every
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            write_lines(self.path, self.next, self.next + self.chunk)
            self.next += self.chunk
            time.sleep(self.every)

    def finish(self) -> int:
        self._halt.set()
        self.join(10)
        return self.next


def start_counted(config: Path, conns: Path) -> subprocess.Popen[bytes]:
    """The agent with aiokafka's connection attempts counted into `conns` (tests/integration/agent_conncount.py)."""
    with (config.parent / "agent.log").open("ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "tests.integration.agent_conncount", str(conns), "run",
                                 "--config", str(config)], stdout=subprocess.DEVNULL, stderr=log, cwd=ROOT)
    STARTED.append(proc)  # killed after the test by the conftest fixture if it is still running
    return proc


def lines_in(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def stats_of(log: Path, output: str) -> dict[str, Any]:
    stopped = records(log.read_text(errors="replace"), "Agent stopped.")
    assert stopped, "no 'Agent stopped.' record in agent.log"
    result: dict[str, Any] = stopped[-1]["stats"]["outputs"][output]
    return result


def test_kafka_down_the_agent_backs_off_and_delivers_within_seconds_of_the_restart(tmp_path: Path) -> None:
    topic = topic_prefix("outage")
    log = tmp_path / "app.log"
    conns = tmp_path / "connects"
    with private_kafka(tmp_path / "kafka") as kafka:
        config = kafka_config(tmp_path, [str(log)], {"topic": topic, "bootstrap_servers": [kafka.bootstrap]})
        write_lines(log, 0, 100)
        proc = start_counted(config, conns)
        writer = Writer(log, 100)

        async def first_lines() -> None:
            async with TopicReader(topic, kafka.bootstrap, count_seqs=True) as reader:
                await reader.until(lambda r: len(r.counts) >= 100, 90, "the first 100 lines")

        run_async(first_lines(), 120)
        writer.start()
        time.sleep(1)
        kafka.stop()
        time.sleep(3)  # the client notices; the metadata it may fetch on the way down says "no leader"
        before, cpu_before = lines_in(conns), cpu_secs(proc.pid)
        time.sleep(WINDOW_SECS)
        attempts, cpu = lines_in(conns) - before, cpu_secs(proc.pid) - cpu_before
        total = writer.finish()
        listening = kafka.start()
        print(f"\nKafka down for {WINDOW_SECS:.0f} s: {attempts} connection attempts ({attempts / WINDOW_SECS:.1f}/s), "
              f"{cpu:.2f} CPU s ({100 * cpu / WINDOW_SECS:.0f} % of a core); {total} lines written")

        async def every_line() -> float:
            async with TopicReader(topic, kafka.bootstrap, count_seqs=True) as reader:
                await reader.until(lambda r: len(r.counts) >= total, 120, f"all {total} lines")
                return time.monotonic() - listening

        took = run_async(every_line(), 180)
        print(f"every line in the topic {took:.1f} s after the broker listened again")
        stop(proc)
    assert attempts <= MAX_CONNECTS_IN_WINDOW, f"{attempts} connection attempts in {WINDOW_SECS:.0f} s: reconnects spin"
    assert took < RECOVERY_SECS, f"delivery resumed {took:.1f} s after the broker was back"


class TcpGate:
    """A TCP relay on a fixed loopback port: `down()` closes the port and every relayed connection (clients get
    "connection refused"), `up()` listens again on the same port. Runs its own event loop in a thread."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_ports(1)[0]
        self.url = f"http://{HOST}:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def up(self) -> None:
        asyncio.run_coroutine_threadsafe(self._up(), self._loop).result(10)

    def down(self) -> None:
        asyncio.run_coroutine_threadsafe(self._down(), self._loop).result(10)

    def close(self) -> None:
        self.down()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _up(self) -> None:
        self._server = await asyncio.start_server(self._serve, HOST, self.port, reuse_address=True)

    async def _down(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            self._writers.discard(writer)


@pytest.fixture
def es_up() -> None:
    problem = reachable()
    assert problem is None, f"Elasticsearch at {ES_URL} is needed (scripts/services.sh start es): {problem}"


def test_a_kafka_output_closes_while_its_broker_cannot_take_what_it_holds(tmp_path: Path,
                                                                           caplog: pytest.LogCaptureFixture) -> None:
    """The tripwire of `aiokafka_hooks.abandon_pending` with a real broker: aiokafka's stop() waits for ever for
    messages an idempotent producer cannot deliver; the output's close must still return (what it held is
    acknowledged to nobody, so the agent reads it again)."""
    topic = topic_prefix("close-down")
    doc = json.dumps({"event": {"dataset": DATASET}, "message": "x"}).encode()
    with private_kafka(tmp_path / "kafka") as kafka:

        async def main() -> float:
            output = KafkaOutput(KafkaOutputConfig.model_validate(
                {"type": "kafka", "bootstrap_servers": [kafka.bootstrap], "topic": topic}), {})
            await output.start()
            first = await output.send([doc])
            assert not first.retry and not first.rejected
            await asyncio.to_thread(kafka.stop)
            held = asyncio.ensure_future(output.send([doc]))
            await asyncio.sleep(2)  # in the producer, its leader gone
            assert not held.done()
            began = time.monotonic()
            await asyncio.wait_for(output.close(), 60)
            took = time.monotonic() - began
            held.cancel()  # the send loop is gone: its reports never come (the agent stops its senders first)
            return took

        with caplog.at_level(logging.WARNING, logger="ucsiem.output.kafka"):
            took = run_async(main(), 150)
    print(f"\nclosed in {took:.1f} s with a message its broker could not take")
    assert "did not acknowledge every message at close" in caplog.text  # the abandoning path was taken


def test_elasticsearch_down_delivery_resumes_within_seconds_of_the_node_answering(tmp_path: Path, es_up: None) -> None:
    namespace = new_namespace("outage")
    stream = f"logs-uc.{DATASET}-{namespace}"
    gate = TcpGate(("127.0.0.1", int(ES_URL.rsplit(":", 1)[1])))
    gate.up()
    log = tmp_path / "app.log"
    try:
        config = es_config(tmp_path, [str(log)], hosts=[gate.url], namespace=namespace, file_output=False)
        write_lines(log, 0, 100)
        proc = start(config)
        wait_until(lambda: count(stream) == 100, 90, "the first 100 events")
        gate.down()
        write_lines(log, 100, 200)
        time.sleep(30)  # the sender's backoff: 0.2 s doubling, jittered; by now its next wait is 12-38 s
        # In the last PROBE_SECS of a wait the sender sleeps to its scheduled retry without probing: opening the
        # gate then lets that retry deliver first (CI saw it once). Open it while the sender is probing.
        wait_until(lambda: probing_for(tmp_path / "agent.log", 2 * PROBE_SECS), 60, "a backoff wait with time left")
        gate.up()
        opened = time.monotonic()
        wait_until(lambda: count(stream) == 200, 60, "the 100 events written during the outage")
        took = time.monotonic() - opened
        print(f"\nElasticsearch back: the 100 events queued during the 30 s outage were in {took:.1f} s later")
        stop(proc)
        text = (tmp_path / "agent.log").read_text(errors="replace")
        stats = stats_of(tmp_path / "agent.log", "elasticsearch:es")
        assert took < RECOVERY_SECS, f"delivery resumed {took:.1f} s after the node answered again"
        assert records(text, "Output answers again; retrying now."), "the sender did not probe the output"
        assert stats["delivered"] + stats["duplicates"] == 200 and stats["probes"] >= 5, stats
        assert count(stream) == 200
    finally:
        gate.close()
        cleanup(namespace)


def probing_for(agent_log: Path, seconds: float) -> bool:
    """True when the sender's current backoff wait (its last `Output failed; retrying` record: logged when the
    retry was scheduled, `retry_in_secs` later) has more than `seconds` left: it probes the output meanwhile."""
    failed = records(agent_log.read_text(errors="replace"), "Output failed; retrying")
    if not failed:
        return False
    last = failed[-1]
    due = datetime.fromisoformat(last["time"]).timestamp() + float(last["retry_in_secs"])
    return due - time.time() > seconds


def test_an_index_write_block_pauses_the_output_with_an_error_that_says_how_to_lift_it(tmp_path: Path,
                                                                                         es_up: None) -> None:
    namespace = new_namespace("blocked")
    stream = f"logs-uc.{DATASET}-{namespace}-*"
    log = tmp_path / "app.log"
    agent_log = tmp_path / "agent.log"
    backing = ""
    try:
        # daily indices: a data stream's write index cannot take the block API's write block
        config = es_config(tmp_path, [str(log)], hosts=[ES_URL], namespace=namespace, file_output=False,
                           es={"index_mode": "index"})
        write_lines(log, 0, 50)
        proc = start(config)
        wait_until(lambda: count(stream) == 50, 90, "the first 50 events")
        [backing] = [i["name"] for i in resolve(stream)["indices"]]
        request("PUT", f"/{backing}/_block/write")
        write_lines(log, 50, 100)

        def paused() -> list[dict[str, Any]]:
            return [r for r in json_lines(agent_log.read_text(errors="replace"))
                    if r.get("level") == "ERROR" and "PAUSED" in str(r.get("message"))]

        wait_until(lambda: bool(paused()), 60, "an ERROR saying the output is paused")
        error = paused()[0]
        assert error["output"] == "elasticsearch:es" and error["documents"] == 50, error
        assert f"index [{backing}] is blocked for writes (FORBIDDEN/8/index write (api))" in error["error"], error
        lift = re.search(r"lift the block with PUT (\S+)/_settings (\{[^}]*\})", error["error"])
        assert lift is not None and lift.group(1) == backing, error["error"]
        assert count(stream) == 50
        request("PUT", f"/{lift.group(1)}/_settings", json.loads(lift.group(2)))  # the operator does as told
        lifted = time.monotonic()
        wait_until(lambda: count(stream) == 100, AUTH_DELAY_SECS + 30, "the 50 events held back by the block")
        print(f"\nwrite block lifted: the held events were in {time.monotonic() - lifted:.1f} s later "
              f"(the paused output retries every {AUTH_DELAY_SECS:.0f} s)")
        stop(proc)
        stats = stats_of(agent_log, "elasticsearch:es")
        assert (stats["delivered"], stats["duplicates"], stats["dead_letters"]) == (100, 0, {}), stats
        assert stats["auth_failures"] >= 1
        retried = [r for r in json_lines(agent_log.read_text(errors="replace"))
                   if r.get("level") == "WARNING" and r.get("logger") == "ucsiem.delivery"]
        assert retried == [], f"per-document warnings while paused: {retried[:3]}"
    finally:
        if backing:
            request("PUT", f"/{backing}/_settings", {"index.blocks.write": False}, ok=(404,))
        cleanup(namespace)
