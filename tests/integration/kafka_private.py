# mypy: disable-error-code="import-untyped"
# (aiokafka ships no type information; this comment stays silent if the project ignores it globally.)
"""A private, single-node, PLAINTEXT Apache Kafka (KRaft) that a test may stop and start at will.

    with private_kafka(tmp_path / "kafka") as kafka:
        ... kafka.bootstrap ...
        kafka.stop()     # SIGTERM, the agent sees the broker gone
        kafka.start()    # same ports, same data: the topics and their records are still there

The shared broker of ``scripts/services.sh`` is used by other tests at the same time: outage tests stop this
one instead. It runs from the jars that script fetches into its cache (see ``kafka_secure``), on free loopback
ports, with its configuration, data and log in the given folder; the JVM dies with the thread that started it.
"""

from __future__ import annotations

import asyncio
import base64
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiokafka import AIOKafkaProducer

from tests.integration.kafka_secure import (
    FORMAT_TIMEOUT,
    HOST,
    READY_TIMEOUT,
    die_with_parent_preexec,
    find_java,
    free_ports,
    kafka_lib,
    log_tail,
    stop_process,
)

HEAP = "384m"
READY_TOPIC = "private-kafka-ready"
LOG4J2 = """\
status = warn
name = ucsiem-private-kafka
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
"""


class PrivateKafka:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port, self.controller_port = free_ports(2)
        self.bootstrap = f"{HOST}:{self.port}"
        self.log = workdir / "kafka.log"
        self._config = workdir / "server.properties"
        self._log4j = workdir / "log4j2.properties"
        self._proc: subprocess.Popen[bytes] | None = None
        self._java = find_java()
        self._classpath = ["-cp", f"{kafka_lib()}/*", f"-Dlog4j2.configurationFile={self._log4j}"]

    def format(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        data = self.workdir / "data"
        data.mkdir(exist_ok=True)
        self._config.write_text("\n".join([
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@{HOST}:{self.controller_port}",
            f"listeners=PLAINTEXT://{HOST}:{self.port},CONTROLLER://{HOST}:{self.controller_port}",
            f"advertised.listeners=PLAINTEXT://{HOST}:{self.port}",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
            "controller.listener.names=CONTROLLER",
            f"log.dirs={data}",
            "num.partitions=1",
            "default.replication.factor=1",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "transaction.state.log.num.partitions=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "auto.create.topics.enable=true",
            "group.initial.rebalance.delay.ms=0",
            "log.segment.bytes=16777216",
        ]) + "\n")
        self._log4j.write_text(LOG4J2)
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        with self.log.open("ab") as out:
            done = subprocess.run(
                [str(self._java), "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", *self._classpath,
                 "kafka.tools.StorageTool", "format", "--config", str(self._config), f"--cluster-id={cluster_id}"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, timeout=FORMAT_TIMEOUT, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"formatting the private Kafka storage failed ({done.returncode}); "
                               f"last lines of {self.log}:\n{log_tail(self.log)}")

    def start(self) -> float:
        """Start the broker and wait until it takes a produce request; returns when it began listening."""
        assert self._proc is None, "the private broker already runs"
        jvm = [f"-Xms{HEAP}", f"-Xmx{HEAP}", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
               "-Djava.awt.headless=true"]
        with self.log.open("ab") as out:
            self._proc = subprocess.Popen([str(self._java), *jvm, *self._classpath, "kafka.Kafka", str(self._config)],
                                          stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                          cwd=self.workdir, start_new_session=True,
                                          preexec_fn=die_with_parent_preexec())
        return asyncio.run(self._wait_ready())

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            stop_process(proc)

    async def _wait_ready(self) -> float:
        deadline = time.monotonic() + READY_TIMEOUT
        last: BaseException | None = None
        listening: float | None = None
        while True:
            proc = self._proc
            assert proc is not None
            if proc.poll() is not None:
                raise RuntimeError(f"the private Kafka broker exited with {proc.returncode}; "
                                   f"last lines of {self.log}:\n{log_tail(self.log)}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"the private Kafka broker was not ready within {READY_TIMEOUT:.0f} s "
                                   f"(last error: {last!r}); last lines of {self.log}:\n{log_tail(self.log)}")
            try:
                _reader, writer = await asyncio.open_connection(HOST, self.port)
                writer.close()
                listening = listening or time.monotonic()
                await self._produce_once(min(left, 20.0))
                return listening
            except Exception as err:  # any failure means "not yet"
                last = err
            await asyncio.sleep(0.2)

    async def _produce_once(self, timeout: float) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, request_timeout_ms=int(timeout * 1000),
                                    retry_backoff_ms=200)
        try:
            async with asyncio.timeout(timeout):
                await producer.start()
                await producer.send_and_wait(READY_TOPIC, b"ready")
        finally:
            await producer.stop()


@contextmanager
def private_kafka(workdir: Path) -> Iterator[PrivateKafka]:
    """Format and start a private PLAINTEXT broker in ``workdir``; stop it on the way out.

    Call it from a thread without a running event loop (its readiness probe uses asyncio.run)."""
    kafka = PrivateKafka(workdir)
    kafka.format()
    try:
        kafka.start()
        yield kafka
    finally:
        kafka.stop()
