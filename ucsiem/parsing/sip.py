"""SIP values that several products log the same way: `;`-parameters and name-addr.

`ms-diagnostics: 1010; reason ="Certificate trust ... established";ErrorType="..."`, `Direction:
incoming;source="internal edge"` and the parameters after a name-addr (`<sip:bob@example.com>;tag=1`)
share one grammar: `;`-separated `name = value` pairs, values optionally quoted, blanks around `=` and
inside quotes allowed. The scanner is a single left-to-right pass (linear on any input), bounded in the
characters and pairs it reads.
"""

from __future__ import annotations

MAX_PARAMS = 32
MAX_SCAN = 8192  # characters of one value that are scanned for parameters


def sip_params(text: str) -> tuple[str, dict[str, str]]:
    """`head; a ="x y"; b=z` -> ("head", {"a": "x y", "b": "z"}): first segment, then named pairs (keys
    lower case, first one wins, values trimmed of quotes and blanks)."""
    text = text[:MAX_SCAN]
    segments: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
            current.append(char)
        elif char == ";" and not quoted:
            segments.append("".join(current))
            current = []
            if len(segments) > MAX_PARAMS:
                break
        else:
            current.append(char)
    segments.append("".join(current))
    head = segments[0].strip()
    out: dict[str, str] = {}
    for segment in segments[1:]:
        name, eq, value = segment.partition("=")
        key = name.strip().lower()
        if not key:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            value = value[1:-1]
        out.setdefault(key, value.strip() if eq else "")
    return head, out


def name_addr(value: str) -> tuple[str, str | None]:
    """`"Bob" <sip:bob@example.com>;tag=1` -> ("sip:bob@example.com", "1")."""
    lt = value.find("<")
    if lt >= 0:
        gt = value.find(">", lt)
        if gt < 0:
            return value[lt + 1:].strip(), None
        uri, rest = value[lt + 1:gt].strip(), value[gt + 1:]
    else:
        uri, _, rest = value.partition(";")
        uri, rest = uri.strip(), ";" + rest
    _, found = sip_params(rest)
    return uri, (found.get("tag") or None)
