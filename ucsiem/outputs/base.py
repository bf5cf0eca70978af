"""What every output does: take a batch of serialized events, say when it is safe (durable)."""

from __future__ import annotations

from typing import Protocol


class Output(Protocol):
    name: str

    async def start(self) -> None: ...

    async def write(self, blob: bytes, count: int) -> None:
        """Deliver `count` newline-terminated JSON documents; raise OutputError when it cannot."""

    def sync(self) -> None:
        """Make everything written so far durable. Called from the checkpoint thread before a commit."""

    async def close(self) -> None: ...
