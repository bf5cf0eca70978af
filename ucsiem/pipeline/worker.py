"""A parse worker: its own process, started by the pool (`pool.py`), parsing batches until the agent goes.

It reads its setup and then jobs from one pipe and writes results to another: a job and the setup as an
8-byte length and a pickle; a result as two lengths, a small pickle (the output without its blob) and the
blob as it is. This module is all a worker imports of the pipeline: no event loop (asyncio and, through
it, ssl would cost each worker 2.4 MiB for nothing).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import os
import pickle
import signal
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ucsiem.config import ParseTarget
from ucsiem.enrich.stage import Enrichment, EnrichSetup
from ucsiem.heap import keep_heap_top
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


FRAME = struct.Struct("!Q")  # length of the pickle that follows (a job, the setup)
# A result: the length of its pickle (the output without its blob), then of the blob that follows it. The
# blob, most of a result's bytes, is written and read as it is: a pickle of it was one more copy each side.
RESULT = struct.Struct("!QQ")
READ_CHUNK = 1 << 20
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


def worker_main(jobs_fd: int, results_fd: int) -> None:
    """A worker process: its setup, then jobs in and results out, in order, until the agent closes the jobs
    pipe (its end of file)."""
    payload = _read_frame(jobs_fd)
    if payload is None:  # the agent went away before sending the setup
        return
    setup, parent = pickle.loads(payload)
    die_with_parent(parent)
    keep_heap_top()  # every batch's memory is freed at its end: the next one reuses it, not new pages
    prepared = prepare(setup)
    while (payload := _read_frame(jobs_fd)) is not None:
        job: BatchJob = pickle.loads(payload)
        del payload
        blob = b""
        try:
            output = run_job(prepared, job)
            blob = output.blob
            reply: tuple[str, Any] = ("ok", dataclasses.replace(output, blob=b""))
        except Exception as exc:  # a bug, not a bad record (those are dead letters): the agent raises it
            reply = ("error", f"{type(exc).__name__}: {exc}")
        del job
        payload = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        _write_all(results_fd, RESULT.pack(len(payload), len(blob)))
        _write_all(results_fd, payload)
        _write_all(results_fd, blob)


def _read_exactly(fd: int, size: int) -> bytes | None:
    """`size` bytes from a blocking descriptor; None at end of file."""
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, READ_CHUNK))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int) -> bytes | None:
    head = _read_exactly(fd, FRAME.size)
    if head is None:
        return None
    (size,) = FRAME.unpack(head)
    return _read_exactly(fd, size) if size else b""


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


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


def run_job(prepared: Prepared, job: BatchJob) -> BatchOutput:
    normalizer, ctx = prepared[job.input_id]
    result = run_batch(normalizer, ctx, job)
    count = len(result.docs)
    if count:
        result.docs.append(b"")  # the blob ends with a newline, without a second copy to add it
    return BatchOutput(b"\n".join(result.docs), count, result.counters, result.hits)
