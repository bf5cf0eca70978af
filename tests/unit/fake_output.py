"""A scriptable output for unit tests of the sender and the feeds (no network, no broker).

`FakeOutput` implements the `Output` protocol of `ucsiem.outputs.base` and the optional parts the sender looks
up (`unreachable`, `probe`, `max_document_bytes`). Each call takes the next planned answer from a queue;
with none planned, `send` delivers everything and `start` connects. Every call is recorded in order.

An answer for `send` is one of:

* a `SendResult` (indexes relative to the documents of *that* call), see `delivered`, `retry`, `refuse`;
* an `OutputError` (raised: the whole batch failed, or part of it), see `down`, `auth_refused`, `fatal`,
  `partly`;
* `Unreachable(error)`: raises `error` and sets `unreachable` until a later call succeeds;
* a callable taking the documents of the call and returning one of the above.

The fake keeps `received`: the documents it took as delivered (or as duplicates), in order of delivery.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ucsiem.errors import OutputError
from ucsiem.outputs.base import Rejected, SendResult


@dataclass(frozen=True)
class Unreachable:
    """Raise `error` and mark the output unreachable (connection refused, no leader)."""

    error: OutputError


Answer = SendResult | OutputError | Unreachable | Callable[[list[bytes]], "SendResult | OutputError | Unreachable"]


@dataclass(frozen=True)
class Call:
    what: str  # start, send, sync, probe, close
    docs: tuple[bytes, ...] = ()


def delivered(duplicates: int = 0) -> SendResult:
    return SendResult(duplicates=duplicates)


def retry(*indexes: int, after: float | None = None, reason: str = "429 too many requests") -> SendResult:
    return SendResult(retry=list(indexes), retry_after=after, retry_reason=reason)


def refuse(*refusals: tuple[int, str], reason: str = "refused by the fake") -> SendResult:
    """Documents refused for good: (index, code) pairs."""
    return SendResult(rejected=[Rejected(i, code, f"{reason} ({code})") for i, code in refusals])


def down(message: str = "connection refused", retry_after: float | None = None) -> OutputError:
    return OutputError(message, retriable=True, retry_after=retry_after)


def auth_refused(message: str = "401 unauthorized: bad credentials") -> OutputError:
    return OutputError(message, retriable=True, auth=True)


class _PartialError(OutputError):
    def __init__(self, message: str, partial: SendResult, *, auth: bool) -> None:
        super().__init__(message, retriable=True, auth=auth)
        self.partial = partial


def partly(result: SendResult, message: str = "some documents failed", *, auth: bool = False) -> OutputError:
    """A retriable error that says what became of each document (`partial`): the rest settled, `retry` to
    send again (an Elasticsearch bulk with items refused 401/403 raises one with auth=True)."""
    return _PartialError(message, result, auth=auth)


def fatal(message: str = "misconfigured output") -> OutputError:
    return OutputError(message, retriable=False)


@dataclass
class FakeOutput:
    name: str = "fake"
    sends: deque[Answer] = field(default_factory=deque)  # planned answers of `send`
    starts: deque[OutputError | None] = field(default_factory=deque)  # planned answers of `start`
    probes: deque[bool] = field(default_factory=deque)  # planned answers of `probe` (none left: False)
    max_document_bytes: int | None = None
    send_max_events: int = 0  # one batch per send, as most tests count them
    stall_secs: float | None = None
    calls: list[Call] = field(default_factory=list)
    received: list[bytes] = field(default_factory=list)
    unreachable: bool = False
    on_call: Callable[[Call], None] | None = None  # e.g. to note the order of calls among other events
    gate: asyncio.Event | None = None  # set: `send` waits for it before answering (a client retrying inside)

    def plan(self, *answers: Answer) -> FakeOutput:
        self.sends.extend(answers)
        return self

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)

    @property
    def sent(self) -> list[list[bytes]]:
        """The documents of each `send`, in order."""
        return [list(c.docs) for c in self.calls if c.what == "send"]

    async def start(self) -> None:
        self._record(Call("start"))
        error = self.starts.popleft() if self.starts else None
        if error is not None:
            raise error

    async def send(self, docs: Sequence[bytes]) -> SendResult:
        batch = list(docs)
        self._record(Call("send", tuple(batch)))
        if self.gate is not None:
            await self.gate.wait()
        answer: Answer = self.sends.popleft() if self.sends else SendResult()
        if callable(answer):
            answer = answer(batch)
        if isinstance(answer, Unreachable):
            self.unreachable = True
            raise answer.error
        if isinstance(answer, OutputError):
            raise answer
        self.unreachable = False
        assert all(0 <= i < len(batch) for i in answer.retry), f"planned retry {answer.retry} outside the batch"
        assert all(0 <= r.index < len(batch) for r in answer.rejected), "planned refusal outside the batch"
        settled = set(answer.retry) | {r.index for r in answer.rejected}
        self.received.extend(doc for i, doc in enumerate(batch) if i not in settled)
        return answer

    async def probe(self) -> bool:
        self._record(Call("probe"))
        return self.probes.popleft() if self.probes else False

    def sync(self) -> None:
        self._record(Call("sync"))

    async def close(self) -> None:
        self._record(Call("close"))
