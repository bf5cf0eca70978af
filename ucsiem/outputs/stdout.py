"""NDJSON on standard output (debugging, piping into other tools)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ucsiem.errors import OutputError
from ucsiem.outputs.base import OutputDefaults, SendResult


class StdoutOutput(OutputDefaults):
    name = "stdout"

    async def start(self) -> None:
        return None

    async def send(self, docs: Sequence[bytes]) -> SendResult:
        try:
            sys.stdout.buffer.write(b"".join(d + b"\n" for d in docs))
            sys.stdout.buffer.flush()
        except BrokenPipeError as exc:
            raise OutputError("standard output was closed by the reader", retriable=False) from exc
        return SendResult()

    async def close(self) -> None:
        return None
