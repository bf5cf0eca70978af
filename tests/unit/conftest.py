"""Fixtures shared by the unit tests of the delivery stage (sender, memory feed, spool feed)."""

from __future__ import annotations

import asyncio

import pytest

from ucsiem.pipeline.delivery import Sender


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays the sender waits before each retry (it does not wait: the tests stay fast)."""
    seen: list[float] = []

    async def wait(self: Sender, delay: float) -> None:
        seen.append(delay)
        await asyncio.sleep(0)

    monkeypatch.setattr(Sender, "_wait", wait)
    return seen
