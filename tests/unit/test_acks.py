from __future__ import annotations

import pytest

from ucsiem.pipeline.acks import AckTracker


def test_advances_only_over_contiguous_acks() -> None:
    seen: list[int] = []
    tracker: AckTracker[dict[str, str]] = AckTracker(lambda offset, state: seen.append(offset))
    a, b, c = (tracker.register(end, {}) for end in (10, 20, 30))
    tracker.ack(c)
    tracker.ack(b)
    assert seen == []  # batch a is not delivered: nothing after it may be claimed
    tracker.ack(a)
    assert seen == [30]
    assert tracker.in_flight == 0


def test_unknown_ack_is_an_error() -> None:
    tracker: AckTracker[dict[str, str]] = AckTracker(lambda offset, state: None)
    seq = tracker.register(5, {})
    tracker.ack(seq)
    with pytest.raises(ValueError):
        tracker.ack(seq)
