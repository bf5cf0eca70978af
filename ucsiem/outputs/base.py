"""What every output does: take a batch of serialized events and say, per document, what became of it.

An output's `send` returns only once the destination has acknowledged the batch (a Kafka delivery
report, an Elasticsearch bulk response, bytes handed to the kernel). Per document it answers one of
three things: delivered, rejected for good (a dead letter with the reason) or worth retrying. The
sender (`ucsiem.pipeline.delivery`) owns retries, backoff and dead letters, so outputs stay small.

Optional capabilities are part of the protocol, each with the answer of an output that lacks it (what
`OutputDefaults` gives): a document size limit (`max_document_bytes`), a client that retries inside `send`
(`stall_secs`), a cheap reachability probe (`unreachable` and `probe`) and durability work before a
checkpoint (`sync`). The sender reads them; nothing looks for them by name. Outputs are registered, with
their config model, in `ucsiem.outputs.registry`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Rejected:
    """A document the destination refused for good; `code` labels metrics, `reason` is for a person."""

    index: int
    code: str
    reason: str


@dataclass
class SendResult:
    rejected: list[Rejected] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)  # indexes to send again (429, 5xx, timeouts)
    retry_after: float | None = None  # the server's hint for those, in seconds
    retry_reason: str = ""
    duplicates: int = 0  # already present at the destination (Elasticsearch 409): delivered


class Output(Protocol):
    @property
    def name(self) -> str:
        """Stable name (`type:id`): keys the spool cursor, labels logs and counters."""

    @property
    def max_document_bytes(self) -> int | None:
        """Largest document the destination takes (a dead letter is cut to fit); None: no limit."""

    @property
    def send_max_events(self) -> int:
        """Batches waiting in the feed are joined into one `send` of up to this many events (a request to a
        server is better large; parse batches are small, for the workers' memory); 0: one batch per send."""

    @property
    def stall_secs(self) -> float | None:
        """The client retries inside `send` (it may not return for long): the sender warns each stall_secs
        without an answer; None: `send` returns or raises by itself."""

    @property
    def unreachable(self) -> bool:
        """The last failure was "cannot connect": the sender calls `probe` while it waits to retry. Only an
        output whose `probe` answers sets it."""

    async def start(self) -> None:
        """Connect; raise OutputError (retriable when it may work later)."""

    async def send(self, docs: Sequence[bytes]) -> SendResult:
        """Deliver JSON documents (no trailing newline); raise OutputError when the whole batch failed."""

    async def probe(self) -> bool:
        """Does the destination answer again (a cheap request: metadata, cluster health)? Called only while
        `unreachable`; False when it cannot tell."""

    def sync(self) -> None:
        """Make everything sent so far durable. Called from the checkpoint thread before a commit."""

    async def close(self) -> None: ...


# What a server output joins waiting parse batches into (`Output.send_max_events`): ~2.5 MB of typical events;
# sends of 512 made Kafka delivery 40 % slower (bench/output_bench.py --batch).
SERVER_SEND_EVENTS = 2048


class OutputDefaults:
    """Base of an output without some optional capabilities: no size limit, `send` returns by itself, no probe,
    nothing to make durable. Override what the output has."""

    max_document_bytes: int | None = None
    send_max_events: int = 0  # a file takes each batch as it comes: joining would only copy them
    stall_secs: float | None = None
    unreachable: bool = False

    async def probe(self) -> bool:
        return False

    def sync(self) -> None:
        return None
