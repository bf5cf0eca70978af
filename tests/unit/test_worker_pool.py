"""The parse worker pool with real spawned workers: results in order, a killed worker replaced and its
batches parsed again, a worker dying half-way through sending a result (the standard executor used to
hang there), a slow batch on a healthy pool, and no process left after close()."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.agenthelp import children
from ucsiem.config import ParseTarget
from ucsiem.inputs.framing import Frame
from ucsiem.parsing.registry import load_registry
from ucsiem.pipeline import pool
from ucsiem.pipeline.work import BatchJob

REPO = Path(__file__).parents[2]
FIXTURE_PLUGINS = REPO / "tests" / "fixtures" / "plugins"
EXPRESSWAY = [
    'Event="Registration Requested" Service="SIP" Src-ip="192.0.2.21" Src-port="5061" Protocol="TLS" '
    'AOR="sip:alice.martin@example.com" Level="3" UTCTime="2024-05-14 07:15:02,117"',
    'Event="Registration Rejected" Reason="Authentication failed" Service="SIP" Src-ip="203.0.113.77" '
    'Src-port="41873" Protocol="UDP" AOR="sip:1001@example.com" Detail="Invalid credentials supplied" '
    'Level="1" UTCTime="2024-05-14 07:16:40,501"',
]


def expressway_line(n: int) -> bytes:
    """A sample line whose source port is the batch number, so each result shows which batch it is."""
    sample = EXPRESSWAY[n % len(EXPRESSWAY)].replace('Src-port="5061"', f'Src-port="{1000 + n}"')
    sample = sample.replace('Src-port="41873"', f'Src-port="{1000 + n}"')
    return f"2024-05-14T09:15:02.118+02:00 expc01 tvcs: {sample}".encode()


def job(input_id: str, data: bytes, offset: int = 0) -> BatchJob:
    now = datetime.now(UTC)
    return BatchJob.of(input_id, "key", "/nonexistent", [Frame(offset, offset + len(data) + 1, data)], {}, now, now)


def make_pool(workers: int, extra_dirs: list[Path] | None = None,
              extra_targets: list[ParseTarget] | None = None) -> pool.WorkerPool:
    dirs = [FIXTURE_PLUGINS, *(extra_dirs or [])]
    targets = [ParseTarget(id="exp", where="inputs[0].parser", parser="cisco_expressway"),
               ParseTarget(id="slow", where="inputs[1].parser", parser="slowtest"), *(extra_targets or [])]
    setup = pool.WorkerSetup([str(d) for d in dirs], [t.model_dump(mode="json") for t in targets], None, None)
    return pool.WorkerPool(setup, workers, load_registry(dirs, entry_point_plugins=False))


def spawned_workers(ignore: frozenset[int] = frozenset()) -> list[int]:
    """Live spawned children of this process, found in /proc (not through the pool's own bookkeeping),
    but those in `ignore`."""
    out = []
    for pid in set(children(os.getpid())) - ignore:
        try:
            if pool.WORKER_NAME.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                out.append(pid)
        except OSError:
            continue
    return out


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def port_of(output: pool.BatchOutput) -> int:
    doc = json.loads(output.blob.splitlines()[0])
    return int(doc["source"]["port"])


@pytest.fixture
def earlier() -> Iterator[frozenset[int]]:
    """Spawned children that were there before the test (not its business); after the test, no other
    may be left."""
    before = frozenset(spawned_workers())
    yield before
    wait_until(lambda: spawned_workers(before) == [], 10, "every worker to be gone after close()")


def test_results_in_submission_order_and_no_process_after_close(earlier: frozenset[int]) -> None:
    others = set(children(os.getpid()))
    workers = make_pool(2)
    try:
        async def parse_all() -> list[pool.BatchOutput]:
            # the first batch is the slowest: the second worker finishes the others first
            tickets = [workers.submit(job("slow", b"sleep=0.5 seq=0"))]
            tickets += [workers.submit(job("exp", expressway_line(n), n)) for n in range(1, 8)]
            return [await workers.result(t) for t in tickets]

        outputs = asyncio.run(parse_all())
        pids = workers.worker_pids
        assert sorted(pids) == sorted(spawned_workers(earlier)) and len(pids) == 2
        # and no other process: multiprocessing's spawn also started a resource tracker (13 MiB)
        assert set(children(os.getpid())) - others == set(pids)
    finally:
        workers.close()
    assert b'"seq":"0"' in outputs[0].blob
    assert [port_of(o) for o in outputs[1:]] == [1000 + n for n in range(1, 8)]
    assert all(o.count == 1 for o in outputs)
    assert workers.replacements == 0
    for pid in pids:  # joined by close(): not even a zombie
        assert not Path(f"/proc/{pid}").exists()


def test_a_worker_killed_while_holding_batches_is_replaced_and_they_are_parsed_again(
        earlier: frozenset[int]) -> None:
    descriptors = len(os.listdir("/proc/self/fd"))
    workers = make_pool(1)
    try:
        async def parse_all() -> list[pool.BatchOutput]:
            tickets = [workers.submit(job("slow", b"sleep=1.0 seq=0"))]
            tickets += [workers.submit(job("exp", expressway_line(n), n)) for n in range(1, 6)]
            wait_until(lambda: len(workers.worker_pids) == 1, 60, "the worker to start")
            [victim] = workers.worker_pids
            assert spawned_workers(earlier) == [victim]
            os.kill(victim, signal.SIGKILL)  # the OOM killer: the worker holds every batch
            return [await workers.result(t) for t in tickets]

        outputs = asyncio.run(parse_all())
        assert workers.replacements == 1
        assert len(spawned_workers(earlier)) == 1  # the new worker only; the killed one is reaped
    finally:
        workers.close()
    assert b'"seq":"0"' in outputs[0].blob
    assert [port_of(o) for o in outputs[1:]] == [1000 + n for n in range(1, 6)]
    # no pidfd or pipe of either pool left open (the old executor's thread closes its own pipes soon)
    wait_until(lambda: len(os.listdir("/proc/self/fd")) == descriptors, 10, "the pools' descriptors to close")


def test_a_slow_batch_on_a_healthy_pool_is_not_a_death(
        monkeypatch: pytest.MonkeyPatch, earlier: frozenset[int]) -> None:
    """Issue 12 said a batch longer than about 100 worker checks raised 'parse workers keep dying'. The
    pool no longer polls: a death is an exited process or a closed pipe, never a wait. With no death
    allowed at all, a slow batch taken for one would raise."""
    monkeypatch.setattr(pool, "MAX_DEATHS_PER_BATCH", 0)
    workers = make_pool(1)
    try:
        async def parse() -> pool.BatchOutput:
            return await workers.result(workers.submit(job("slow", b"sleep=1.5 seq=7")))

        output = asyncio.run(parse())
    finally:
        workers.close()
    assert output.count == 1 and b'"seq":"7"' in output.blob
    assert workers.replacements == 0


HALF_RESULT_PLUGIN = '''
"""Test-only parser: the first record it ever sees makes its worker die half-way through sending the
batch's result, as a worker killed while writing a large result would. (The standard executor's
manager thread waited for the rest of such a message for ever, and reported nothing.)"""

import os
import signal
import struct
import sys
from datetime import UTC, datetime
from pathlib import Path

from ucsiem.parsing.contract import ParseContext, ParsedEvent, ParserSpec, RawRecord


def _die_mid_result() -> None:
    # The pool's own result pipe, found in the worker loop's frame (ucsiem.pipeline.pool.worker_main):
    # the header of a 1 MiB result, a few bytes of it, and death.
    frame = sys._getframe()
    while frame is not None and frame.f_code.co_name != "worker_main":
        frame = frame.f_back
    assert frame is not None, "ucsiem.pipeline.pool changed: no worker_main frame"
    results = frame.f_locals["results_fd"]
    os.write(results, struct.pack("!QQ", 1 << 20, 0) + b"\\x80\\x05half a result")
    os.kill(os.getpid(), signal.SIGKILL)


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    marker = Path(record.text)
    if not marker.exists():
        marker.write_text("died once")
        _die_mid_result()
    return [{"@timestamp": datetime(2024, 5, 1, tzinfo=UTC), "labels": {"half": "parsed"}}]


PARSER = ParserSpec(id="halfresult", version="1", description="dies mid-result once", vendor="Test",
                    product="Half", observer_type="test", dataset="test.half", parse=parse)
'''

HALF_RESULT_AGENT = '''
import asyncio, json, os, sys
from pathlib import Path
sys.path.insert(0, {repo!r})
from tests.unit.test_worker_pool import expressway_line, job, make_pool, spawned_workers, wait_until
from ucsiem.config import ParseTarget

half = ParseTarget(id="half", where="inputs[2].parser", parser="halfresult")
workers = make_pool(2, [Path({plugins!r})], [half])


async def parse_all():
    tickets = [workers.submit(job("exp", expressway_line(1), 1)),
               workers.submit(job("half", {marker!r}.encode(), 2)),
               workers.submit(job("exp", expressway_line(3), 3))]
    first_pool.extend(workers.worker_pids)
    return [await asyncio.wait_for(workers.result(t), 60) for t in tickets]


first_pool = []
outputs = asyncio.run(parse_all())
report = {{"blobs": [o.blob.decode() for o in outputs], "replacements": workers.replacements,
           "first_pool_left": [pid for pid in first_pool if pid in spawned_workers()]}}
workers.close()
report["left"] = spawned_workers()
print(json.dumps(report), flush=True)
'''


def test_a_worker_dying_mid_result_is_found_dead_and_its_batches_parsed_again(
        tmp_path: Path, earlier: frozenset[int]) -> None:
    """The case the standard executor never reported: a result cut off by the worker's death is an end of
    file on the pool's own pipe. Run in a child interpreter, which must also exit normally (nothing left
    waiting for the dead worker: the agent's cli used to leave with os._exit)."""
    plugins = tmp_path / "plugins"
    (plugins / "halfresult").mkdir(parents=True)
    (plugins / "halfresult" / "__init__.py").write_text(HALF_RESULT_PLUGIN)
    marker = tmp_path / "died-once"
    script = HALF_RESULT_AGENT.format(repo=str(REPO), plugins=str(plugins), marker=str(marker))
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, timeout=180,
                          cwd=REPO)
    assert done.returncode == 0, done.stderr.decode()
    assert marker.read_text() == "died once"  # the worker did die in the middle of its result
    report = json.loads(done.stdout)
    assert report["replacements"] == 1
    first, half, last = report["blobs"]
    assert '"port":1001' in first and '"half":"parsed"' in half and '"port":1003' in last
    assert len(report["first_pool_left"]) == 1  # only the dead worker was replaced; the other kept working
    assert report["left"] == []  # every worker joined at close()
    assert "A parse worker died" in done.stderr.decode()
