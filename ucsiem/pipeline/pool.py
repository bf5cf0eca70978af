"""Parse batches in worker processes so both cores work; results come back in submission order.

Workers are spawned (not forked: the agent has threads) and load the same parsers from the same
config. A batch's result is one blob of newline-separated JSON documents: cheap to ship between
processes, and lossless, since serialized JSON never holds a raw newline.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import select
import signal
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ucsiem.config import ParseTarget
from ucsiem.enrich.stage import Enrichment, EnrichSetup
from ucsiem.inputs.unrouted import UNROUTED_PARSER, UNROUTED_SPEC
from ucsiem.inputs.webhook_sender import SENDER_PARSER, SENDER_SPEC
from ucsiem.normalize import Counters, Normalizer
from ucsiem.parsing.contract import ParseContext
from ucsiem.parsing.registry import ParserRegistry, load_registry
from ucsiem.pipeline.work import BatchJob, run_batch

if TYPE_CHECKING:
    from ucsiem.correlate.detector import Hit


@dataclass(frozen=True)
class WorkerSetup:
    parser_dirs: list[str]
    targets: list[dict[str, Any]]  # ParseTarget dumps (picklable and re-validated in the worker)
    host_name: str | None
    agent_name: str | None
    enrich: EnrichSetup | None = None
    correlation: dict[str, Any] | None = None  # CorrelationConfig dump: each worker compiles the detection rules


@dataclass(frozen=True)
class BatchOutput:
    blob: bytes
    count: int
    counters: Counters
    hits: list[Hit]


log = logging.getLogger("ucsiem.pool")
WORKER_CHECK_SECS = 1.0
MAX_DEATHS_PER_BATCH = 5  # the same batch killing a worker again and again is not bad luck
Prepared = dict[str, tuple[Normalizer, ParseContext]]
PR_SET_PDEATHSIG = 1


def prepare(setup: WorkerSetup, registry: ParserRegistry | None = None) -> Prepared:
    """Normalizer and parse context per parse target (a file input, a syslog route); raises on bad parser
    options (checked at start too)."""
    registry = registry or load_registry([Path(p) for p in setup.parser_dirs])
    # one per process: the identity cache and the GeoIP readers are shared by every input
    enrichment = Enrichment(setup.enrich) if setup.enrich is not None and setup.enrich.active else None
    detector = None
    if setup.correlation is not None:
        from ucsiem.correlate import CorrelationConfig, Detector  # pySigma only where rules are configured

        correlation = CorrelationConfig.model_validate(setup.correlation)
        detector = Detector.from_paths(correlation.rules, correlation)
    out: Prepared = {}
    for raw in setup.targets:
        cfg = ParseTarget.model_validate(raw)
        internal = {UNROUTED_PARSER: UNROUTED_SPEC, SENDER_PARSER: SENDER_SPEC}  # the network inputs' own
        spec = internal[cfg.parser] if cfg.parser in internal else registry.get(cfg.parser).spec
        options = spec.options.model_validate(cfg.parser_options) if spec.options is not None else None
        ctx = ParseContext(timezone=ZoneInfo(cfg.timezone), options=options)
        normalizer = Normalizer(spec, host_name=setup.host_name, agent_name=setup.agent_name,
                                keep_original=cfg.keep_original, max_events_per_record=cfg.max_events_per_record,
                                enrichment=enrichment, detector=detector)
        out[cfg.id] = (normalizer, ctx)
    return out


_prepared: Prepared = {}


def _init_worker(setup: WorkerSetup, parent: int, report: Connection) -> None:
    global _prepared
    die_with_parent(parent)
    # Before the parsers load, so a worker that dies loading them is known too. One write of a few
    # bytes to a pipe is atomic (POSIX, up to PIPE_BUF): the agent never sees half a report, and the
    # workers need no shared lock that one of them could die holding.
    report.send_bytes(f"{os.getpid()} {_start_time(os.getpid())}".encode())
    report.close()
    _prepared = prepare(setup)


def die_with_parent(parent: int) -> None:
    """A worker must not outlive an agent killed with SIGKILL (no chance to shut the pool down)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the pool's own EOF handling is all there is
        return
    if os.getppid() != parent:  # the agent died before prctl took effect
        # os._exit, the public and documented way for a child process to leave at once: sys.exit would
        # be caught by the executor's worker loop and logged as a failed initializer, and the exit
        # handlers (atexit, multiprocessing finalizers) would flush and join for an agent that is gone.
        os._exit(1)


def _start_time(pid: int) -> str:
    """When the process started, in clock ticks since boot (field 22 of /proc/<pid>/stat): with the PID
    it names one process, not whichever reuses the PID later. "" if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return ""


class WorkerWatch:
    """The worker processes of one executor, as they report themselves, watched through pidfds.

    The standard executor does not publish its processes, so each worker sends its PID and start time
    from its initializer through `report` (the write end goes to the workers in initargs). A pidfd
    (Linux 5.3+) becomes readable when its process exits, without reaping it (the executor still
    does), and signals exactly that process, never one that reuses its PID later. Without pidfds
    (another kernel) deaths are only what the executor reports itself (BrokenProcessPool)."""

    def __init__(self, context: BaseContext) -> None:
        self._reports, self.report = context.Pipe(duplex=False)
        self._pidfds: dict[int, int | None] = {}  # PID -> pidfd; None: gone by the time it was opened

    def _collect(self) -> None:
        while not self._reports.closed and self._reports.poll(0):
            pid_text, _, started = self._reports.recv_bytes().decode().partition(" ")
            pid = int(pid_text)
            try:
                pidfd: int | None = os.pidfd_open(pid)
            except ProcessLookupError:  # exited and already reaped
                pidfd = None
            except (AttributeError, OSError) as e:  # no pidfds here (not Linux 5.3+), or no descriptor left
                log.warning("Cannot watch parse worker %d (%s): if it dies while sending a result, the pool "
                            "will wait for it for ever.", pid, e)
                continue
            if pidfd is not None and started and _start_time(pid) != started:  # the PID is another's now
                os.close(pidfd)
                pidfd = None
            self._pidfds[pid] = pidfd

    @property
    def pids(self) -> list[int]:
        """The workers that reported so far (alive or not)."""
        self._collect()
        return list(self._pidfds)

    def all_alive(self) -> bool:
        self._collect()
        if any(fd is None for fd in self._pidfds.values()):
            return False
        poller = select.poll()  # not select(): the agent may hold more than FD_SETSIZE descriptors
        for fd in self._pidfds.values():
            assert fd is not None
            poller.register(fd, select.POLLIN)
        return not poller.poll(0)

    def kill(self) -> None:
        self._collect()
        for fd in self._pidfds.values():
            if fd is not None:
                with contextlib.suppress(ProcessLookupError):  # already gone
                    signal.pidfd_send_signal(fd, signal.SIGKILL)

    def wait_exited(self, timeout: float) -> bool:
        """Whether every reported worker has exited within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        for fd in self._pidfds.values():
            if fd is None:
                continue
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            if not poller.poll(max(0.0, deadline - time.monotonic()) * 1000):
                return False
        return True

    def close(self) -> None:
        self._collect()
        for fd in self._pidfds.values():
            if fd is not None:
                os.close(fd)
        self._pidfds = {pid: None for pid in self._pidfds}
        self._reports.close()
        self.report.close()


def _run(prepared: Prepared, job: BatchJob) -> BatchOutput:
    normalizer, ctx = prepared[job.input_id]
    result = run_batch(normalizer, ctx, job)
    blob = b"\n".join(result.docs) + b"\n" if result.docs else b""
    return BatchOutput(blob, len(result.docs), result.counters, result.hits)


def _run_in_worker(job: BatchJob) -> BatchOutput:
    return _run(_prepared, job)


@dataclass
class Ticket:
    """A submitted batch: the job (to parse it again if needed), its future, and which pool runs it."""

    job: BatchJob
    future: asyncio.Future[BatchOutput]
    generation: int


class WorkerPool:
    """`workers == 0` parses inline in the agent process (simplest to debug)."""

    def __init__(self, setup: WorkerSetup, workers: int, registry: ParserRegistry) -> None:
        self.setup = setup
        self.workers = workers
        self._inline = prepare(setup, registry) if workers == 0 else {}
        self._executor: ProcessPoolExecutor | None = None
        self._watch: WorkerWatch | None = None  # the current executor's workers
        self._retired: list[WorkerWatch] = []  # the workers of replaced executors, killed
        self._generation = 0
        self.replacements = 0
        if workers:
            self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("spawn")
        self._watch = WorkerWatch(context)
        return ProcessPoolExecutor(self.workers, mp_context=context, initializer=_init_worker,
                                   initargs=(self.setup, os.getpid(), self._watch.report))

    @property
    def worker_pids(self) -> list[int]:
        """The PIDs of the current workers that have started (for tests and diagnostics)."""
        return self._watch.pids if self._watch is not None else []

    def submit(self, job: BatchJob) -> Ticket:
        if self._executor is None:
            fut: Future[BatchOutput] = Future()
            fut.set_result(_run(self._inline, job))
            return Ticket(job, asyncio.wrap_future(fut), self._generation)
        try:
            fut = self._executor.submit(_run_in_worker, job)
        except BrokenProcessPool:  # the pool saw a worker die before `result` did
            self._replace_executor()
            assert self._executor is not None
            fut = self._executor.submit(_run_in_worker, job)
        return Ticket(job, asyncio.wrap_future(fut), self._generation)

    async def result(self, ticket: Ticket) -> BatchOutput:
        """The batch's output. When a worker dies (OOM killer, a crash in native code) the pool is
        replaced, and every batch the old pool held is parsed again, in order.

        The standard pool reports a dead worker as BrokenProcessPool, except when the worker died in
        the middle of sending a result: then its manager thread waits for the rest of that message for
        ever. So waiting is done in slices, checking that the pool's processes are still alive (see
        WorkerWatch). A batch that is only slow (a huge API page) is waited for as long as it takes: a
        slice that ends with every worker alive is not a death and does not count towards
        MAX_DEATHS_PER_BATCH."""
        deaths = 0
        while True:
            if ticket.generation != self._generation and not ticket.future.done():
                ticket = self._resubmit(ticket)  # held by a pool already replaced: no use waiting
            try:
                return await asyncio.wait_for(asyncio.shield(ticket.future), WORKER_CHECK_SECS)
            except TimeoutError:
                if ticket.generation == self._generation and self._workers_alive():
                    continue
            except BrokenProcessPool:
                pass
            deaths += 1
            if deaths > MAX_DEATHS_PER_BATCH:
                raise RuntimeError(f"parse workers died {deaths} times on the batch at offset "
                                   f"{ticket.job.starts[0] if ticket.job.starts else 0} of {ticket.job.path}; "
                                   "see the errors above (out of memory? raise the unit's MemoryMax)")
            if ticket.generation == self._generation:
                self._replace_executor()
            ticket = self._resubmit(ticket)

    def _resubmit(self, ticket: Ticket) -> Ticket:
        # the abandoned future may still fail later: consume that, it was handled here
        ticket.future.add_done_callback(lambda f: f.cancelled() or f.exception())
        return self.submit(ticket.job)

    def _workers_alive(self) -> bool:
        return self._watch is None or self._watch.all_alive()

    def _replace_executor(self) -> None:
        log.error("A parse worker died; starting new workers and parsing the batches in flight again.")
        old = self._executor
        if old is not None:
            # The survivors too: the old executor's manager thread may be blocked for ever on a dead
            # worker's half-sent result, and would never stop them.
            if self._watch is not None:
                self._watch.kill()
                self._retired.append(self._watch)
            old.shutdown(wait=False, cancel_futures=True)
        for watch in [w for w in self._retired if w.wait_exited(0)]:
            watch.close()
            self._retired.remove(watch)
        self._executor = self._new_executor()
        self._generation += 1
        self.replacements += 1

    def close(self) -> None:
        if self._executor is not None:
            dead = not self._workers_alive()
            if dead and self._watch is not None:  # its manager thread may be blocked: do not wait for it
                self._retired.append(self._watch)
                self._watch = None
            self._executor.shutdown(wait=not dead, cancel_futures=True)
            self._executor = None
        for watch in self._retired:  # a worker of a replaced pool may have reported only after the kill
            watch.kill()
            if not watch.wait_exited(5.0):
                log.warning("Parse workers of a replaced pool did not exit after SIGKILL: %s", watch.pids)
        for watch in [*self._retired, *([self._watch] if self._watch is not None else [])]:
            watch.close()
        self._retired = []
        self._watch = None
