"""Scanner for Expressway message bodies: `Name="value"` pairs, possibly mixed with free text.

Linear on any input: the body is split on `"` once and every segment is looked at a bounded number of
times; no regular expression runs over a value. Values are trimmed (copies of the web UI add blanks:
`Event=" Call Attempted "`), keys keep the vendor's spelling.

Well-formed bodies (the common case) take a fast path made only of C-level string operations. The
rest goes through `_scan_general`, which also copes with what real devices and copied logs contain:

* free text before, between or after pairs (`Thread="0x7f": TTSSL_continueHandshake: Failed ...`,
  the `:` that ends the header attributes of a module line);
* unescaped quotes inside a value (`Detail="CPL: <location clear="yes" ...> added ..."`): when the text
  after a closing quote is not `<space>Name=`, the quote was part of the value; the value then runs up
  to the last quote that is followed by well-formed pairs only, found by scanning back from the end;
* an unterminated last value (a cut line): it runs to the end of the body;
* a repeated key: the first value wins, the later ones are returned in `dups`.
"""

from __future__ import annotations

import re
import string

KEY_CHARS = string.ascii_letters + string.digits + "_.-"
_KEYS = re.compile(r"[A-Za-z0-9_.-]+(?:\x00[A-Za-z0-9_.-]+)*")
_SEPARATORS = " \t:"
# attribute names of the usual event-log lines: when every key is one of these, no need to check them
_COMMON_KEYS = frozenset((
    "UTCTime", "Module", "Level", "Event", "Service", "Src-ip", "Src-port", "Dst-ip", "Dst-port", "Protocol",
    "Src-alias-type", "Src-alias", "Dst-alias-type", "Dst-alias", "Call-serial-number", "Tag", "Auth", "AOR",
    "Contact", "Duration", "Detail", "Reason", "Response-code", "Method", "Request-URI", "To", "User",
    "Call-routed", "Media-routed", "Cause-code", "Common-name", "Action", "Local-ip", "Local-port", "Msg-Hash",
    "Id", "UUID", "Severity", "Node", "PID", "CodeLocation", "Thread",
))
_FREE_STRIP = " \t\r:"

Scan = tuple[dict[str, str], str, dict[str, list[str]] | None]


def scan(body: str) -> Scan:
    """Return (pairs, free text, repeated keys) for one body."""
    segs = body.replace('="', '"').replace('" ', '"').split('"')
    keys = segs[0:-1:2]
    if (
        len(segs) & 1
        and keys
        and body.count('="') == len(keys)
        and not segs[-1].strip()
        and (_COMMON_KEYS.issuperset(keys) or _KEYS.fullmatch("\x00".join(keys)) is not None)
    ):
        pairs = dict(zip(keys, map(str.strip, segs[1::2]), strict=True))
        if len(pairs) == len(keys):
            return pairs, "", None
    return _scan_general(body)


def _split_key(seg: str, after_quote: bool) -> tuple[str, str] | None:
    """`<free text><sep>Name=` -> (free text, Name); None when the segment does not end a key."""
    if not seg.endswith("="):
        return None
    head = seg[:-1]
    pre = head.rstrip(KEY_CHARS)
    if len(pre) == len(head):
        return None
    if pre:
        if pre[-1] not in _SEPARATORS:
            return None
        if after_quote and pre[0] not in _SEPARATORS:
            return None
    return pre, head[len(pre):]


def _scan_general(body: str) -> Scan:
    segs = body.split('"')
    last = len(segs) - 1
    fwd: list[tuple[str, int]] = []  # (key, index of its value segment)
    free_fwd: list[str] = []
    values: dict[int, str] = {}  # value segment index -> value, where it spans several segments
    tail_free: list[str] = []
    i = 0
    anomaly = -1
    while i < last:
        split = _split_key(segs[i], i > 0)
        if split is None:
            anomaly = i
            break
        if split[0]:
            free_fwd.append(split[0])
        fwd.append((split[1], i + 1))
        i += 2
    if anomaly < 0:
        if i == last:
            tail_free.append(segs[last])
        back: list[tuple[str, int]] = []
    else:
        # The quote before segs[anomaly] did not close a value. Find from the end the pairs that are
        # well formed; what lies between belongs to the last forward value (or is free text).
        start = anomaly - 1 if anomaly else 0
        back = []
        back_free: list[str] = []
        o = last - 2
        while o > start:
            split = _split_key(segs[o], True)
            if split is None:
                break
            back.append((split[1], o + 1))
            if split[0]:
                back_free.append(split[0])
            o -= 2
        end = o + 2 if back else last
        region = '"'.join(segs[start:end])
        if anomaly:
            values[start] = region
        else:
            free_fwd.append(region + '"' if back else body)
        back.reverse()
        back_free.reverse()
        free_fwd.extend(back_free)
        if back or anomaly:
            tail_free.append(segs[last])
    pairs: dict[str, str] = {}
    dups: dict[str, list[str]] | None = None
    for key, idx in (*fwd, *back):
        value = values.get(idx)
        value = (segs[idx] if value is None else value).strip()
        if key in pairs:
            if dups is None:
                dups = {}
            dups.setdefault(key, []).append(value)
        else:
            pairs[key] = value
    pieces = [p for p in (f.strip(_FREE_STRIP) for f in (*free_fwd, *tail_free)) if p]
    return pairs, " ".join(pieces), dups
