"""The sender (`ucsiem.pipeline.delivery`) with a scripted output and real feeds, no network.

What the module and README ("outputs[]") promise, one test each: batches go out in feed order and their
input positions advance in order; retries back off (0.2 s doubling, jittered, to 30 s) and honour the
server's Retry-After; a partial retry sends only the documents to retry; a document refused for good
becomes a `pipeline_error` dead letter (`error.type: output_<code>`, the original in `event.original`,
its `event.id` kept) sent through the same output, and lands in `<data_dir>/dead-letters.ndjson` when that
is refused too; refused credentials pause the output with an ERROR every AUTH_DELAY_SECS and drop nothing;
the counters say all of it.

The sender's waits are replaced by `waits` (the delays are recorded, nothing sleeps), except where the real
`_wait` is the point.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Coroutine
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pytest

from tests.unit.fake_output import (
    Call,
    FakeOutput,
    Unreachable,
    auth_refused,
    delivered,
    down,
    fatal,
    partly,
    refuse,
    retry,
)
from ucsiem.errors import OutputError
from ucsiem.outputs.base import SendResult
from ucsiem.pipeline import delivery
from ucsiem.pipeline.acks import AckTracker
from ucsiem.pipeline.delivery import AUTH_DELAY_SECS, FIRST_DELAY_SECS, MAX_DELAY_SECS, Backoff, Sender
from ucsiem.pipeline.feed import MemoryFeed

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, 30))


def event(n: int) -> bytes:
    return orjson.dumps({"@timestamp": "2024-06-15T12:00:00Z", "message": f"line {n}",
                         "event": {"id": f"id-{n}", "dataset": "cisco.cucm", "module": "cisco"},
                         "observer": {"vendor": "Cisco", "product": "CUCM"}})


def docs(*ns: int) -> list[bytes]:
    return [event(n) for n in ns]


def sender(output: FakeOutput, tmp_path: Path, *, sync_each_batch: bool = False) -> Sender:
    return Sender(output, MemoryFeed([output.name], 8), tmp_path, sync_each_batch=sync_each_batch)


def local_letters(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "dead-letters.ndjson"
    return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


# --- in order, acknowledged in order ------------------------------------------------------------------------


async def feed_and_run(output: FakeOutput, tmp_path: Path, batches: list[list[bytes]],
                       *, sync_each_batch: bool = False) -> tuple[Sender, list[int]]:
    """Put `batches` through a memory feed whose acknowledgements drive an ordered ack tracker (as a file input's
    do), run the sender until the feed is drained; returns the sender and the positions the tracker advanced to
    (batch i ends at offset 100 * (i + 1))."""
    feed = MemoryFeed([output.name], 2)  # smaller than the batches: put waits for the sender
    positions: list[int] = []
    tracker: AckTracker[None] = AckTracker(lambda offset, _state: positions.append(offset))
    s = Sender(output, feed, tmp_path, sync_each_batch=sync_each_batch)
    task = asyncio.create_task(s.run())
    for i, batch in enumerate(batches):
        seq = tracker.register(100 * (i + 1), None)
        assert await feed.put(b"".join(d + b"\n" for d in batch), len(batch), partial(tracker.ack, seq))
    feed.close()
    await task
    assert tracker.in_flight == 0
    return s, positions


def test_batches_are_sent_in_feed_order_and_their_positions_advance_in_order(tmp_path: Path,
                                                                             waits: list[float]) -> None:
    batches = [docs(0, 1), docs(2), docs(3, 4, 5), docs(6)]
    output = FakeOutput()
    s, positions = run(feed_and_run(output, tmp_path, batches))
    assert output.sent == batches
    assert output.received == docs(*range(7))
    assert positions == [100, 200, 300, 400]
    assert s.started.is_set() and output.calls[0] == Call("start")
    assert (s.stats.delivered, s.stats.retries, s.stats.dead_letters, waits) == (7, 0, {}, [])


async def advances(output: FakeOutput, tmp_path: Path,
                   batches: list[list[bytes]]) -> tuple[Sender, list[tuple[int, int]]]:
    """Put every batch in a memory feed at once (batch i ends at offset 100 * (i + 1)), run the sender until
    the feed is drained; returns the sender and, per position the tracker advanced to, the sends made by then."""
    advanced_at: list[tuple[int, int]] = []
    feed = MemoryFeed([output.name], len(batches))
    tracker: AckTracker[None] = AckTracker(lambda offset, _s: advanced_at.append((offset, len(output.sent))))
    s = Sender(output, feed, tmp_path, sync_each_batch=False)
    for i, batch in enumerate(batches):
        seq = tracker.register(100 * (i + 1), None)
        await feed.put(b"".join(d + b"\n" for d in batch), len(batch), partial(tracker.ack, seq))
    feed.close()
    await s.run()
    return s, advanced_at


def test_batches_waiting_go_out_as_one_send_and_their_positions_advance_after_it(
        tmp_path: Path, waits: list[float]) -> None:
    """Batches already in the feed join into one send up to the output's send_max_events; a retry of that
    send holds back every position in it, and they advance together, in order, once it is delivered."""
    output = FakeOutput(send_max_events=4).plan(down(), delivered())
    s, advanced_at = run(advances(output, tmp_path, [docs(0, 1), docs(2), docs(3), docs(4, 5), docs(6)]))
    # 2 + 1 + 1 events fill the first send; 2 + 1 the second (a batch is never split)
    assert output.sent == [docs(0, 1, 2, 3), docs(0, 1, 2, 3), docs(4, 5, 6)]
    assert advanced_at == [(100, 2), (200, 2), (300, 2), (400, 3), (500, 3)]
    assert s.stats.delivered == 7


def test_a_batch_being_retried_holds_back_the_next_one_and_its_position(tmp_path: Path, waits: list[float]) -> None:
    batches = [docs(0, 1), docs(2)]
    output = FakeOutput().plan(retry(0, 1), down(), delivered())
    s, advanced_at = run(advances(output, tmp_path, batches))
    assert output.sent == [batches[0], batches[0], batches[0], batches[1]]
    assert advanced_at == [(100, 3), (200, 4)]  # the first position only once its batch got through
    assert s.stats.delivered == 3


def test_sync_each_batch_makes_the_output_durable_before_the_batch_is_acknowledged(tmp_path: Path,
                                                                                   waits: list[float]) -> None:
    order: list[str] = []
    output = FakeOutput(on_call=lambda c: order.append(c.what))

    async def go() -> None:
        feed = MemoryFeed([output.name], 4)
        s = Sender(output, feed, tmp_path, sync_each_batch=True)
        for n in range(2):
            await feed.put(event(n) + b"\n", 1, partial(order.append, f"stored {n}"))
        feed.close()
        await s.run()

    run(go())
    assert order == ["start", "send", "sync", "stored 0", "send", "sync", "stored 1"]


def test_without_sync_each_batch_the_sender_does_not_sync(tmp_path: Path, waits: list[float]) -> None:
    output = FakeOutput()
    run(feed_and_run(output, tmp_path, [docs(0), docs(1)]))
    assert [c.what for c in output.calls] == ["start", "send", "send"]


def test_a_failure_that_cannot_heal_stops_the_sender_and_the_batch_is_not_acknowledged(tmp_path: Path,
                                                                                     waits: list[float]) -> None:
    output = FakeOutput().plan(delivered(), fatal())
    stored: list[int] = []

    async def go() -> None:
        feed = MemoryFeed([output.name], 4)
        s = Sender(output, feed, tmp_path, sync_each_batch=False)
        for n in range(3):
            await feed.put(event(n) + b"\n", 1, partial(stored.append, n))
        with pytest.raises(OutputError, match="misconfigured"):
            await s.run()
        assert feed.depth()[output.name]["batches"] == 2  # the failed batch and the next stay queued

    run(go())
    assert stored == [0] and waits == []


# --- retries and backoff -------------------------------------------------------------------------------------


def test_retry_after_of_a_partial_retry_is_honoured(tmp_path: Path, waits: list[float]) -> None:
    output = FakeOutput().plan(retry(0, 1, after=7.0))
    s = sender(output, tmp_path)
    run(s.deliver(docs(0, 1)))
    assert waits == [7.0]  # the first backoff is 0.1-0.3 s: the server's 7 s wins
    assert (s.stats.delivered, s.stats.retries, s.stats.retried_documents) == (2, 1, 2)
    assert s.stats.last_error == "429 too many requests"


@pytest.mark.parametrize("after", [12.5, 4 * MAX_DELAY_SECS])  # longer than the backoff's cap too
def test_retry_after_of_a_failed_batch_is_honoured(tmp_path: Path, waits: list[float], after: float) -> None:
    output = FakeOutput().plan(down("503 unavailable", retry_after=after))
    s = sender(output, tmp_path)
    run(s.deliver(docs(0, 1, 2)))
    assert waits == [after]
    assert output.sent == [docs(0, 1, 2)] * 2
    assert (s.stats.delivered, s.stats.retries, s.stats.retried_documents) == (3, 1, 3)


def test_a_short_retry_after_does_not_shorten_the_backoff(tmp_path: Path, waits: list[float]) -> None:
    output = FakeOutput().plan(*[down(retry_after=0.001)] * 6)
    run(sender(output, tmp_path).deliver(docs(0)))
    assert len(waits) == 6
    for i, wait in enumerate(waits):  # 0.2 s doubling, jittered 0.5-1.5x, whatever the server said
        delay = min(FIRST_DELAY_SECS * 2 ** i, MAX_DELAY_SECS)
        assert 0.5 * delay <= wait <= 1.5 * delay, (i, wait)


def test_the_backoff_doubles_to_its_cap_and_restarts_for_the_next_batch(tmp_path: Path, waits: list[float]) -> None:
    failures = 12
    output = FakeOutput().plan(*[down()] * failures, delivered(), down())
    s = sender(output, tmp_path)
    run(s.deliver(docs(0)))
    run(s.deliver(docs(1)))
    assert len(waits) == failures + 1
    for i, wait in enumerate(waits[:failures]):
        delay = min(FIRST_DELAY_SECS * 2 ** i, MAX_DELAY_SECS)
        assert 0.5 * delay <= wait <= 1.5 * delay, (i, wait)
    assert max(waits) <= 1.5 * MAX_DELAY_SECS and waits[failures - 1] >= 0.5 * MAX_DELAY_SECS
    assert waits[-1] <= 1.5 * FIRST_DELAY_SECS  # a new batch starts again from the first delay
    assert (s.stats.delivered, s.stats.retries, s.stats.retried_documents) == (2, failures + 1, failures + 1)


def test_backoff_jitter_spans_half_to_one_and_a_half_of_the_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(random, "random", lambda: 0.0)
    assert Backoff().next() == pytest.approx(0.5 * FIRST_DELAY_SECS)
    monkeypatch.setattr(random, "random", lambda: 0.999999)
    b = Backoff()
    assert b.next() == pytest.approx(1.5 * FIRST_DELAY_SECS, rel=1e-5)
    assert b.next(retry_after=4.0) == 4.0
    b.reset()
    assert b.next() == pytest.approx(1.5 * FIRST_DELAY_SECS, rel=1e-5)


def test_the_real_wait_honours_retry_after(tmp_path: Path) -> None:
    """No patched wait: the second send comes after the server's Retry-After (a lower bound, not a speed check)."""
    loop_times: list[float] = []
    output = FakeOutput(on_call=lambda c: loop_times.append(time.monotonic()))
    output.plan(retry(0, after=0.3))
    run(sender(output, tmp_path).deliver(docs(0)))
    assert len(loop_times) == 2 and loop_times[1] - loop_times[0] >= 0.3


def test_an_unreachable_output_is_probed_while_waiting_and_retried_when_it_answers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery, "PROBE_SECS", 0.01)
    output = FakeOutput().plan(Unreachable(down(retry_after=600.0)))
    output.probes.extend([False, False, True])
    s = sender(output, tmp_path)
    run(s.deliver(docs(0)))  # would wait 600 s without the probes (the run is bounded to 30 s)
    assert [c.what for c in output.calls] == ["send", "probe", "probe", "probe", "send"]
    assert s.stats.probes == 3 and not output.unreachable and s.stats.delivered == 1


# --- partial retries -----------------------------------------------------------------------------------------


def test_a_partial_retry_sends_only_the_documents_to_retry(tmp_path: Path, waits: list[float]) -> None:
    batch = docs(0, 1, 2, 3, 4)
    # indexes are into each call's documents: the second call holds 1 and 3, its index 1 is document 3
    output = FakeOutput().plan(retry(1, 3), retry(1), delivered())
    s = sender(output, tmp_path)
    run(s.deliver(batch))
    assert output.sent == [batch, [batch[1], batch[3]], [batch[3]]]
    assert sorted(output.received) == sorted(batch) and len(output.received) == 5
    assert (s.stats.delivered, s.stats.retries, s.stats.retried_documents) == (5, 2, 3)
    assert len(waits) == 2


def test_duplicates_count_as_delivered(tmp_path: Path, waits: list[float]) -> None:
    output = FakeOutput().plan(SendResult(duplicates=2, retry=[0]), delivered(duplicates=1))
    s = sender(output, tmp_path)
    run(s.deliver(docs(0, 1, 2)))
    assert output.sent == [docs(0, 1, 2), docs(0)]
    assert (s.stats.delivered, s.stats.duplicates) == (3, 3)


def test_a_retriable_error_carrying_a_partial_result_settles_the_rest(tmp_path: Path, waits: list[float]) -> None:
    """An OutputError with `partial` (what became of each document): only its `retry` documents go again."""
    output = FakeOutput().plan(partly(retry(2), "bulk half done"))
    s = sender(output, tmp_path)
    run(s.deliver(docs(0, 1, 2)))
    assert output.sent == [docs(0, 1, 2), docs(2)]
    assert (s.stats.delivered, s.stats.retries, s.stats.retried_documents) == (3, 1, 1)


# --- dead letters --------------------------------------------------------------------------------------------


def test_a_refused_document_becomes_a_dead_letter_sent_through_the_same_output(
        tmp_path: Path, waits: list[float], caplog: pytest.LogCaptureFixture) -> None:
    batch = docs(0, 1, 2)
    output = FakeOutput().plan(refuse((1, "mapping")))
    s = sender(output, tmp_path)
    with caplog.at_level(logging.WARNING, logger="ucsiem.delivery"):
        run(s.deliver(batch))
    assert len(output.sent) == 2 and output.sent[0] == batch and len(output.sent[1]) == 1
    letter = orjson.loads(output.sent[1][0])
    assert letter["event"]["kind"] == "pipeline_error"
    assert letter["error"]["type"] == "output_mapping"
    assert "refused by the fake" in letter["error"]["message"]
    assert letter["event"]["original"] == batch[1].decode()
    assert letter["event"]["id"] == "id-1" and letter["event"]["dataset"] == "cisco.cucm"
    assert letter["observer"] == {"vendor": "Cisco", "product": "CUCM"}
    assert letter["@timestamp"] == "2024-06-15T12:00:00Z"
    assert letter["message"].startswith("fake refused the event (mapping)")
    assert output.received == [batch[0], batch[2], output.sent[1][0]]
    assert s.stats.dead_letters == {"mapping": 1} and s.stats.dead_letters_local == 0
    assert s.stats.delivered == 3  # two events and the dead letter standing for the third
    assert not (tmp_path / "dead-letters.ndjson").exists()
    warned = [r for r in caplog.records if "dead letter" in r.getMessage()]
    assert len(warned) == 1 and warned[0].__dict__["code"] == "mapping"


def test_dead_letters_are_counted_by_code(tmp_path: Path, waits: list[float]) -> None:
    output = FakeOutput().plan(refuse((0, "oversize"), (2, "mapping"), (3, "oversize")))
    s = sender(output, tmp_path)
    run(s.deliver(docs(0, 1, 2, 3)))
    letters = [orjson.loads(d) for d in output.sent[1]]
    assert [(x["error"]["type"], x["event"]["id"]) for x in letters] == [
        ("output_oversize", "id-0"), ("output_mapping", "id-2"), ("output_oversize", "id-3")]
    assert s.stats.dead_letters == {"oversize": 2, "mapping": 1}
    assert s.stats.summary()["dead_letters"] == {"oversize": 2, "mapping": 1}


def test_a_refusal_among_retried_documents_names_the_right_document(tmp_path: Path, waits: list[float]) -> None:
    batch = docs(0, 1, 2, 3)
    # first call: 1 and 3 to retry, 0 refused; second call (1, 3): its index 1, document 3, refused
    output = FakeOutput().plan(SendResult(retry=[1, 3], rejected=refuse((0, "http_400")).rejected),
                               refuse((1, "mapping")))
    s = sender(output, tmp_path)
    run(s.deliver(batch))
    assert output.sent[:2] == [batch, [batch[1], batch[3]]]
    letters = [orjson.loads(d) for d in output.sent[2]]
    assert [(x["event"]["original"], x["error"]["type"]) for x in letters] == [
        (batch[0].decode(), "output_http_400"), (batch[3].decode(), "output_mapping")]
    assert s.stats.dead_letters == {"http_400": 1, "mapping": 1}
    assert s.stats.delivered == 2 + 2


def test_a_dead_letter_refused_too_is_kept_in_the_local_file(tmp_path: Path, waits: list[float],
                                                              caplog: pytest.LogCaptureFixture) -> None:
    batch = docs(0, 1, 2)
    output = FakeOutput().plan(refuse((0, "oversize"), (2, "mapping")), refuse((1, "mapping")))
    s = sender(output, tmp_path)
    with caplog.at_level(logging.ERROR, logger="ucsiem.delivery"):
        run(s.deliver(batch))
    kept = local_letters(tmp_path)
    assert len(kept) == 1
    assert kept[0]["error"]["type"] == "output_mapping" and kept[0]["event"]["original"] == batch[2].decode()
    assert orjson.dumps(kept[0]) == orjson.dumps(orjson.loads(output.sent[1][1]))  # the letter as it was sent
    assert (tmp_path / "dead-letters.ndjson").stat().st_mode & 0o777 == 0o600
    assert s.stats.dead_letters == {"oversize": 1, "mapping": 1} and s.stats.dead_letters_local == 1
    assert s.stats.delivered == 2  # event 1 and the dead letter of event 0
    assert any("local disk" in r.getMessage() for r in caplog.records)
    # a second refusal appends, it does not replace
    output.plan(refuse((0, "oversize")), refuse((0, "oversize")))
    run(s.deliver(docs(5)))
    assert [x["event"]["id"] for x in local_letters(tmp_path)] == ["id-2", "id-5"]
    assert s.stats.dead_letters_local == 2


def test_a_dead_letter_is_retried_like_any_document(tmp_path: Path, waits: list[float]) -> None:
    output = FakeOutput().plan(refuse((0, "oversize")), down(), retry(0, after=3.0), delivered())
    s = sender(output, tmp_path)
    run(s.deliver(docs(0)))
    assert len(output.sent) == 4 and output.sent[1] == output.sent[2] == output.sent[3]
    assert waits[1] == 3.0
    assert not (tmp_path / "dead-letters.ndjson").exists() and s.stats.delivered == 1


def test_a_dead_letter_is_cut_to_fit_the_output(tmp_path: Path, waits: list[float]) -> None:
    big = orjson.dumps({"event": {"id": "big"}, "message": "x" * 50_000})
    output = FakeOutput(max_document_bytes=2_000).plan(refuse((0, "oversize")))
    s = sender(output, tmp_path)
    run(s.deliver([big]))
    letter = output.sent[1][0]
    assert len(letter) <= 2_000
    parsed = orjson.loads(letter)
    assert parsed["tags"] == ["original_truncated"] and big.decode().startswith(parsed["event"]["original"])
    assert parsed["event"]["id"] == "big" and parsed["error"]["type"] == "output_oversize"


def test_a_document_that_is_not_json_still_becomes_a_dead_letter(tmp_path: Path, waits: list[float]) -> None:
    output = FakeOutput().plan(refuse((0, "http_400")))
    run(sender(output, tmp_path).deliver([b"\xffnot json"]))
    letter = orjson.loads(output.sent[1][0])
    assert letter["error"]["type"] == "output_http_400" and letter["event"]["original"] == "\ufffdnot json"


# --- refused credentials -------------------------------------------------------------------------------------


def test_refused_credentials_pause_the_output_and_drop_nothing(tmp_path: Path, waits: list[float],
                                                               caplog: pytest.LogCaptureFixture) -> None:
    batch = docs(0, 1)
    output = FakeOutput().plan(auth_refused(), auth_refused(), auth_refused(), delivered())
    s = sender(output, tmp_path)
    with caplog.at_level(logging.INFO, logger="ucsiem.delivery"):
        run(s.deliver(batch))
    assert waits == [AUTH_DELAY_SECS] * 3  # checked again every 10 s, never given up
    assert output.sent == [batch] * 4 and output.received == batch
    assert (s.stats.auth_failures, s.stats.retries, s.stats.delivered, s.stats.dead_letters) == (3, 0, 2, {})
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 3
    assert all(r.getMessage() == "Output refused our credentials or permissions; it is PAUSED and keeps every "
               "event until this is fixed." for r in errors)
    assert all(r.__dict__["output"] == "fake" and "bad credentials" in r.__dict__["error"]
               and r.__dict__["documents"] == 2 and r.__dict__["retry_in_secs"] == AUTH_DELAY_SECS for r in errors)
    assert s.stats.last_error == "401 unauthorized: bad credentials"


def test_paused_output_shows_failing_since_until_it_delivers(tmp_path: Path, waits: list[float]) -> None:
    output = FakeOutput().plan(auth_refused())
    s = sender(output, tmp_path)
    seen: list[float | None] = []

    async def go() -> None:
        async def wait(delay: float) -> None:
            seen.append(s.stats.failing_since)

        s._wait = wait  # type: ignore[method-assign]
        await s.deliver(docs(0))

    run(go())
    assert seen[0] is not None and s.stats.failing_since is None


def test_refused_credentials_at_start_are_retried_until_they_work(tmp_path: Path, waits: list[float],
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    output = FakeOutput()
    output.starts.extend([auth_refused(), down(retry_after=9.0), None])
    with caplog.at_level(logging.ERROR, logger="ucsiem.delivery"):
        s, _ = run(feed_and_run(output, tmp_path, [docs(0)]))
    assert [c.what for c in output.calls] == ["start", "start", "start", "send"]
    assert waits == [AUTH_DELAY_SECS, 9.0]
    assert (s.stats.auth_failures, s.stats.retries, s.stats.delivered) == (1, 1, 1)
    assert any("PAUSED" in r.getMessage() for r in caplog.records)


def test_an_output_that_cannot_start_for_good_raises(tmp_path: Path, waits: list[float]) -> None:
    output = FakeOutput()
    output.starts.append(fatal("no such topic"))
    s = sender(output, tmp_path)
    with pytest.raises(OutputError, match="no such topic"):
        run(s.run())
    assert not s.started.is_set() and output.sent == []


def test_the_summary_reports_every_counter(tmp_path: Path, waits: list[float]) -> None:
    output = FakeOutput().plan(retry(1), auth_refused(), refuse((0, "x")), delivered(duplicates=1))
    s = sender(output, tmp_path)
    run(s.deliver(docs(0, 1, 2)))
    # call 1: 0 and 2 delivered, 1 to retry; call 2: refused credentials; call 3 ([1]): refused for good; call 4:
    # its dead letter, already there (a duplicate, delivered)
    assert s.stats.summary() == {"delivered": 3, "duplicates": 1, "retries": 1, "retried_documents": 1,
                                 "auth_failures": 1, "dead_letters": {"x": 1}, "dead_letters_local": 0,
                                 "last_error": "401 unauthorized: bad credentials"}


def test_a_send_that_does_not_answer_is_warned_about_each_stall_and_not_sent_again(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An output whose client retries inside `send` (stall_secs): a WARNING and a retry counted per stall,
    the batch neither dropped nor sent twice."""
    output = FakeOutput(stall_secs=0.02)

    async def go() -> Sender:
        output.gate = asyncio.Event()
        s = sender(output, tmp_path)
        task = asyncio.create_task(s.deliver(docs(0, 1)))
        while s.stats.retries < 3:
            await asyncio.sleep(0.01)
        output.gate.set()
        await task
        return s

    with caplog.at_level(logging.WARNING, logger="ucsiem.delivery"):
        s = run(go())
    assert output.sent == [docs(0, 1)] and output.received == docs(0, 1)
    stalls = [r for r in caplog.records if "has not acknowledged" in r.getMessage()]
    assert len(stalls) == s.stats.retries >= 3 and s.stats.retried_documents == 2 * s.stats.retries
    assert all(r.__dict__["documents"] == 2 for r in stalls)
    assert s.stats.delivered == 2 and s.stats.failing_since is None
