"""The running agent: inputs -> parse workers -> feed -> one sender per output, with ordered acks.

    FileInput.run --emit--> [in-flight queue, bounded] --deliver--> Feed --Sender per output--> output
         ^                      (futures of worker pool)         |  (memory, or the disk spool)
         +--------- blocks while full (backpressure)             +--> input ack --> Committer

Batches enter the feed in the order they were read. With the memory feed a batch's input position
is acknowledged once every output delivered it; with the spool, once it is committed to disk. The
committer writes the checkpoints as soon as something was acknowledged, after making the file outputs
durable, so a crash re-reads at most the batches that were in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from ucsiem.config import Config, OutputConfig
from ucsiem.enrich.refresh import IdentityRefresher, IdentityStats
from ucsiem.enrich.stage import EnrichSetup, read_hmac_key
from ucsiem.errors import CheckpointError, ConfigError
from ucsiem.hardening import protect_data_dir
from ucsiem.heap import keep_heap_top
from ucsiem.inputs.checkpoint import CheckpointFile, CheckpointStore
from ucsiem.inputs.file import Batch, FileInput
from ucsiem.inputs.path_check import path_warnings
from ucsiem.inputs.syslog import SyslogInput
from ucsiem.inputs.syslog_config import SyslogInputConfig
from ucsiem.inputs.webhook_config import WebhookInputConfig
from ucsiem.normalize import Counters
from ucsiem.outputs.base import Output
from ucsiem.outputs.registry import BuildContext, build_output
from ucsiem.parsing.registry import ParserRegistry
from ucsiem.pipeline.correlation import CorrelationStage
from ucsiem.pipeline.delivery import Sender
from ucsiem.pipeline.feed import Feed, MemoryFeed
from ucsiem.pipeline.pool import Ticket, WorkerPool, WorkerSetup
from ucsiem.pipeline.work import BatchJob
from ucsiem.service import Notifier
from ucsiem.spool.feed import SpoolFeed

if TYPE_CHECKING:
    from ucsiem.inputs.webhook import WebhookInput

log = logging.getLogger("ucsiem.agent")
CORRELATION_COMMIT_SECS = 1.0
PATH_RECHECK_SECS = 600.0
Reloader = Callable[[], "tuple[Config, ParserRegistry]"]  # reads and checks the config file again (SIGHUP)


@dataclass
class Stats:
    batches: int = 0
    bytes: int = 0
    counters: Counters = field(default_factory=Counters)
    streams: dict[str, Counters] = field(default_factory=dict)  # the same, per parse stream (for /metrics)
    worker_replacements: int = 0
    started: float = field(default_factory=time.monotonic)
    senders: list[Sender] = field(default_factory=list)
    feed: Feed | None = None
    identity: IdentityStats | None = None
    correlation: CorrelationStage | None = None
    incomplete: bool = False  # stopped before everything read was delivered (or spooled)
    syslog: list[SyslogInput] = field(default_factory=list)
    webhook: list[WebhookInput] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        return {
            "records": self.counters.records,
            "events": self.counters.events,
            **({"incomplete": True} if self.incomplete else {}),
            "skipped_records": self.counters.skipped,
            "pipeline_errors": dict(self.counters.errors),
            **({"enrichment": dict(self.counters.enrichment)} if self.counters.enrichment else {}),
            **({"identity": self.identity.summary()} if self.identity is not None else {}),
            **({"syslog": {i.cfg.id: i.summary() for i in self.syslog}} if self.syslog else {}),
            **({"webhook": {i.cfg.id: i.summary() for i in self.webhook}} if self.webhook else {}),
            **({"correlation": {**self.correlation.summary(), "detection_errors": self.counters.detection_errors}}
               if self.correlation is not None else {}),
            "bytes_read": self.bytes,
            "batches": self.batches,
            "outputs": {s.output.name: s.stats.summary() for s in self.senders},
            **({"queued": self.feed.depth()} if self.feed is not None else {}),
            "worker_replacements": self.worker_replacements,
            **({"spool_damaged_batches": self.feed.damaged_batches, "spool_damaged_events": self.feed.damaged_events,
                "spool_file_bytes": self.feed.file_bytes()}
               if isinstance(self.feed, SpoolFeed) else {}),
            "elapsed_secs": round(elapsed, 3),
            "records_per_sec": round(self.counters.records / elapsed),
            "cpu_secs_agent": round(_cpu(resource.RUSAGE_SELF), 2),
            "cpu_secs_workers": round(_cpu(resource.RUSAGE_CHILDREN), 2),  # complete once the pool is shut down
        }


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def make_output(cfg: OutputConfig, versions: dict[str, str]) -> Output:
    """The output a config item describes, built by its registry entry (`ucsiem.outputs.registry`)."""
    return build_output(cfg, BuildContext(parser_versions=versions))


def parser_versions(parsers: ParserRegistry, config: Config) -> dict[str, str]:
    """event.dataset -> the version of the parser that produces it (stamped in Kafka headers), for the
    parsers the configuration uses (the others make no events here, and are not imported)."""
    used = [parsers.get(t.parser).spec for t in config.parse_targets() if t.parser in parsers]
    return {spec.dataset: spec.version for spec in used}


def _webhook_input(cfg: WebhookInputConfig) -> WebhookInput:
    from ucsiem.inputs.webhook import WebhookInput  # aiohttp, a quarter of a second of start-up: only when used

    return WebhookInput(cfg)


class Agent:
    def __init__(self, config: Config, parsers: ParserRegistry, *, once: bool = False,
                 outputs: list[Output] | None = None, reloader: Reloader | None = None,
                 notifier: Notifier | None = None) -> None:
        protect_data_dir(config.agent.data_dir)  # before the checkpoints, spool, outputs and workers exist
        self.config = config
        self.reloader = reloader  # how SIGHUP reads the config again (None: SIGHUP is ignored)
        self.reload_to: tuple[Config, ParserRegistry] | None = None
        self._reloading = False
        self.notifier = notifier or Notifier()
        self.parsers = parsers
        self.once = once
        self.stats = Stats()
        self.store = CheckpointStore(config.agent.data_dir)
        self.checkpoints = self.store.load()
        versions = parser_versions(parsers, config)
        self.outputs = outputs if outputs is not None else [make_output(c, versions) for c in config.outputs]
        pc = config.pipeline
        names = [o.name for o in self.outputs]
        self.spool: SpoolFeed | None = None
        if config.spool.enabled:
            self.spool = SpoolFeed.open(config.spool, config.spool_path(), names)
        self.feed: Feed = self.spool or MemoryFeed(names, pc.max_batches_in_flight)
        self.senders = [Sender(o, self.feed, config.agent.data_dir, sync_each_batch=self.spool is not None)
                        for o in self.outputs]
        self.stats.senders, self.stats.feed = self.senders, self.feed
        self._dirty = asyncio.Event()
        self.inputs: list[FileInput | SyslogInput | WebhookInput] = []
        # parse stream -> the input that acks its batches
        self._by_id: dict[str, FileInput | SyslogInput | WebhookInput] = {}
        for cfg in config.inputs:
            if isinstance(cfg, SyslogInputConfig | WebhookInputConfig):
                if once:  # a listener has no end: --once would never return
                    raise ConfigError("configuration", [f"inputs: {cfg.id!r} is a {cfg.type} input; run --once "
                                                        "reads files to their end, a listener never ends: run "
                                                        "without --once"])
                if isinstance(cfg, SyslogInputConfig):
                    syslog = SyslogInput(cfg)
                    self.stats.syslog.append(syslog)
                    network: SyslogInput | WebhookInput = syslog
                else:
                    webhook = _webhook_input(cfg)
                    self.stats.webhook.append(webhook)
                    network = webhook
                self.inputs.append(network)
                self._by_id.update(dict.fromkeys(network.streams, network))
                continue
            file_input = FileInput(cfg, parsers.get(cfg.parser).spec, self.checkpoints.inputs.setdefault(cfg.id, {}),
                                   once=once, batch_max_records=pc.batch_max_records, on_progress=self._dirty.set)
            self.inputs.append(file_input)
            self._by_id[cfg.id] = file_input
        enrich = config.enrich
        self.identity = IdentityRefresher(enrich, config.agent.data_dir) if enrich.identity is not None else None
        self.stats.identity = self.identity.stats if self.identity is not None else None
        enrich_setup = EnrichSetup(enrich.model_dump(mode="json"),
                                   str(self.identity.path) if self.identity is not None else None,
                                   read_hmac_key(enrich))
        self.correlation = (CorrelationStage(config.correlation, config.agent.data_dir)
                            if config.correlation is not None else None)
        self.stats.correlation = self.correlation
        setup = WorkerSetup([str(p) for p in config.agent.parser_dirs],
                            [t.model_dump(mode="json") for t in config.parse_targets()], socket.gethostname(),
                            config.agent.name, enrich_setup,
                            config.correlation.model_dump(mode="json") if config.correlation is not None else None)
        self.pool = WorkerPool(setup, pc.worker_count(), parsers)
        # a batch and its parse ticket; an input id once that input has ended (--once); None after the last
        self._queue: asyncio.Queue[tuple[Batch, Ticket] | str | None] = asyncio.Queue(
            pc.max_batches_in_flight)
        # Batches stored since the positions of the last finished commit: at most max_batches_in_flight, so
        # a kill -9 re-reads at most what was in flight even when a commit (an fsync) is slow. With
        # correlation, commits come at most once a second (the state is saved with them): no bound there.
        self._uncommitted_limit = pc.max_batches_in_flight if config.correlation is None else None
        self._stored = 0  # batches handed to the feed
        self._covered = 0  # of those, how many the last finished commit's positions were taken after
        self._committed = asyncio.Event()
        self._commit_lock = threading.Lock()
        self._snapshot_seq = 0  # snapshots taken (loop thread)
        self._saved_seq = 0  # the newest one committed (under the lock)
        self._stop = asyncio.Event()

    # -- lifecycle -------------------------------------------------------------------------------

    def request_stop(self) -> None:
        if not self._stop.is_set():
            log.info("Stopping: no new reads; delivering what is in flight.")
            self._stop.set()
            self.notifier.stopping("reloading: draining" if self.reload_to is not None else "draining")
            for inp in self.inputs:
                inp.stop()

    def request_reload(self) -> None:
        """SIGHUP: read and check the config again; a good one replaces this agent after a drain (positions
        committed, the spool kept), a bad one is refused and this agent runs on."""
        if self.reloader is None or self._stop.is_set() or self._reloading:
            return
        self._reloading = True
        asyncio.get_running_loop().create_task(self._reload(self.reloader), name="reload")

    async def _reload(self, reloader: Reloader) -> None:
        try:
            new = await asyncio.to_thread(reloader)
        except Exception as exc:  # ConfigError, PluginError, RuleError...: say why and keep running
            log.error("Reload refused: the new configuration is not valid; the running one stays.",
                      extra={"error": str(exc)})
            self.notifier.status(f"reload refused: {str(exc).splitlines()[0]}")
            self._reloading = False
            return
        log.info("Reloading: draining, then starting with the new configuration.")
        self.notifier.reloading()
        self.reload_to = new
        self.request_stop()

    async def run(self) -> Stats:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.request_stop)
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGHUP, self.request_reload)
        self.store.save(self.checkpoints)  # fail now, not after reading, if the data dir is not writable
        path_problems = path_warnings(self.config)
        for problem in path_problems:  # read as soon as they appear, but say so now
            log.warning("An input path finds nothing to read.", extra={"problem": problem})
        log.info("Agent started.", extra={"inputs": [i.cfg.id for i in self.inputs],
                                          "outputs": [o.name for o in self.outputs], "workers": self.pool.workers,
                                          "spool": str(self.config.spool_path()) if self.spool else None})
        if self.identity is not None:  # before reading: the first events already get their identities
            await self.identity.start()
        senders = [asyncio.create_task(s.run(), name=f"output:{s.output.name}") for s in self.senders]
        extra_tasks: list[asyncio.Task[None]] = []
        if self.config.agent.metrics is not None or self.once:  # prometheus-client only where it is used
            from ucsiem.metrics import observe

            extra_tasks.append(asyncio.create_task(observe(self), name="metrics"))
        # Outputs that cannot start at all (a file output's folder is not writable) stop us before reading.
        await self._wait_started(senders)
        deliver = asyncio.create_task(self._deliver(), name="deliver")
        committer = asyncio.create_task(self._commit_loop(), name="committer")
        stats = asyncio.create_task(self._stats_loop(), name="stats")
        refresher = asyncio.create_task(self.identity.run(), name="identity") if self.identity is not None else None
        if self.correlation is not None and not self.once:
            extra_tasks.append(asyncio.create_task(self._tick_loop(self.correlation), name="correlation-clock"))
        if path_problems and not self.once:
            extra_tasks.append(asyncio.create_task(self._path_watch(), name="path-watch"))
        readers = [asyncio.create_task(self._read(inp), name=f"input:{inp.cfg.id}") for inp in self.inputs]
        extra_tasks.append(asyncio.create_task(self.notifier.pet_watchdog(), name="watchdog"))
        self.notifier.ready(f"reading {len(self.inputs)} input(s) into {len(self.outputs)} output(s)")
        try:
            pending: set[asyncio.Task[None]] = {*readers, deliver, committer, *senders}
            while not all(r.done() for r in readers):
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()  # re-raise a failed stage (checkpoints that cannot be written stop us)
                if deliver.done() or committer.done() or any(t.done() for t in senders):
                    raise RuntimeError("a pipeline stage ended unexpectedly")
            await self._queue.put(None)  # every input has ended: let delivery finish and return
            await self._drain(deliver, senders)
            if self.once and self._stop.is_set():
                self.stats.incomplete = True  # stopped before the end of the files
        finally:
            extra = [*extra_tasks, *([refresher] if refresher is not None else [])]
            for task in (*readers, deliver, stats, *senders, *extra):
                task.cancel()
            await asyncio.gather(*readers, deliver, stats, *senders, *extra, return_exceptions=True)
            committer.cancel()
            await asyncio.gather(committer, return_exceptions=True)
            commit_error: CheckpointError | None = None
            try:
                await asyncio.to_thread(self._commit, *self._snapshots())
            except CheckpointError as exc:
                commit_error = exc  # still close outputs and workers; then report it
            for out in self.outputs:
                with contextlib.suppress(Exception):
                    await out.close()
            if self.spool is not None:
                self.spool.close_db()
            self.pool.close()
            self.stats.worker_replacements = self.pool.replacements
            if commit_error is not None:
                raise commit_error
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
        self.stats.bytes = sum(i.bytes_read for i in self.inputs)
        # --once: the command prints the same counters as its last line on stderr (once, not twice)
        log.info("Agent stopped.", extra={} if self.once else {"stats": self.stats.summary()})
        return self.stats

    async def _wait_started(self, senders: list[asyncio.Task[None]]) -> None:
        """Give outputs a moment to connect; raise if one failed for good (the rest retry in the background)."""
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and not all(
                s.started.is_set() or t.done() for s, t in zip(self.senders, senders, strict=True)):
            await asyncio.sleep(0.02)
        for task in senders:
            if task.done():
                task.result()

    async def _drain(self, deliver: asyncio.Task[None], senders: list[asyncio.Task[None]]) -> None:
        """After the last read: put the rest into the feed and let the outputs take it, within the timeout.

        With the spool, a stop (not --once) does not wait for the outputs: what is spooled stays on disk.
        """
        timeout = self.config.pipeline.shutdown_timeout_secs
        waiting: list[asyncio.Task[None]] = [deliver]
        if self.spool is None or self.once:
            waiting += senders
        try:
            async with asyncio.timeout(timeout):
                await asyncio.shield(deliver)
                self.feed.close()
                await asyncio.gather(*(asyncio.shield(t) for t in waiting))
        except TimeoutError:
            depth = self.feed.depth()
            if self.spool is not None:
                log.warning("Shutdown timeout: undelivered events stay in the spool for the next start.",
                            extra={"queued": depth})
            else:
                log.error("Shutdown timeout: batches still in flight are not acknowledged and will be read "
                          "again at the next start.", extra={"in_flight": self._queue.qsize(), "queued": depth})
            # --once promised everything delivered; a service stop promises only that nothing is lost
            self.stats.incomplete = self.once

    # -- stages ----------------------------------------------------------------------------------

    async def _read(self, inp: FileInput | SyslogInput | WebhookInput) -> None:
        await inp.run(self._emit)
        if self.once:
            await self._queue.put(inp.cfg.id)  # after its last batch: correlation stops waiting for its time

    async def _emit(self, batch: Batch) -> None:
        job = BatchJob.of(batch.input_id, batch.source_key, batch.path, batch.frames, batch.headers,
                          batch.reference_time, datetime.now(UTC), batch.record_fields, batch.syslog)
        await self._queue.put((batch, self.pool.submit(job)))  # blocks while full: the reader stops reading

    async def _deliver(self) -> None:
        if self.correlation is not None and self.correlation.unsent:  # a previous run made them, none stored
            await self._put_alerts(self.correlation.unsent)
            self.correlation.unsent = []
        while True:
            item = await self._queue.get()
            if item is None:  # queued after the last batch of every input
                if self.correlation is not None and self.once:  # the end of the logs closes every window
                    await self._put_alerts(self.correlation.flush())
                return
            if isinstance(item, str):
                if self.correlation is not None:
                    await self._put_alerts(self.correlation.finish(item))
                continue
            batch, ticket = item
            result = await self.pool.result(ticket)
            self.stats.batches += 1
            self.stats.counters.merge(result.counters)
            self.stats.streams.setdefault(batch.input_id, Counters()).merge(result.counters)
            ack = partial(self._by_id[batch.input_id].ack, batch)
            if self.correlation is None:
                await self._room_to_store()
                await self._store(result.blob, result.count, ack, batch)
                continue
            # the batch's alerts travel with it: stored (spooled or delivered) together, acknowledged together
            alerts = self.correlation.feed(result.hits, batch.input_id, batch.source_key)
            await self._store(result.blob + _joined(alerts), result.count + len(alerts),
                              _both(ack, self.correlation.hold(alerts)), batch)

    async def _room_to_store(self) -> None:
        """Wait while too many stored batches are not yet covered by a finished commit (see __init__)."""
        limit = self._uncommitted_limit
        while limit is not None and self._stored - self._covered >= limit:
            self._committed.clear()
            self._dirty.set()  # a commit round now, also where acks do not ask for one (network inputs)
            await self._committed.wait()

    async def _store(self, blob: bytes, count: int, on_stored: Callable[[], None], batch: Batch | None) -> None:
        """Into the feed. A batch the spool dropped (`when_full: drop_newest`, counted there) is acknowledged
        all the same, as gone for good, after its input heard of the drop (a webhook answers 503, not 200)."""
        self._stored += 1
        if await self.feed.put(blob, count, on_stored):
            return
        if batch is not None:
            self._by_id[batch.input_id].dropped(batch)
        on_stored()

    async def _put_alerts(self, alerts: list[bytes]) -> None:
        """An alert-only batch (time passed, end of input, unsent at the last stop)."""
        if alerts and self.correlation is not None:
            await self._store(_joined(alerts), len(alerts), _both(self._dirty.set, self.correlation.hold(alerts)), None)

    async def _path_watch(self) -> None:
        """A glob that stays empty (a log that never came, a folder renamed) is said again, then once it is
        fixed; one check every PATH_RECHECK_SECS (globbing is cheap, a warning every minute is noise)."""
        known = set(path_warnings(self.config))
        while known:
            await asyncio.sleep(PATH_RECHECK_SECS)
            now = set(await asyncio.to_thread(path_warnings, self.config))
            for problem in sorted(now):
                log.warning("An input path still finds nothing to read.", extra={"problem": problem})
            for problem in sorted(known - now):
                log.info("An input path finds files to read now.", extra={"problem": problem})
            known = now

    async def _tick_loop(self, correlation: CorrelationStage) -> None:
        while True:
            await asyncio.sleep(1.0)
            await self._put_alerts(correlation.tick())

    # -- checkpoints -----------------------------------------------------------------------------

    def _snapshots(self) -> tuple[CheckpointFile, bytes | None, int]:
        """Taken together in the loop thread: the correlation state is never older than the positions. The
        number orders the snapshots (see _commit)."""
        state = self.correlation.snapshot() if self.correlation is not None else None
        self._snapshot_seq += 1
        return self.checkpoints.model_copy(deep=True), state, self._snapshot_seq

    def _commit(self, snapshot: CheckpointFile, correlation_state: bytes | None, seq: int) -> None:
        # One commit at a time, never an older snapshot after a newer one: the commit loop's thread goes on
        # when its task is cancelled at shutdown, and its older snapshot saved after the final one moved the
        # positions back (a --once run re-read its last batch at the next start, seen once in a CI run).
        with self._commit_lock:
            if seq <= self._saved_seq:
                return
            self._saved_seq = seq
            for out in self.outputs:
                out.sync()
            if correlation_state is not None and self.correlation is not None:
                self.correlation.save(correlation_state)  # first: a crash between the two re-reads, never skips
            self.store.save(snapshot)

    async def _commit_loop(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            # Snapshot in the loop thread: every position in it was acknowledged, so written before the
            # sync that follows. Acks arriving meanwhile are picked up by the next round (group commit).
            stored = self._stored
            await asyncio.to_thread(self._commit, *self._snapshots())
            self._covered = stored
            self._committed.set()
            if self.correlation is not None:
                # the correlation state goes with every commit: at most one a second (a crash re-reads at most
                # a second more, which the state recognises by event id), not one per batch
                await asyncio.sleep(CORRELATION_COMMIT_SECS)

    async def _stats_loop(self) -> None:
        interval = self.config.agent.stats_interval_secs
        if interval <= 0:
            return
        while True:
            await asyncio.sleep(interval)
            self.stats.bytes = sum(i.bytes_read for i in self.inputs)
            log.info("Pipeline counters.", extra={"stats": self.stats.summary()})


def _joined(docs: list[bytes]) -> bytes:
    return b"\n".join(docs) + b"\n" if docs else b""


def _both(first: Callable[[], None], second: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        first()
        second()

    return run


def run_agent(config: Config, parsers: ParserRegistry, *, once: bool, reloader: Reloader | None = None) -> Stats:
    """Run until the inputs end (--once) or a stop; a reload (SIGHUP) starts the next agent in the same
    process after the last one drained and committed its positions: nothing is lost or read twice."""
    keep_heap_top()  # the read buffers and batches are freed and made again all the time

    async def main() -> Stats:
        nonlocal config, parsers
        notifier = Notifier()
        while True:
            agent = Agent(config, parsers, once=once, reloader=reloader, notifier=notifier)
            stats = await agent.run()
            if agent.reload_to is None:
                return stats
            config, parsers = agent.reload_to
            log.info("Reloaded: starting with the new configuration.")

    return asyncio.run(main())
