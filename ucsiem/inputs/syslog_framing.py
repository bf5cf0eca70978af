"""Syslog over a TCP (or TLS) stream: cut the bytes of one connection into messages (RFC 6587).

Pure and incremental, one decoder per connection: `feed()` the bytes as they arrive, get back the
complete messages with their byte offsets in the connection; `close()` at EOF returns a last message
that had no trailer (flagged `partial`). The framing is detected from the first bytes of the
connection and kept for it:

* octet counting (RFC 6587 3.4.1): `MSG-LEN SP SYSLOG-MSG`, e.g. `45 <13>1 2024-...`, the framing of
  RFC 5425 (TLS) and of `logger --octet-count`, rsyslog `TCP_Framing="octet-counted"`, syslog-ng
  `syslog()`; a connection whose first bytes are `[1-9][0-9]* ` uses it.
* non-transparent framing (3.4.2): each message ends with LF; CRLF and NUL are accepted as trailers
  too (the CR is dropped). Everything else.

Memory is bounded by `max_message_bytes`: a longer message is cut at the limit and emitted at once,
flagged `truncated`; the rest of it (up to its octet count, or to the next trailer) is skipped and
counted in `skipped_bytes`, never buffered. In an octet-counted stream a frame header that is not a
count (`abc <13>...`, `12x`, a count of 11 digits) cannot be framed by length: that frame is read up
to the next LF instead, flagged `bad_octet_count`, and the next frame is again read by count.

Offsets: `start` is the connection offset of the frame's first byte (its count, if any), `end` the
offset after the last byte the frame consumed (its trailer included). Together with the connection's
identity they give deterministic event ids; bytes between frames (empty lines, skipped tails) belong
to no frame.
"""

from __future__ import annotations

from typing import Literal

from ucsiem.inputs.framing import Frame  # a message is a frame as a file's record is

Framing = Literal["octet_counting", "non_transparent"]

TRUNCATED = "truncated"  # the message was longer than max_message_bytes: cut, the rest skipped
PARTIAL = "partial"  # the connection ended inside the message (returned by close())
BAD_OCTET_COUNT = "bad_octet_count"  # octet-counted stream, no valid count: framed by LF instead
NUL_TRAILER = "nul_trailer"  # ended by NUL instead of LF

OCTET_COUNTING: Framing = "octet_counting"
NON_TRANSPARENT: Framing = "non_transparent"
MAX_COUNT_DIGITS = 10
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024


_COUNT, _BODY, _SKIP, _LINE, _SKIP_LINE = range(5)
_SEPARATORS = b"\n\r\x00 "  # tolerated between octet-counted frames (senders that add an LF)


class SyslogStreamDecoder:
    """Incremental RFC 6587 decoder for one connection."""

    def __init__(self, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES, *, offset: int = 0,
                 framing: Framing | None = None) -> None:
        """`framing` forces one (a listener configured for one framing); None detects it."""
        if max_message_bytes < 1:
            raise ValueError("max_message_bytes must be at least 1")
        self.max_message_bytes = max_message_bytes
        self.framing: Framing | None = None
        self.skipped_bytes = 0
        """Bytes of oversized messages skipped after their cut (cumulative)."""
        self.frames = 0
        self.truncated = 0
        self.bad_counts = 0
        self._pos = offset  # connection offset of the next byte to process
        self._probe = bytearray()  # first bytes, held until the framing is known (<= 11 bytes)
        self._buf = bytearray()  # the current frame's message bytes (<= max_message_bytes)
        self._hdr = bytearray()  # the current frame's count digits (<= MAX_COUNT_DIGITS)
        self._start = offset  # connection offset of the current frame's first byte
        self._state = _LINE
        self._need = 0  # _BODY: message length; _SKIP: bytes left to skip
        if framing is not None:
            self._choose(framing)

    @property
    def position(self) -> int:
        """Connection offset just past the last byte fed."""
        return self._pos + len(self._probe)

    @property
    def buffered(self) -> int:
        """Bytes held for an incomplete message (bounded by max_message_bytes + 11)."""
        return len(self._buf) + len(self._hdr) + len(self._probe)

    def feed(self, data: bytes) -> list[Frame]:
        """The messages completed by `data`, in order."""
        out: list[Frame] = []
        if self.framing is None:
            self._probe += data
            framing = _detect(self._probe)
            if framing is None:
                return out
            self._choose(framing)
            data = bytes(self._probe)
            self._probe.clear()
        data = bytes(data)
        i, n = 0, len(data)
        while i < n:
            state = self._state
            if state == _COUNT:
                i = self._count(data, i)
            elif state == _BODY:
                i = self._body(data, i, out)
            elif state == _SKIP:
                take = min(self._need, n - i)
                self._need -= take
                self.skipped_bytes += take
                self._pos += take
                i += take
                if not self._need:
                    self._next_frame()
            elif state == _LINE and not self._buf and self.framing == NON_TRANSPARENT:
                i = self._whole_lines(data, i, out)
                if i < n:
                    i = self._line(data, i, out)
            else:
                i = self._line(data, i, out)
        return out

    def close(self) -> Frame | None:
        """End of the connection: the unterminated last message (flagged `partial`), or None."""
        if self._probe:  # the framing was never decided: a few digits and EOF
            data = bytes(self._probe)
            self._pos += len(data)
            self._probe.clear()
            return self._partial(data, (PARTIAL,))
        state = self._state
        frame: Frame | None = None
        if state == _COUNT and self._hdr:
            frame = self._partial(bytes(self._hdr), (PARTIAL, BAD_OCTET_COUNT))
        elif state == _BODY and self._buf:
            frame = self._partial(bytes(self._buf), (PARTIAL,))
        elif state == _LINE and self._buf.rstrip(b"\r"):
            flags = (PARTIAL, BAD_OCTET_COUNT) if self.framing == OCTET_COUNTING else (PARTIAL,)
            frame = self._partial(bytes(self._buf.rstrip(b"\r")), flags)
        self._next_frame()
        return frame

    # -- internals -------------------------------------------------------------------------------

    def _choose(self, framing: Framing) -> None:
        self.framing = framing
        self._state = _COUNT if framing == OCTET_COUNTING else _LINE

    def _partial(self, data: bytes, flags: tuple[str, ...]) -> Frame:
        self.frames += 1
        return Frame(self._start, self._pos, data, flags)

    def _next_frame(self) -> None:
        self._buf.clear()
        self._hdr.clear()
        self._start = self._pos
        self._need = 0
        self._state = _COUNT if self.framing == OCTET_COUNTING else _LINE

    def _count(self, data: bytes, i: int) -> int:
        """Octet counting: the `MSG-LEN SP` header, byte by byte."""
        n = len(data)
        while i < n:
            b = data[i]
            if not self._hdr and b in _SEPARATORS:  # an LF (or CR, NUL, blank) after the previous frame
                i += 1
                self._pos += 1
                self._start = self._pos
                continue
            if b == 0x20:
                self._pos += 1
                need = int(self._hdr)
                self._hdr.clear()
                if need == 0:  # not allowed by RFC 6587; nothing to emit
                    self._next_frame()
                    return i + 1
                self._need = need
                self._state = _BODY
                return i + 1
            if 0x30 <= b <= 0x39 and len(self._hdr) < MAX_COUNT_DIGITS:  # leading zeros tolerated
                self._hdr.append(b)
                self._pos += 1
                i += 1
                continue
            # no count: read this frame up to the next trailer; the digits seen are part of it
            self.bad_counts += 1
            self._buf += self._hdr
            self._hdr.clear()
            self._state = _LINE
            return i
        return i

    def _body(self, data: bytes, i: int, out: list[Frame]) -> int:
        limit = min(self._need, self.max_message_bytes)
        take = min(limit - len(self._buf), len(data) - i)
        self._buf += data[i:i + take]
        self._pos += take
        i += take
        if len(self._buf) < limit:
            return i
        flags: tuple[str, ...] = ()
        skip = self._need - limit
        if skip:
            flags = (TRUNCATED,)
            self.truncated += 1
        out.append(Frame(self._start, self._pos, bytes(self._buf), flags))
        self.frames += 1
        self._next_frame()
        if skip:
            self._state = _SKIP
            self._need = skip
        return i

    def _whole_lines(self, data: bytes, i: int, out: list[Frame]) -> int:
        """`_line` for every complete line of `data` from `i` at once (one C split, no buffer): what a
        sender's stream mostly is. Left to `_line` when a NUL or a line over the limit is among them;
        returns where the lines end (after the last LF)."""
        last = data.rfind(b"\n", i)
        if last < 0 or data.find(b"\x00", i, last) >= 0:
            return i
        lines = data[i:last].split(b"\n")
        if max(map(len, lines)) > self.max_message_bytes:
            return i
        pos = self._pos
        before = len(out)
        for line in lines:
            start = pos
            pos += len(line) + 1
            if line[-1:] == b"\r":
                line = line[:-1]
            if line:
                out.append(Frame(start, pos, line))
        self.frames += len(out) - before
        self._pos = self._start = pos
        return last + 1

    def _line(self, data: bytes, i: int, out: list[Frame]) -> int:
        """Up to the next LF or NUL (non-transparent framing, or a frame without a valid count).

        The buffer may hold one byte over the limit when that byte is a CR (it may precede the LF)."""
        n = len(data)
        limit = self.max_message_bytes
        end = _find_trailer(data, i)
        size = (n if end < 0 else end) - i
        if self._state == _SKIP_LINE:
            self.skipped_bytes += size
            self._pos += size
            if end < 0:
                return n
            self._pos += 1
            self._next_frame()
            return end + 1
        total = len(self._buf) + size
        last = data[i + size - 1] if size else (self._buf[-1] if self._buf else -1)
        content = total - 1 if last == 0x0D else total
        if content <= limit:  # fits (a trailing CR is dropped at the trailer)
            self._buf += data[i:i + size]
            self._pos += size
            if end < 0:
                return n
            self._pos += 1
            self._emit_line(out, self._pos, truncated=False, nul=data[end] == 0)
            return end + 1
        # too long: keep the first `limit` bytes, emitted now; skip the rest up to the trailer
        keep = limit - len(self._buf)  # -1 when the buffer holds limit bytes and a CR
        if keep > 0:
            self._buf += data[i:i + keep]
        else:
            del self._buf[limit:]
        self._emit_line(out, self._pos + keep, truncated=True, nul=False)
        self.skipped_bytes += total - limit
        self._pos += size
        if end < 0:
            self._state = _SKIP_LINE
            return n
        self._pos += 1
        self._next_frame()
        return end + 1

    def _emit_line(self, out: list[Frame], end: int, *, truncated: bool, nul: bool) -> None:
        data = bytes(self._buf)
        if not truncated and data.endswith(b"\r"):
            data = data[:-1]
        flags: tuple[str, ...] = ()
        if self.framing == OCTET_COUNTING:
            flags += (BAD_OCTET_COUNT,)
        if truncated:
            flags += (TRUNCATED,)
            self.truncated += 1
        if nul:
            flags += (NUL_TRAILER,)
        if data or truncated:  # an empty line is no message
            out.append(Frame(self._start, end, data, flags))
            self.frames += 1
        self._next_frame()


def _detect(probe: bytearray) -> Framing | None:
    """`[1-9][0-9]{0,9} ` starts an octet-counted stream; anything else is not; None: not known yet."""
    for k, b in enumerate(probe):
        if 0x30 <= b <= 0x39 and k < MAX_COUNT_DIGITS and (k or b != 0x30):
            continue
        return OCTET_COUNTING if b == 0x20 and k else NON_TRANSPARENT
    return None


def _find_trailer(data: bytes, start: int) -> int:
    """Index of the first LF or NUL at or after `start`, -1 when there is none."""
    lf = data.find(b"\n", start)
    nul = data.find(b"\x00", start, lf if lf >= 0 else len(data))
    return nul if nul >= 0 else lf
