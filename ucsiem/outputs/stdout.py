"""NDJSON on standard output (debugging, piping into other tools)."""

from __future__ import annotations

import sys

from ucsiem.errors import OutputError


class StdoutOutput:
    name = "stdout"

    async def start(self) -> None:
        return None

    async def write(self, blob: bytes, count: int) -> None:
        try:
            sys.stdout.buffer.write(blob)
            sys.stdout.buffer.flush()
        except BrokenPipeError as exc:
            raise OutputError("standard output was closed by the reader", retriable=False) from exc

    def sync(self) -> None:
        return None

    async def close(self) -> None:
        return None
