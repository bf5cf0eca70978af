"""What every output does: take a batch of serialized events and say, per document, what became of it.

An output's `send` returns only once the destination has acknowledged the batch (a Kafka delivery
report, an Elasticsearch bulk response, bytes handed to the kernel). Per document it answers one of
three things: delivered, rejected for good (a dead letter with the reason) or worth retrying. The
sender (`ucsiem.pipeline.delivery`) owns retries, backoff and dead letters, so outputs stay small.
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
    name: str

    async def start(self) -> None:
        """Connect; raise OutputError (retriable when it may work later)."""

    async def send(self, docs: Sequence[bytes]) -> SendResult:
        """Deliver JSON documents (no trailing newline); raise OutputError when the whole batch failed."""

    def sync(self) -> None:
        """Make everything sent so far durable. Called from the checkpoint thread before a commit."""

    async def close(self) -> None: ...
