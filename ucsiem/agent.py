"""The running agent: inputs -> parse workers -> outputs, with ordered acks and group-committed checkpoints.

    FileInput.run --emit--> [in-flight queue, bounded] --deliver--> outputs --ack--> AckTracker
         ^                      (futures of worker pool)                              |
         +--------- blocks while full (backpressure)            Committer: sync outputs, save registry

Batches are delivered in the order they were read, so acks arrive in order; the tracker still
enforces contiguity. The committer writes the registry as soon as something was acknowledged, after
making the outputs durable, so a crash re-reads at most the batches that were in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import resource
import signal
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ucsiem.config import Config, FileOutputConfig, StdoutOutputConfig
from ucsiem.errors import CheckpointError, OutputError
from ucsiem.inputs.checkpoint import CheckpointStore, RegistryFile
from ucsiem.inputs.file import Batch, FileInput
from ucsiem.normalize import Counters
from ucsiem.outputs.base import Output
from ucsiem.outputs.file import FileOutput
from ucsiem.outputs.stdout import StdoutOutput
from ucsiem.parsing.registry import ParserRegistry
from ucsiem.pipeline.pool import BatchOutput, Ticket, WorkerPool, WorkerSetup
from ucsiem.pipeline.work import BatchJob

log = logging.getLogger("ucsiem.agent")


@dataclass
class Stats:
    batches: int = 0
    bytes: int = 0
    delivered: int = 0
    counters: Counters = field(default_factory=Counters)
    output_retries: int = 0
    worker_replacements: int = 0
    started: float = field(default_factory=time.monotonic)

    def summary(self) -> dict[str, object]:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        return {
            "records": self.counters.records,
            "events": self.counters.events,
            "skipped_records": self.counters.skipped,
            "pipeline_errors": dict(self.counters.errors),
            "delivered_documents": self.delivered,
            "bytes_read": self.bytes,
            "batches": self.batches,
            "output_retries": self.output_retries,
            "worker_replacements": self.worker_replacements,
            "elapsed_secs": round(elapsed, 3),
            "records_per_sec": round(self.counters.records / elapsed),
            "cpu_secs_agent": round(_cpu(resource.RUSAGE_SELF), 2),
            "cpu_secs_workers": round(_cpu(resource.RUSAGE_CHILDREN), 2),  # complete once the pool is shut down
        }


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def make_output(cfg: FileOutputConfig | StdoutOutputConfig) -> Output:
    if isinstance(cfg, FileOutputConfig):
        return FileOutput(cfg)
    return StdoutOutput()


class Agent:
    def __init__(self, config: Config, parsers: ParserRegistry, *, once: bool = False) -> None:
        self.config = config
        self.parsers = parsers
        self.once = once
        self.stats = Stats()
        self.store = CheckpointStore(config.agent.data_dir)
        self.registry = self.store.load()
        self.outputs = [make_output(c) for c in config.outputs]
        pc = config.pipeline
        self._dirty = asyncio.Event()
        self.inputs = [
            FileInput(cfg, parsers.get(cfg.parser).spec, self.registry.inputs.setdefault(cfg.id, {}), once=once,
                      batch_max_records=pc.batch_max_records, on_progress=self._dirty.set)
            for cfg in config.inputs
        ]
        self._by_id = {inp.cfg.id: inp for inp in self.inputs}
        setup = WorkerSetup([str(p) for p in config.agent.parser_dirs],
                            [c.model_dump(mode="json") for c in config.inputs], socket.gethostname(),
                            config.agent.name)
        self.pool = WorkerPool(setup, pc.worker_count(), parsers)
        self._queue: asyncio.Queue[tuple[Batch, Ticket] | None] = asyncio.Queue(
            pc.max_batches_in_flight)
        self._stop = asyncio.Event()

    # -- lifecycle -------------------------------------------------------------------------------

    def request_stop(self) -> None:
        if not self._stop.is_set():
            log.info("Stopping: no new reads; delivering what is in flight.")
            self._stop.set()
            for inp in self.inputs:
                inp.stop()

    async def run(self) -> Stats:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.request_stop)
        for out in self.outputs:
            await out.start()
        self.store.save(self.registry)  # fail now, not after reading, if the data dir is not writable
        log.info("Agent started.", extra={"inputs": [i.cfg.id for i in self.inputs],
                                          "outputs": [o.name for o in self.outputs], "workers": self.pool.workers})
        deliver = asyncio.create_task(self._deliver(), name="deliver")
        committer = asyncio.create_task(self._commit_loop(), name="committer")
        stats = asyncio.create_task(self._stats_loop(), name="stats")
        readers = [asyncio.create_task(inp.run(self._emit), name=f"input:{inp.cfg.id}") for inp in self.inputs]
        try:
            pending: set[asyncio.Task[None]] = {*readers, deliver, committer}
            while not all(r.done() for r in readers):
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()  # re-raise a failed stage (a registry that cannot be written stops us)
                if deliver.done() or committer.done():
                    raise RuntimeError("a pipeline stage ended unexpectedly")
            await self._queue.put(None)  # every input has ended: let delivery finish and return
            try:
                await asyncio.wait_for(asyncio.shield(deliver), self.config.pipeline.shutdown_timeout_secs)
            except TimeoutError:
                log.error("Shutdown timeout: batches still in flight are not acknowledged and will be read "
                          "again at the next start.", extra={"in_flight": self._queue.qsize()})
                deliver.cancel()
        finally:
            for task in (*readers, deliver, stats):
                task.cancel()
            await asyncio.gather(*readers, deliver, stats, return_exceptions=True)
            committer.cancel()
            await asyncio.gather(committer, return_exceptions=True)
            commit_error: CheckpointError | None = None
            try:
                await asyncio.to_thread(self._commit, self.registry.model_copy(deep=True))
            except CheckpointError as exc:
                commit_error = exc  # still close outputs and workers; then report it
            for out in self.outputs:
                await out.close()
            self.pool.close()
            self.stats.worker_replacements = self.pool.replacements
            if commit_error is not None:
                raise commit_error
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
        self.stats.bytes = sum(i.bytes_read for i in self.inputs)
        log.info("Agent stopped.", extra={"stats": self.stats.summary()})
        return self.stats

    # -- stages ----------------------------------------------------------------------------------

    async def _emit(self, batch: Batch) -> None:
        job = BatchJob.of(batch.input_id, batch.source_key, batch.path, batch.frames, batch.headers,
                       batch.reference_time, datetime.now(UTC))
        await self._queue.put((batch, self.pool.submit(job)))  # blocks while full: the reader stops reading

    async def _deliver(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:  # queued after the last batch of every input
                return
            batch, ticket = item
            result = await self.pool.result(ticket)
            await self._write_all(result)
            self.stats.batches += 1
            self.stats.delivered += result.count
            self.stats.counters.merge(result.counters)
            self._by_id[batch.input_id].ack(batch)

    async def _write_all(self, result: BatchOutput) -> None:
        for out in self.outputs:
            delay = 0.2
            while True:
                try:
                    await out.write(result.blob, result.count)
                    break
                except OutputError as exc:
                    if not exc.retriable:
                        raise
                    self.stats.output_retries += 1
                    log.error("Output failed; retrying (nothing is dropped, reading is paused).",
                              extra={"output": out.name, "error": str(exc), "retry_in_secs": round(delay, 2)})
                    await asyncio.sleep(delay * (0.5 + random.random()))
                    delay = min(delay * 2, 30.0)

    # -- checkpoints -----------------------------------------------------------------------------

    def _commit(self, snapshot: RegistryFile) -> None:
        for out in self.outputs:
            out.sync()
        self.store.save(snapshot)

    async def _commit_loop(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            # Snapshot in the loop thread: every position in it was acknowledged, so written before the
            # sync that follows. Acks arriving meanwhile are picked up by the next round (group commit).
            await asyncio.to_thread(self._commit, self.registry.model_copy(deep=True))

    async def _stats_loop(self) -> None:
        interval = self.config.agent.stats_interval_secs
        if interval <= 0:
            return
        while True:
            await asyncio.sleep(interval)
            self.stats.bytes = sum(i.bytes_read for i in self.inputs)
            log.info("Pipeline counters.", extra={"stats": self.stats.summary()})


def run_agent(config: Config, parsers: ParserRegistry, *, once: bool) -> Stats:
    async def main() -> Stats:
        return await Agent(config, parsers, once=once).run()

    return asyncio.run(main())
