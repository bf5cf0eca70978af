"""Parse batches in worker processes so both cores work; results come back in submission order.

Workers are new interpreters (not forked: the agent has threads), started with `subprocess` and given
the agent's `sys.path`, and load the same parsers from the same config. Not `multiprocessing`: its spawn
start method also starts a resource tracker process (13 MiB), which the pool has no use for. A batch's
result is one blob of newline-separated JSON documents: cheap to ship between processes, and lossless,
since serialized JSON never holds a raw newline.

The pool owns its processes and their pipes (no concurrent.futures executor): each worker reads its setup
and then jobs from one pipe and writes results to another, both framed here (8-byte length, then a
pickle). The agent writes and reads its ends without blocking, from the event loop, so a worker that dies
at any moment, even half-way through writing a result, is an end of file on its results pipe (only the
worker holds the other end) that the loop sees: its batches go to a new worker, in order, and nothing
waits for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import logging
import os
import pickle
import subprocess
import sys
from collections import deque
from dataclasses import dataclass, field

from ucsiem.parsing.registry import ParserRegistry
from ucsiem.pipeline.work import BatchJob
from ucsiem.pipeline.worker import (
    FRAME,
    READ_CHUNK,
    RESULT,
    BatchOutput,
    WorkerSetup,
    die_with_parent,
    prepare,
    run_job,
)

__all__ = ["WORKER_NAME", "BatchOutput", "PoolBroken", "Ticket", "WorkerPool", "WorkerSetup", "die_with_parent",
           "prepare"]


log = logging.getLogger("ucsiem.pool")
MAX_DEATHS_PER_BATCH = 5  # the same batch killing a worker again and again is not bad luck
IN_FLIGHT_PER_WORKER = 2  # one being parsed, one waiting in the worker's pipe: no idle gap between batches
PIPE_BYTES = 1 << 20
STOP_WAIT_SECS = 10.0  # at close: a worker finishes the batch it holds, then is killed
EXIT_WAIT_SECS = 1.0  # a worker whose results pipe closed is on its way out: its own exit status is logged


# The worker's command: the agent's sys.path first (a plugin or a checkout the agent imports from must be
# importable in the worker too), then the loop. The name in argv shows the process in `ps`.
WORKER_NAME = "ucsiem-parse-worker"
_WORKER_CODE = ("import sys; sys.path[:] = {path!r}; "
                "from ucsiem.pipeline.worker import worker_main; worker_main(int(sys.argv[2]), int(sys.argv[3]))")


class PoolBroken(RuntimeError):
    """The parse workers cannot be kept alive (they die at start, or on the same batch again and again)."""


@dataclass
class Ticket:
    """A submitted batch: the job (to parse it again if its worker dies) and the future of its output."""

    job: BatchJob
    future: asyncio.Future[BatchOutput]
    deaths: int = 0  # workers that died holding it


@dataclass
class _Worker:
    """One worker process, the agent's ends of its two pipes, and the batches it holds, in order."""

    process: subprocess.Popen[bytes]
    jobs: int  # written here (non-blocking), read by the worker
    results: int  # written by the worker, read here (non-blocking): its end of file is the worker's death
    held: deque[Ticket] = field(default_factory=deque)
    outbox: bytearray = field(default_factory=bytearray)  # framed jobs the pipe has not taken yet
    inbox: bytearray = field(default_factory=bytearray)  # bytes of results not complete yet
    loop: asyncio.AbstractEventLoop | None = None  # where its descriptors are watched
    writing: bool = False  # a writer callback is registered
    gone: bool = False


class WorkerPool:
    """`workers == 0` parses inline in the agent process (simplest to debug)."""

    def __init__(self, setup: WorkerSetup, workers: int, registry: ParserRegistry) -> None:
        self.setup = setup
        self.workers = workers
        self._inline = prepare(setup, registry) if workers == 0 else {}
        self._waiting: deque[Ticket] = deque()  # submitted, not yet handed to a worker
        self._deaths_in_a_row = 0  # workers that died since the last result
        self._broken: str | None = None
        self.replacements = 0
        self._pool: list[_Worker] = [self._start_worker() for _ in range(workers)]

    def _start_worker(self) -> _Worker:
        jobs_read, jobs_write = os.pipe()
        results_read, results_write = os.pipe()
        for fd in (jobs_write, results_write):
            _widen(fd)
        try:
            code = _WORKER_CODE.format(path=sys.path)
            process = subprocess.Popen([sys.executable, "-c", code, WORKER_NAME, str(jobs_read), str(results_write)],
                                       pass_fds=(jobs_read, results_write), stdin=subprocess.DEVNULL)
        except BaseException:
            for fd in (jobs_read, jobs_write, results_read, results_write):
                os.close(fd)
            raise
        # The worker's ends live in the worker only: its death is an end of file here.
        os.close(jobs_read)
        os.close(results_write)
        setup = pickle.dumps((self.setup, os.getpid()), protocol=pickle.HIGHEST_PROTOCOL)
        worker = _Worker(process, jobs_write, results_read)
        worker.outbox += FRAME.pack(len(setup)) + setup  # written with the first job, without blocking
        os.set_blocking(jobs_write, False)
        os.set_blocking(results_read, False)
        return worker

    @property
    def worker_pids(self) -> list[int]:
        """The PIDs of the current workers (for tests and diagnostics)."""
        return [w.process.pid for w in self._pool if not w.gone]

    def submit(self, job: BatchJob) -> Ticket:
        loop = asyncio.get_running_loop()
        ticket = Ticket(job, loop.create_future())
        if not self._pool:
            ticket.future.set_result(run_job(self._inline, job))
            return ticket
        if self._broken is not None:
            raise PoolBroken(self._broken)
        self._waiting.append(ticket)
        self._dispatch(loop)
        return ticket

    async def result(self, ticket: Ticket) -> BatchOutput:
        """The batch's output. When a worker dies (OOM killer, a crash in native code) a new one takes its
        place and parses again, in order, every batch the dead one held; a batch that is only slow (a huge
        API page) is waited for as long as it takes."""
        return await ticket.future

    # -- handing out batches and reading results (event loop callbacks) -----------------------------

    def _dispatch(self, loop: asyncio.AbstractEventLoop) -> None:
        while self._waiting:
            free = [w for w in self._pool if not w.gone and len(w.held) < IN_FLIGHT_PER_WORKER]
            if not free:
                return
            worker = min(free, key=lambda w: len(w.held))
            ticket = self._waiting.popleft()
            if ticket.future.done():  # cancelled by the caller while it waited
                continue
            self._watch(worker, loop)
            worker.held.append(ticket)
            payload = pickle.dumps(ticket.job, protocol=pickle.HIGHEST_PROTOCOL)
            worker.outbox += FRAME.pack(len(payload))
            worker.outbox += payload
            self._flush(worker)

    def _watch(self, worker: _Worker, loop: asyncio.AbstractEventLoop) -> None:
        if worker.loop is loop:
            return
        if worker.loop is not None and not worker.loop.is_closed():
            self._unwatch(worker)
        worker.loop, worker.writing = loop, False
        loop.add_reader(worker.results, self._on_results, worker)
        if worker.outbox:  # the setup, not taken yet
            self._flush(worker)

    def _unwatch(self, worker: _Worker) -> None:
        loop = worker.loop
        if loop is None or loop.is_closed():
            return
        loop.remove_reader(worker.results)
        if worker.writing:
            loop.remove_writer(worker.jobs)
            worker.writing = False

    def _flush(self, worker: _Worker) -> None:
        """Write what the jobs pipe takes now; the rest when it is writable again."""
        try:
            while worker.outbox:
                del worker.outbox[:os.write(worker.jobs, worker.outbox)]
        except BlockingIOError:
            pass
        except OSError:  # the worker is gone: its results pipe says so too
            worker.outbox.clear()
        if worker.loop is None:
            return
        if worker.outbox and not worker.writing:
            worker.loop.add_writer(worker.jobs, self._flush, worker)
            worker.writing = True
        elif not worker.outbox and worker.writing:
            worker.loop.remove_writer(worker.jobs)
            worker.writing = False

    def _on_results(self, worker: _Worker) -> None:
        if self._drain(worker):
            self._on_exit(worker)
        elif worker.loop is not None:
            self._dispatch(worker.loop)

    def _drain(self, worker: _Worker) -> bool:
        """Read what the worker wrote and settle the batches whose results are complete; True when its
        end is closed (it exited, or died, maybe half-way through a result)."""
        try:
            while chunk := os.read(worker.results, READ_CHUNK):
                worker.inbox += chunk
            ended = True
        except BlockingIOError:
            ended = False
        except OSError:
            ended = True
        inbox = worker.inbox
        while len(inbox) >= RESULT.size:
            size, blob_size = RESULT.unpack_from(inbox)
            end = RESULT.size + size
            if len(inbox) < end + blob_size:
                break
            with memoryview(inbox) as view:  # one copy of the blob, none of the pickle
                status, value = pickle.loads(view[RESULT.size:end])
                if status == "ok":
                    value = dataclasses.replace(value, blob=bytes(view[end:end + blob_size]))
            del inbox[:end + blob_size]
            ticket = worker.held.popleft()
            self._deaths_in_a_row = 0
            if ticket.future.done():
                continue
            if status == "ok":
                ticket.future.set_result(value)
            else:
                ticket.future.set_exception(RuntimeError(f"parsing the batch at offset {_offset(ticket.job)} of "
                                                         f"{ticket.job.path} failed in a worker: {value}"))
        return ended

    def _on_exit(self, worker: _Worker) -> None:
        """A worker died (or its pipe broke): a new one parses again, in order, every batch it held."""
        if worker.gone:
            return
        self._drain(worker)  # results it finished before dying count
        loop = worker.loop
        self._retire(worker, kill=True)
        pid, exitcode = worker.process.pid, worker.process.returncode
        self._deaths_in_a_row += 1
        log.error("A parse worker died; starting a new worker and parsing the batches it held again.",
                  extra={"pid": pid, "exitcode": exitcode, "batches": len(worker.held)})
        for ticket in reversed(worker.held):
            ticket.deaths += 1
            if ticket.deaths > MAX_DEATHS_PER_BATCH and not ticket.future.done():
                ticket.future.set_exception(PoolBroken(
                    f"parse workers died {ticket.deaths} times on the batch at offset {_offset(ticket.job)} of "
                    f"{ticket.job.path}; see the errors above (out of memory? raise the unit's MemoryMax)"))
            elif not ticket.future.done():
                self._waiting.appendleft(ticket)
        worker.held.clear()
        if self._deaths_in_a_row > self.workers * (MAX_DEATHS_PER_BATCH + 1):
            self._break(f"parse workers died {self._deaths_in_a_row} times in a row without parsing a batch; "
                        "see the errors above (a parser that fails to load? out of memory?)")
            return
        self._pool[self._pool.index(worker)] = self._start_worker()
        self.replacements += 1
        if loop is not None and not loop.is_closed():
            self._dispatch(loop)

    def _break(self, why: str) -> None:
        self._broken = why
        log.error("The parse workers cannot be kept alive.", extra={"error": why})
        for ticket in self._waiting:
            if not ticket.future.done():
                ticket.future.set_exception(PoolBroken(why))
        self._waiting.clear()

    def _retire(self, worker: _Worker, *, kill: bool) -> None:
        """Stop watching a worker, close the agent's ends of its pipes, make sure it exits and reap it."""
        worker.gone = True
        self._unwatch(worker)
        os.close(worker.jobs)  # the worker's end of file: it leaves after the batch in hand
        os.close(worker.results)
        process = worker.process
        if kill:
            try:
                process.wait(EXIT_WAIT_SECS)
            except subprocess.TimeoutExpired:
                process.kill()
        try:
            process.wait(STOP_WAIT_SECS)
        except subprocess.TimeoutExpired:
            log.warning("A parse worker did not stop; killing it.", extra={"pid": process.pid})
            process.kill()
            process.wait()

    def close(self) -> None:
        for worker in self._pool:
            if not worker.gone:
                self._retire(worker, kill=False)
        for ticket in self._waiting:
            ticket.future.cancel()
        self._waiting.clear()


def _widen(fd: int) -> None:
    """A batch (a few hundred KB each way) crosses a 64 KiB pipe in many writes, each waking the reader: a
    pipe of 1 MiB (fs.pipe-max-size, what an unprivileged process may make by default) takes one."""
    with contextlib.suppress(OSError):  # above this machine's fs.pipe-max-size: the default pipe works
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _offset(job: BatchJob) -> int:
    return job.starts[0] if job.starts else 0
