"""ucsiem.inputs.syslog_framing: RFC 6587 octet counting and non-transparent framing, cut at every byte."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ucsiem.inputs.framing import Frame
from ucsiem.inputs.syslog_framing import (
    BAD_OCTET_COUNT,
    NUL_TRAILER,
    PARTIAL,
    TRUNCATED,
    SyslogStreamDecoder,
)

MESSAGES = [b"<13>Mar 10 11:00:00 h a: one", b"<165>1 2024-03-10T11:00:00Z h app - - - two \xc3\xa9",
            b"<189>123: *Mar  1 00:00:01.123: %SYS-5-CONFIG_I: x", b"<13>with\nembedded LF (octet counting only)"]


def octet(*msgs: bytes) -> bytes:
    return b"".join(b"%d %s" % (len(m), m) for m in msgs)


def run(data: bytes, cuts: list[int], max_bytes: int = 1000) -> tuple[list[Frame], SyslogStreamDecoder]:
    """Feed `data` cut at `cuts`, then close."""
    decoder = SyslogStreamDecoder(max_bytes)
    frames: list[Frame] = []
    prev = 0
    for cut in [*cuts, len(data)]:
        frames += decoder.feed(data[prev:cut])
        prev = cut
    last = decoder.close()
    if last is not None:
        frames.append(last)
    return frames, decoder


def every_split(data: bytes, max_bytes: int = 1000) -> list[Frame]:
    """The frames of `data` fed whole; asserts every two-piece split and byte-by-byte feeding agree."""
    whole, ref = run(data, [], max_bytes)
    for cut in range(len(data) + 1):
        frames, decoder = run(data, [cut], max_bytes)
        assert frames == whole, f"split at {cut}"
        assert decoder.skipped_bytes == ref.skipped_bytes and decoder.framing == ref.framing
    frames, _ = run(data, list(range(1, len(data))), max_bytes)
    assert frames == whole, "byte by byte"
    return whole


def test_octet_counting_every_split_point() -> None:
    data = octet(*MESSAGES)
    frames = every_split(data)
    assert [f.data for f in frames] == MESSAGES
    assert all(f.flags == () for f in frames)
    for f in frames:  # offsets cover the count and the message: deterministic ids per connection
        assert data[f.start:f.end] == b"%d %s" % (len(f.data), f.data)
    assert frames[-1].end == len(data)


def test_non_transparent_every_split_point_lf_crlf_nul() -> None:
    data = MESSAGES[0] + b"\n" + MESSAGES[1] + b"\r\n" + MESSAGES[2] + b"\x00" + b"\n\r\n" + b"<13>last\n"
    frames = every_split(data)
    assert [f.data for f in frames] == [*MESSAGES[:3], b"<13>last"]
    assert [f.flags for f in frames] == [(), (), (NUL_TRAILER,), ()]
    assert data[frames[1].start:frames[1].end] == MESSAGES[1] + b"\r\n"
    assert frames[3].end == len(data)


def test_detection_is_per_connection() -> None:
    a, b = SyslogStreamDecoder(), SyslogStreamDecoder()
    out_a = a.feed(octet(MESSAGES[0])[:3])  # `28 ` decided only once the blank arrives
    out_b = b.feed(MESSAGES[0][:2])
    assert (a.framing, b.framing) == ("octet_counting", "non_transparent")
    out_a += a.feed(octet(MESSAGES[0])[3:] + octet(MESSAGES[3]))
    out_b += b.feed(MESSAGES[0][2:] + b"\n")
    assert [f.data for f in out_a] == [MESSAGES[0], MESSAGES[3]]
    assert [f.data for f in out_b] == [MESSAGES[0]]
    # a message starting with digits that are no count (a PRI-less Cisco line) is newline-framed
    c = SyslogStreamDecoder()
    cisco = b"123: *Mar  1 00:00:01.123: %SYS-5-X: y"
    assert [f.data for f in c.feed(cisco + b"\n")] == [cisco]
    assert c.framing == "non_transparent"
    forced = SyslogStreamDecoder(framing="octet_counting")
    assert forced.framing == "octet_counting"
    assert [f.data for f in forced.feed(b"3 abc")] == [b"abc"]


def test_oversize_octet_counted_is_cut_skipped_and_counted() -> None:
    big = b"<13>" + b"x" * 96
    data = octet(MESSAGES[0], big, MESSAGES[2])
    frames = every_split(data, max_bytes=40)
    assert [f.data for f in frames] == [MESSAGES[0], big[:40], MESSAGES[2][:40]]
    assert [f.flags for f in frames] == [(), (TRUNCATED,), (TRUNCATED,)]
    decoder = run(data, [], 40)[1]
    assert decoder.skipped_bytes == 60 + (len(MESSAGES[2]) - 40)
    assert decoder.truncated == 2
    assert frames[1].end == frames[1].start + 4 + 40  # `100 ` and the 40 bytes kept
    assert frames[2].start == data.index(b"%d <189>" % len(MESSAGES[2]))


def test_oversize_newline_framed_is_cut_at_the_limit() -> None:
    data = b"<13>" + b"y" * 200 + b"\r\n<13>short\n" + b"<13>" + b"z" * 60 + b"\n"
    frames = every_split(data, max_bytes=50)
    assert [f.data for f in frames] == [b"<13>" + b"y" * 46, b"<13>short", b"<13>" + b"z" * 46]
    assert [f.flags for f in frames] == [(TRUNCATED,), (), (TRUNCATED,)]
    assert frames[0].end == 50 and frames[1].start == 206
    assert run(data, [], 50)[1].skipped_bytes == (205 - 50) + (64 - 50)  # the CR of a cut line is skipped too
    # exactly at the limit, with and without CR: not truncated
    assert every_split(b"12345\r\n12345\n", max_bytes=5) == [Frame(0, 7, b"12345"), Frame(7, 13, b"12345")]


def test_memory_stays_bounded_while_a_huge_message_streams() -> None:
    for data in (b"<13>" + b"a" * 10_000_000 + b"\n<13>after\n", octet(b"<13>" + b"a" * 10_000_000, b"<13>after")):
        decoder = SyslogStreamDecoder(64 * 1024)
        frames: list[Frame] = []
        for i in range(0, len(data), 65536):
            frames += decoder.feed(data[i:i + 65536])
            assert decoder.buffered <= 64 * 1024 + 11
        assert [f.data[:4] for f in frames] == [b"<13>", b"<13>"] and frames[1].data == b"<13>after"
        assert frames[0].flags == (TRUNCATED,) and len(frames[0].data) == 64 * 1024
        assert decoder.skipped_bytes == 10_000_004 - 64 * 1024


def test_partial_last_message_at_eof() -> None:
    decoder = SyslogStreamDecoder()
    assert decoder.feed(b"<13>complete\n<13>cut off") == [Frame(0, 13, b"<13>complete")]
    assert decoder.close() == Frame(13, 24, b"<13>cut off", (PARTIAL,))
    assert decoder.close() is None
    decoder = SyslogStreamDecoder()
    assert decoder.feed(b"20 <13>only ten") == []
    assert decoder.close() == Frame(0, 15, b"<13>only ten", (PARTIAL,))
    decoder = SyslogStreamDecoder()
    assert decoder.feed(b"5 <13>a12") == [Frame(0, 7, b"<13>a")]
    assert decoder.close() == Frame(7, 9, b"12", (PARTIAL, BAD_OCTET_COUNT))
    decoder = SyslogStreamDecoder()
    assert decoder.feed(b"123") == [] and decoder.framing is None
    assert decoder.close() == Frame(0, 3, b"123", (PARTIAL,))
    decoder = SyslogStreamDecoder()
    assert decoder.close() is None
    decoder = SyslogStreamDecoder(10)  # EOF while skipping an oversized tail: nothing more
    assert [f.flags for f in decoder.feed(b"<13>0123456789")] == [(TRUNCATED,)]
    assert decoder.close() is None


def test_octet_count_garbage_is_framed_by_newline() -> None:
    data = octet(MESSAGES[0]) + b"abc <13>no count\n" + b"12x <13>bad digit\n" + b"99999999999 <13>eleven digits\n" \
        + octet(MESSAGES[1])
    frames = every_split(data)
    assert [f.data for f in frames] == [MESSAGES[0], b"abc <13>no count", b"12x <13>bad digit",
                                        b"99999999999 <13>eleven digits", MESSAGES[1]]
    assert [f.flags for f in frames] == [(), (BAD_OCTET_COUNT,), (BAD_OCTET_COUNT,), (BAD_OCTET_COUNT,), ()]
    assert run(data, [], 1000)[1].bad_counts == 3


def test_octet_counted_frames_followed_by_newlines_and_zero_counts() -> None:
    # some senders add an LF (or CRLF) after each counted frame; `0 ` is an empty frame (RFC 6587 forbids it)
    data = octet(MESSAGES[0]) + b"\n" + octet(MESSAGES[1]) + b"\r\n" + b"0 " + octet(MESSAGES[2])
    frames = every_split(data)
    assert [f.data for f in frames] == [MESSAGES[0], MESSAGES[1], MESSAGES[2]]
    assert all(f.flags == () for f in frames)
    assert frames[1].start == len(octet(MESSAGES[0])) + 1


def test_offsets_continue_from_a_given_start() -> None:
    decoder = SyslogStreamDecoder(offset=1000)
    assert decoder.feed(b"<13>a\n") == [Frame(1000, 1006, b"<13>a")]
    assert decoder.position == 1006


def test_invalid_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="max_message_bytes"):
        SyslogStreamDecoder(0)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=60), min_size=1, max_size=8), st.booleans(),
       st.lists(st.integers(0, 600), max_size=6), st.integers(1, 80))
def test_any_messages_any_chunking_round_trip(msgs: list[bytes], counted: bool, cuts: list[int], limit: int) -> None:
    if counted:
        data = octet(*msgs)
        expected = [m[:limit] for m in msgs]
    else:
        msgs = [m.replace(b"\n", b"_").replace(b"\x00", b"_").rstrip(b"\r") or b"_" for m in msgs]
        msgs[0] = b"<" + msgs[0]  # no count-like start: newline framing is chosen
        data = b"".join(m + b"\n" for m in msgs)
        expected = [m[:limit] for m in msgs]
    frames, decoder = run(data, sorted(c for c in cuts if c <= len(data)), limit)
    assert [f.data for f in frames] == expected
    assert [TRUNCATED in f.flags for f in frames] == [len(m) > limit for m in msgs]
    assert decoder.skipped_bytes == sum(max(0, len(m) - limit) for m in msgs)
    assert all(a.start < b.start for a, b in itertools.pairwise(frames))


def test_seeded_random_garbage_never_raises_and_stays_bounded() -> None:
    rng = random.Random(6587)
    for _ in range(300):
        decoder = SyslogStreamDecoder(rng.randint(1, 64))
        total = 0
        for _ in range(rng.randint(1, 10)):
            chunk = bytes(rng.choice(b"0123456789 <>\n\r\x00ab") for _ in range(rng.randint(0, 40)))
            total += len(chunk)
            for frame in decoder.feed(chunk):
                assert 0 <= frame.start <= frame.end <= total and len(frame.data) <= decoder.max_message_bytes
            assert decoder.buffered <= decoder.max_message_bytes + 11
        decoder.close()
        assert decoder.position == total


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300).map(lambda b: bytes(b"ab<\r\n\x00 1"[x % 8] for x in b)), st.integers(1, 40),
       st.lists(st.integers(0, 300), max_size=5))
def test_whole_lines_at_once_equal_byte_by_byte(data: bytes, limit: int, cuts: list[int]) -> None:
    """Lines taken a chunk at a time (one split) give what the byte-at-a-time path gives: frames, offsets,
    flags and counters."""
    data = b"<" + data  # newline framing
    chunked, a = run(data, sorted(c for c in cuts if c <= len(data)), limit)
    single, b = run(data, list(range(1, len(data))), limit)
    assert chunked == single
    assert (a.frames, a.truncated, a.skipped_bytes, a.position) == (b.frames, b.truncated, b.skipped_bytes, b.position)
