"""Framer: records and the exact byte ranges they consume, whatever the read boundaries."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from ucsiem.inputs.framing import Frame, Framer
from ucsiem.parsing.contract import Framing

LINE = Framing()
MULTI = Framing(kind="multiline", first_line_pattern=r"\d{4}-", max_lines=3, max_bytes=1000)


def feed_all(framer: Framer, data: bytes, step: int) -> list[Frame]:
    out: list[Frame] = []
    for i in range(0, len(data), step):
        out += framer.feed(data[i:i + step])
    return out


def test_lines_with_any_read_boundary() -> None:
    data = b"one\r\ntwo\n\nthree\nfour"
    for step in (1, 2, 3, 7, 100):
        framer = Framer(LINE, 1000)
        frames = feed_all(framer, data, step) + framer.flush(final=True)
        assert [f.data for f in frames] == [b"one", b"two", b"three", b"four"], step
        assert [(f.start, f.end) for f in frames] == [(0, 5), (5, 9), (10, 16), (16, 20)], step


def test_unterminated_line_waits_unless_final() -> None:
    framer = Framer(LINE, 1000)
    assert framer.feed(b"a\nb") == [Frame(0, 2, b"a")]
    assert framer.flush() == []
    assert framer.pending
    assert framer.flush(final=True) == [Frame(2, 3, b"b")]


def test_oversized_line_is_cut_flagged_and_its_tail_consumed() -> None:
    data = b"x" * 50 + b"\nok\n"
    for step in (4, 16, 1000):
        framer = Framer(LINE, 10)
        frames = feed_all(framer, data, step)
        records = [f for f in frames if f.data]
        assert records[0] == Frame(0, records[0].end, b"x" * 10, ("truncated",)), step
        assert records[1].data == b"ok"
        # the whole oversized line is covered: by the record, or by an empty frame for its tail
        covered = sorted((f.start, f.end) for f in frames)
        assert covered[0][0] == 0 and covered[-1][1] == len(data)
        assert all(a[1] == b[0] for a, b in pairwise(covered)), covered


def test_ten_megabyte_line_never_held_whole() -> None:
    framer = Framer(LINE, 1024)
    chunk = b"y" * 1_048_576
    frames: list[Frame] = []
    for _ in range(10):
        frames += framer.feed(chunk)
        assert len(framer._line_buf) <= 1024
    frames += framer.feed(b"\n")
    assert [len(f.data) for f in frames if f.data] == [1024]
    assert frames[-1].end == 10 * 1_048_576 + 1


def test_multiline_joins_continuations_and_limits() -> None:
    data = b"2024- a\n b\n c\n d\n2024- e\nf\n"
    framer = Framer(MULTI, 1000)
    frames = framer.feed(data)
    assert frames == [Frame(0, 17, b"2024- a\n b\n c", ("multiline", "truncated"))]
    assert framer.flush() == [Frame(17, 27, b"2024- e\nf", ("multiline",))]


def test_multiline_leading_continuation_is_its_own_record() -> None:
    framer = Framer(MULTI, 1000)
    frames = framer.feed(b"orphan\n2024- a\n") + framer.flush()
    assert [f.data for f in frames] == [b"orphan", b"2024- a"]


def test_framer_resumes_at_offset() -> None:
    framer = Framer(LINE, 1000, offset=100)
    assert framer.feed(b"abc\n") == [Frame(100, 104, b"abc")]


class LineByLine(Framer):
    """The framer without its whole-lines pass: every line through `feed`'s general loop."""

    def _whole_lines(self, data: bytes, out: list[Frame]) -> int:
        return 0


@settings(max_examples=1500)
@given(pieces=st.lists(st.sampled_from([b"2024- a", b"b", b" ", b"\r", b"\n", b"\n", b"x" * 9, b"2024-"]),
                       max_size=40),
       cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=6),
       multiline=st.booleans(), limit=st.integers(min_value=1, max_value=24), offset=st.integers(0, 5))
def test_whole_lines_pass_frames_as_line_by_line(pieces: list[bytes], cuts: list[int], multiline: bool, limit: int,
                                                 offset: int) -> None:
    """Whatever the lines, limits and read boundaries: the same frames, positions and pending state."""
    data = b"".join(pieces)
    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    framing = MULTI if multiline else LINE
    fast, reference = Framer(framing, limit, offset), LineByLine(framing, limit, offset)
    for a, b in pairwise(bounds):
        assert fast.feed(data[a:b]) == reference.feed(data[a:b])
        assert (fast.position, fast.pending) == (reference.position, reference.pending)
    assert fast.flush() == reference.flush()
    assert fast.flush(final=True) == reference.flush(final=True)
