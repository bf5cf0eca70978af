"""Ordered acknowledgements: a file position advances only over contiguous delivered batches.

Outputs may acknowledge batches out of order (several in flight); the checkpoints must still never
claim a byte delivered while an earlier one is not, or a crash would lose it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

State = TypeVar("State")


@dataclass
class _Pending(Generic[State]):
    seq: int
    end_offset: int
    state: State
    done: bool = False


@dataclass
class AckTracker(Generic[State]):
    """One per file generation. `on_advance(offset, state)` runs when the delivered prefix grows; `state`
    is what the reader knew at the end of the batch (header lines, a hash of the bytes before it...)."""

    on_advance: Callable[[int, State], None]
    _pending: deque[_Pending[State]] = field(default_factory=deque)
    _next_seq: int = 0

    def register(self, end_offset: int, state: State) -> int:
        """A batch ending at `end_offset` was handed to the pipeline; returns its sequence number."""
        seq = self._next_seq
        self._next_seq += 1
        self._pending.append(_Pending(seq, end_offset, state))
        return seq

    def ack(self, seq: int) -> None:
        first = self._pending[0].seq if self._pending else seq
        index = seq - first
        if index < 0 or index >= len(self._pending) or self._pending[index].seq != seq:
            raise ValueError(f"ack of unknown batch {seq}")
        self._pending[index].done = True
        last: _Pending[State] | None = None
        while self._pending and self._pending[0].done:
            last = self._pending.popleft()
        if last is not None:
            self.on_advance(last.end_offset, last.state)

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    @property
    def registered_end(self) -> int | None:
        """End of the last batch handed to the pipeline and not yet acknowledged (None: all delivered)."""
        return self._pending[-1].end_offset if self._pending else None
