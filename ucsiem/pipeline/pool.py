"""Parse batches in worker processes so both cores work; results come back in submission order.

Workers are spawned (not forked: the agent has threads) and load the same parsers from the same
config. A batch's result is one blob of newline-separated JSON documents: cheap to ship between
processes, and lossless, since serialized JSON never holds a raw newline.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
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


def _init_worker(setup: WorkerSetup, parent: int) -> None:
    global _prepared
    die_with_parent(parent)
    _prepared = prepare(setup)


def die_with_parent(parent: int) -> None:
    """A worker must not outlive an agent killed with SIGKILL (no chance to shut the pool down)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the pool's own EOF handling is all there is
        return
    if os.getppid() != parent:  # the agent died before prctl took effect
        os._exit(1)


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
        self._generation = 0
        self.replacements = 0
        if workers:
            self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(self.setup, os.getpid()))

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
        ever. So waiting is done in slices, checking that the pool's processes are still alive. A batch
        that is only slow (a huge API page) is waited for as long as it takes: slow is not dead."""
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
        processes = getattr(self._executor, "_processes", None) or {}
        return all(p.is_alive() for p in processes.values())

    def _replace_executor(self) -> None:
        log.error("A parse worker died; starting new workers and parsing the batches in flight again.")
        old = self._executor
        if old is not None:
            for process in (getattr(old, "_processes", None) or {}).values():
                process.kill()
            old.shutdown(wait=False, cancel_futures=True)
        self._executor = self._new_executor()
        self._generation += 1
        self.replacements += 1

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
