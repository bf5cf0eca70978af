"""The SIP message of a multi-line `network.sip` DEBUG record (the lines after `SIPMSG:`).

Expressway writes the message between `|` marks: the start line begins with `|` (sometimes `| `) and a
line holding only `|` may close it. Only the start line and the headers are read; the body (SDP) is
ignored. Compact header names (`i`, `f`, `t`, `m`) are understood.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ucsiem.parsing import name_addr

_HEADER_NAMES = {
    "call-id": "call-id", "i": "call-id",
    "from": "from", "f": "from",
    "to": "to", "t": "to",
    "contact": "contact", "m": "contact",
    "cseq": "cseq",
    "user-agent": "user-agent",
    "server": "server",
    "via": "via", "v": "via",
    "expires": "expires",
}
MAX_HEADER_LINES = 200


class SipMessage(NamedTuple):
    sip: dict[str, Any]  # `uc.sip` members: method, request_uri or status_code, reason_phrase, call_id...
    start: str  # the start line
    transport: str | None  # of the top Via (`TLS`)
    expires: int | None  # the Expires header


def read_sipmsg(lines: list[str]) -> SipMessage | None:
    """The SIP message of the lines after `SIPMSG:`; None when it has no start line."""
    sip: dict[str, Any] = {}
    start = ""
    headers: dict[str, str] = {}
    for n, raw in enumerate(lines):
        if n >= MAX_HEADER_LINES:
            break
        line = raw.strip()
        if not start:
            line = line.lstrip("|").strip()
            if line:
                start = line
            continue
        if not line or line == "|":
            break  # end of headers (a body follows) or end of the message
        name, colon, value = line.partition(":")
        if not colon:
            continue
        key = _HEADER_NAMES.get(name.strip().lower())
        if key is not None and key not in headers:
            headers[key] = value.strip()
    if not start:
        return None
    start = start.split(" Via:", 1)[0].strip()  # a copy/paste artefact can run the first Via onto it
    if start.startswith("SIP/"):
        parts = start.split(None, 2)
        if len(parts) >= 2 and len(parts[1]) == 3 and parts[1].isascii() and parts[1].isdecimal():
            sip["status_code"] = int(parts[1])
            if len(parts) == 3:
                sip["reason_phrase"] = parts[2]
    else:
        parts = start.split()
        if len(parts) >= 2 and parts[0].isalpha():
            sip["method"] = parts[0].upper()
            sip["request_uri"] = parts[1]
    call_id = headers.get("call-id")
    if call_id:
        sip["call_id"] = "".join(call_id.split())  # a Call-ID has no blanks; copies sometimes do
    cseq = headers.get("cseq")
    if cseq:
        sip["cseq"] = " ".join(cseq.split())
        if "method" not in sip:
            cseq_parts = cseq.split()
            if len(cseq_parts) == 2 and cseq_parts[1].isalpha():
                sip["method"] = cseq_parts[1].upper()
    for header, uri_key, tag_key in (("from", "from_uri", "from_tag"), ("to", "to_uri", "to_tag")):
        address = headers.get(header)
        if address:
            uri, tag = name_addr(address)
            if uri:
                sip[uri_key] = uri
            if tag:
                sip[tag_key] = tag
    contact = headers.get("contact")
    if contact:
        sip["contact"] = contact
    agent = headers.get("user-agent") or headers.get("server")
    if agent:
        sip["user_agent"] = agent
    via = headers.get("via")
    transport = via.split(None, 1)[0].upper().rpartition("/")[2] if via else None  # SIP/2.0/TLS
    expires = headers.get("expires")
    seconds = int(expires) if expires and len(expires) <= 9 and expires.isascii() and expires.isdecimal() else None
    return SipMessage(sip, start, transport, seconds)
