"""Cut a byte stream into records (lines, or multi-line records), never holding more than a bound.

Pure and incremental: feed it bytes as they are read, get back complete records with their byte
ranges. A record's range covers everything it consumed (blank lines, the cut-off tail of an
oversized line, the trailing newline), so a checkpoint at a record's end never re-reads or skips.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ucsiem.parsing.contract import Framing

TRUNCATED = "truncated"
MULTILINE = "multiline"


class Frame(NamedTuple):
    """A record and the byte range it consumed. Empty `data`: bytes consumed with no record (the
    cut-off tail of an oversized line), acknowledged like a record so the checkpoint moves past it."""

    start: int
    end: int
    data: bytes
    flags: tuple[str, ...] = ()


class Framer:
    """Incremental framer for one file generation."""

    def __init__(self, framing: Framing, max_record_bytes: int, offset: int = 0) -> None:
        self.framing = framing
        self.max_record_bytes = max_record_bytes
        self._first = re.compile(framing.first_line_pattern.encode()) if framing.first_line_pattern else None
        self._line_buf = bytearray()  # an incomplete line
        self._line_start = offset
        self._discarding = False  # inside an oversized line: skip until its newline
        self._pos = offset  # offset of the next byte to be fed
        # pending multiline record
        self._rec: list[bytes] = []
        self._rec_bytes = 0
        self._rec_start = 0
        self._rec_end = 0
        self._rec_truncated = False

    @property
    def position(self) -> int:
        """Offset just past the last byte fed."""
        return self._pos

    @property
    def pending(self) -> bool:
        """True when bytes are held that belong to no emitted record yet."""
        return bool(self._line_buf) or self._discarding or bool(self._rec)

    def feed(self, data: bytes) -> list[Frame]:
        out: list[Frame] = []
        start = self._whole_lines(data, out) if not self._line_buf and not self._discarding else 0
        n = len(data)
        while start < n:
            nl = data.find(b"\n", start)
            if nl < 0:
                self._partial(data[start:], out)
                self._pos += n - start
                break
            piece = data[start:nl]
            line_end = self._pos + (nl - start) + 1
            if self._discarding:
                self._discarding = False
                self._extend_last(out, line_end)
            else:
                if self._line_buf:
                    self._line_buf += piece
                    piece = bytes(self._line_buf)
                    self._line_buf.clear()
                truncated = len(piece) > self.max_record_bytes
                if truncated:
                    piece = piece[: self.max_record_bytes]
                self._line(self._line_start, line_end, piece.rstrip(b"\r"), truncated, out)
            self._pos = line_end
            self._line_start = line_end
            start = nl + 1
        return out

    def _whole_lines(self, data: bytes, out: list[Frame]) -> int:
        """The common case in one pass: the complete lines at the head of `data` while none is over the
        limit (`feed`'s loop takes over at one that is, and for the unterminated tail). The same frames as
        `feed`'s loop gives, without its search, slices and checks per line. Returns the bytes consumed."""
        lines = data.split(b"\n")
        lines.pop()  # what follows the last newline: not a whole line
        start = pos = self._pos  # equal to _line_start: no partial line is held
        limit = self.max_record_bytes
        by_line = self._first is None
        for line in lines:
            if len(line) > limit:
                break
            end = pos + len(line) + 1  # with its newline
            if by_line:
                if line.strip():  # blank lines are no records
                    out.append(Frame(pos, end, line.rstrip(b"\r")))
            else:
                self._line(pos, end, line.rstrip(b"\r"), False, out)
            pos = end
        self._pos = self._line_start = pos
        return pos - start

    def flush(self, final: bool = False) -> list[Frame]:
        """Emit the pending multi-line record (flush timeout); with `final`, also an unterminated line."""
        out: list[Frame] = []
        if final and self._line_buf:
            piece = bytes(self._line_buf)
            self._line_buf.clear()
            self._line(self._line_start, self._pos, piece.rstrip(b"\r"), False, out)
            self._line_start = self._pos
        if final and self._discarding:
            self._discarding = False
            self._extend_last(out, self._pos)
            self._line_start = self._pos
        self._emit_record(out)
        return out

    # -- internals -------------------------------------------------------------------------------

    def _partial(self, chunk: bytes, out: list[Frame]) -> None:
        if self._discarding:
            return
        room = self.max_record_bytes - len(self._line_buf)
        if len(chunk) <= room:
            self._line_buf += chunk
            return
        # The line is over the limit: keep the head as a truncated record, skip the rest as it comes.
        self._line_buf += chunk[:room]
        piece = bytes(self._line_buf)
        self._line_buf.clear()
        self._line(self._line_start, self._pos + len(chunk), piece.rstrip(b"\r"), True, out)
        self._discarding = True
        self._line_start = self._pos + len(chunk)

    def _extend_last(self, out: list[Frame], end: int) -> None:
        """The tail of an oversized line belongs to the record that holds its head."""
        if self._rec:
            self._rec_end = end
            return
        if out:
            last = out[-1]
            out[-1] = Frame(last.start, end, last.data, last.flags)
        else:
            out.append(Frame(self._line_start, end, b""))

    def _line(self, start: int, end: int, line: bytes, truncated: bool, out: list[Frame]) -> None:
        if self._first is None:
            if line.strip():  # blank lines are no records; re-reading one after a restart is harmless
                out.append(Frame(start, end, line, (TRUNCATED,) if truncated else ()))
            return
        if self._first.match(line) or not self._rec:
            self._emit_record(out)
            if not line.strip():
                return
            self._rec = [line]
            self._rec_bytes = len(line)
            self._rec_start = start
            self._rec_end = end
            self._rec_truncated = truncated
            return
        self._rec_end = end
        if (len(self._rec) >= self.framing.max_lines
                or self._rec_bytes + len(line) + 1 > min(self.framing.max_bytes, self.max_record_bytes)):
            self._rec_truncated = True
            return
        self._rec.append(line)
        self._rec_bytes += len(line) + 1
        self._rec_truncated = self._rec_truncated or truncated

    def _emit_record(self, out: list[Frame]) -> None:
        if not self._rec:
            return
        flags: tuple[str, ...] = ()
        if len(self._rec) > 1:
            flags += (MULTILINE,)
        if self._rec_truncated:
            flags += (TRUNCATED,)
        out.append(Frame(self._rec_start, self._rec_end, b"\n".join(self._rec), flags))
        self._rec = []
        self._rec_bytes = 0
