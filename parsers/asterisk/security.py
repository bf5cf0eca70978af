"""`res_security_log.c` lines: `SecurityEvent="<Type>",EventTV="...",...,RemoteAddress="IPV4/UDP/ip/port"[,...]`.

Asterisk prints every information element as `,Name="value"` without escaping anything, so values
the remote party chose (`AccountID`, `SessionID` = a PJSIP Call-ID, `Response`, `ReceivedHash`...) can
contain quotes, commas and whole fake `",RemoteAddress="..."` elements. The line is therefore never
split on `,` or read with a generic key=value scanner. Instead (see README "Attacker-controlled text"):

* the fixed leading elements (`SecurityEvent`, `EventTV`, `Severity`, `Service`, `EventVersion`, whose
  values Asterisk itself chooses) are read in order from the start;
* the address pair is the strict pattern `",LocalAddress="<addr>",RemoteAddress="<addr>"` that
  Asterisk writes right after `SessionID`. When text injected by the peer creates more than one such
  pair, the last one that is plausible is taken: only well-formed, quote-free `,Name="value"`
  elements of the type-specific kind follow it, and no type-specific element (`Challenge`,
  `Response`...) precedes it; with no plausible pair, the first. The event gets the tag
  `ambiguous_address` and every candidate RemoteAddress is kept in `uc.vendor.address_candidates`;
* `AccountID`/`SessionID` are the text between the leading elements and that pair; the elements after
  the pair go to `uc.vendor` as written.

No IP is ever taken out of any other element.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, NamedTuple

from ucsiem.parsing import ParseError, canonical_ip, to_port

from .stamps import event_tv

_HEAD = re.compile(r'(SecurityEvent|EventTV|Severity|Service|EventVersion)="([^"]{0,64})"')
_ADDR = r"IPV[46]/(?:[A-Z]{2,4}/)?[0-9A-Fa-f:.\[\]]{2,47}/\d{1,5}"
_PAIR = re.compile(rf'",LocalAddress="({_ADDR})",RemoteAddress="({_ADDR})"')
_STRICT_TAIL = re.compile(r'(?:,[A-Za-z]{2,32}="[^"]*")*')
_STRICT_ITEM = re.compile(r',([A-Za-z]{2,32})="([^"]*)"')
# A `,Name="` element start inside text whose values may hold quotes: the `"` that closes the
# previous value (or the start), a comma, a name, `="`.
_LOOSE_KEY = re.compile(r'(?:^|(?<="))\,([A-Za-z]{2,32})="')
# Elements that only ever come before the address pair (AccountID may also follow it: RequestBadFormat)
_PAIR_ONLY_KEYS = frozenset(("SecurityEvent", "EventTV", "Severity", "Service", "EventVersion", "SessionID",
                             "LocalAddress", "RemoteAddress"))
# Type-specific elements, always written after the pair
_TAIL_KEYS = ("Module", "SessionTV", "ACLName", "RequestType", "RequestParams", "AuthMethod", "Challenge",
              "Response", "ExpectedResponse", "ReceivedChallenge", "ReceivedHash", "UsingPassword",
              "ExpectedAddress", "AttemptedTransport")
MAX_CANDIDATES = 16


class SecurityEvent(NamedTuple):
    """One `SecurityEvent=` message, as Asterisk wrote it."""

    name: str  # SecurityEvent
    service: str
    severity: str
    version: str  # EventVersion
    event_tv: str  # as written
    time: datetime | None  # EventTV when it carries a zone
    account: str | None  # AccountID
    session: str | None  # SessionID
    unparsed: str | None  # text between the leading elements and the pair that is neither of them
    elements: dict[str, str]  # the other elements, as written (first non-empty one of each name)
    local: dict[str, Any] | None  # LocalAddress {ip, port}
    remote: dict[str, Any] | None  # RemoteAddress {ip, port}
    transport: str | None  # of RemoteAddress, else of LocalAddress
    candidates: list[str]  # every RemoteAddress of an ambiguous line (more than one pair), else empty
    tags: list[str]


def _endpoint(value: str, what: str, tags: list[str]) -> tuple[dict[str, Any], str | None]:
    """`IPV4/UDP/192.0.2.1/5060` (transport optional) -> ({ip, port}, transport); a port above 65535 is
    left out and tags the event `bad_port`."""
    parts = value.split("/")
    transport = parts[1] if len(parts) == 4 else None
    ip = canonical_ip(parts[-2])
    if ip is None:
        raise ParseError("bad_field", f"{what} does not hold an IP address: {value[:64]!r}")
    return {"ip": ip, "port": to_port(parts[-1], tags)}, transport


def _tail_items(tail: str) -> list[tuple[str, str]]:
    """`,Name="value"` elements after the address pair (values may hold quotes)."""
    if _STRICT_TAIL.fullmatch(tail) is not None:
        return _STRICT_ITEM.findall(tail)
    items: list[tuple[str, str]] = []
    starts = list(_LOOSE_KEY.finditer(tail))
    for i, m in enumerate(starts):
        end = starts[i + 1].start() - 1 if i + 1 < len(starts) else len(tail)
        value = tail[m.end():end]
        if i + 1 == len(starts) and value.endswith('"'):
            value = value[:-1]
        items.append((m.group(1), value))
    return items


def _plausible(body: str, start: int, m: re.Match[str]) -> bool:
    """A pair Asterisk wrote is followed only by well-formed type-specific elements, and only
    AccountID/SessionID stand between it and the leading elements."""
    tail = body[m.end():]
    if _STRICT_TAIL.fullmatch(tail) is None:
        return False
    if any(k in _PAIR_ONLY_KEYS for k, _ in _STRICT_ITEM.findall(tail)):
        return False
    middle = body[start:m.start() + 1]
    return not any(f'",{k}="' in middle for k in _TAIL_KEYS)


def _choose_pair(body: str, start: int) -> tuple[re.Match[str] | None, list[re.Match[str]]]:
    """The LocalAddress/RemoteAddress pair Asterisk wrote (see the module doc), and all candidates."""
    candidates: list[re.Match[str]] = []
    for m in _PAIR.finditer(body, start):
        candidates.append(m)
        if len(candidates) >= MAX_CANDIDATES:
            break
    if len(candidates) <= 1:
        return (candidates[0] if candidates else None), candidates
    for m in reversed(candidates):
        if _plausible(body, start, m):
            return m, candidates
    return candidates[0], candidates


def read_security(body: str) -> SecurityEvent:
    """A `SecurityEvent=` message (after the logger header) -> its elements."""
    head: dict[str, str] = {}
    pos = 0
    while True:
        m = _HEAD.match(body, pos)
        if m is None:
            break
        head.setdefault(m.group(1), m.group(2))
        pos = m.end()
        if not body.startswith(",", pos) or _HEAD.match(body, pos + 1) is None:
            break
        pos += 1
    name = head.get("SecurityEvent", "")
    if not name:
        raise ParseError("no_match", "security log line without SecurityEvent=\"...\"")

    pair, candidates = _choose_pair(body, pos)
    middle_end = pair.start() + 1 if pair is not None else len(body)
    middle = body[pos:middle_end]
    items: list[tuple[str, str]] = []
    if pair is not None:
        items = _tail_items(body[pair.end():])
        middle = middle[:-1]  # the quote that closes SessionID
    else:
        items = _tail_items(middle)
        middle = ""
    account: str | None = None
    session: str | None = None
    unparsed: str | None = None
    if middle.startswith(',AccountID="'):
        rest = middle[len(',AccountID="'):]
        cut = rest.find('",SessionID="')
        if cut >= 0:
            account, session = rest[:cut], rest[cut + len('",SessionID="'):]
        else:
            account = rest
    elif middle.startswith(',SessionID="'):
        session = middle[len(',SessionID="'):]
    elif middle:
        unparsed = middle[:512]
    elements: dict[str, str] = {}
    for key, value in items:
        if key == "AccountID" and account is None:
            account = value
        elif key == "SessionID" and session is None:
            session = value
        elif value and key not in elements:
            elements[key] = value

    stamp = head.get("EventTV", "")
    local = remote = None
    transport: str | None = None
    tags: list[str] = []
    addresses: list[str] = []
    if pair is not None:
        local, local_tr = _endpoint(pair.group(1), "LocalAddress", tags)
        remote, remote_tr = _endpoint(pair.group(2), "RemoteAddress", tags)
        transport = remote_tr or local_tr
        if len(candidates) > 1:
            tags.append("ambiguous_address")
            addresses = [m.group(2) for m in candidates]
    return SecurityEvent(name, head.get("Service", ""), head.get("Severity", ""), head.get("EventVersion", ""),
                         stamp, event_tv(stamp) if stamp else None, account, session, unparsed, elements,
                         local, remote, transport, addresses, tags)
