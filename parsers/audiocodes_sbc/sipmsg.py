"""SIP message traces in free-text lines: the `---- Incoming/Outgoing SIP Message ...` head, the start line
and a few headers of the message that follows, and the continuation packets of long messages.

Attacker-controlled text (SIP headers, user names) is only ever sliced with str methods or matched by
anchored patterns without nested quantifiers.
"""

from __future__ import annotations

import re
from typing import Any

from ucsiem.parsing import name_addr

SIP_HEAD = re.compile(
    r"-{2,8} ?(Incoming|Outgoing) SIP Message (?:from|to) ([0-9.]{7,15}|\[[0-9A-Fa-f:.]{2,45}\]):(\d{1,5}) "
    r"(?:to|from) SIPInterface #(\d{1,6}) \(([^()]{0,64})\) ([A-Za-z]{2,5})"
    r"(?: TO\(#(\d{1,9})\))?(?: SocketID\((\d{1,9})\))? ?-{0,8}"
)
# Line breaks inside a SIP message as receivers write them: rsyslog's #012 (and #015), the literal
# two-character escapes, or raw CR.
_SIP_BREAK = re.compile(r"#015#012|#012|#015|\\r\\n|\\n|\\r|\r\n|\n|\r")
_REQUEST_LINE = re.compile(r"([A-Z][A-Z0-9_-]{1,31}) (\S{1,2048}) SIP/2\.0")
_STATUS_LINE = re.compile(r"SIP/2\.0 (\d{3})(?: (.{0,256}))?")
_FRAGMENT_START = re.compile(r"(?:[a-z]=|SIP/2\.0 |[A-Z][A-Za-z-]{0,40}: |[A-Z]{3,16} \S+ SIP/2\.0)")

MAX_SIP_LINES = 80
SIP_COMPACT = {"i": "call-id", "f": "from", "t": "to", "m": "contact"}


def sip_details(content: str, sip: dict[str, Any], fragment: bool) -> None:
    """Start line and a few headers of a (possibly partial) SIP message, into `uc.sip` members."""
    lines = _SIP_BREAK.split(content, MAX_SIP_LINES)
    first = True
    for raw in lines[:MAX_SIP_LINES]:
        line = raw.strip()
        if not line:
            if not first:
                break  # end of headers: the body (SDP) follows
            continue
        if first:
            first = False
            if (m := _REQUEST_LINE.fullmatch(line)) is not None:
                sip["method"] = m.group(1)
                sip["request_uri"] = m.group(2)
                continue
            if (m := _STATUS_LINE.fullmatch(line)) is not None:
                sip["status_code"] = int(m.group(1))
                if reason := (m.group(2) or "").strip():
                    sip["reason_phrase"] = reason
                continue
            if not fragment:
                return
        name, sep, value = line.partition(":")
        if not sep or " " in name:
            continue
        key = name.strip().lower()
        key = SIP_COMPACT.get(key, key)
        value = value.strip()
        if not value:  # a header cut off or left empty says nothing
            continue
        if key == "call-id":
            sip["call_id"] = value
        elif key == "cseq":
            sip["cseq"] = value
            parts = value.split()
            if len(parts) == 2 and "method" not in sip:
                sip["method"] = parts[1].upper()
        elif key in ("from", "to"):
            uri, tag = name_addr(value)
            if uri:
                sip[f"{key}_uri"] = uri
            if tag:
                sip[f"{key}_tag"] = tag
        elif key == "contact" and (uri := name_addr(value)[0]):
            sip["contact"] = uri
        elif key in ("user-agent", "server") and "user_agent" not in sip:
            sip["user_agent"] = value


def looks_like_fragment(body: str) -> bool:
    """Continuation packet of a long SIP message: no logger, SIP/SDP text."""
    return ("\\r\\n" in body or "#012" in body or "\r" in body or "\n" in body
            or _FRAGMENT_START.match(body) is not None)
