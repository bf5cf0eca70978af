"""The Expressway message: its `Name="value"` attributes read into typed values.

`kv.py` scans the pairs; this step takes out what every line means the same way (event name, module,
level, time, sockets, aliases, SIP values) and leaves in `attrs` what the event keeps as the vendor wrote
it, or maps only for some events (`Duration`, `Common-name`, the developer.ssl addresses).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from ucsiem.parsing import ParseContext, ParseError, to_port

from .header import SHOWN, Header, utc_time
from .kv import scan
from .sipmsg import SipMessage
from .values import alias_user, as_ip, detail_pairs, set_ip, small_int

_SIP_ATTRIBUTES = (("Request-URI", "request_uri"), ("To", "to_uri"), ("From", "from_uri"), ("Call-ID", "call_id"),
                   ("Call-id", "call_id"))
_DETAIL_SIP = (("CSeq", "cseq"), ("Request-URI", "request_uri"), ("Call-ID", "call_id"), ("From-Tag", "from_tag"),
               ("To-Tag", "to_tag"), ("To", "to_uri"), ("From", "from_uri"))


class Body(NamedTuple):
    time: datetime  # UTCTime, else the header time
    name: str  # Event (trimmed), "" on module lines
    module: str
    level: str  # Level as a lower-case word; the event log's verbosity digits stay in attrs
    detail: str
    reason: str
    free: str  # text outside the pairs (module lines)
    service: str
    protocol: str
    user: str
    source: dict[str, Any]  # ip or address, port, user: from Src-*, the local socket, Src-alias or AOR
    destination: dict[str, Any]
    observer_ip: str | None  # Local-ip, the Expressway's own address
    sip: dict[str, Any]  # `uc.sip` members read from the attributes and a network.sip Detail
    caller: str  # Src-alias
    callee: str  # Dst-alias
    caller_number: str | None  # E.164 user part of an alias
    callee_number: str | None
    call_id: str  # Tag: common to every fork of a call across the Expressway network
    leg_id: str  # Call-serial-number: this Expressway's id of the call
    authenticated: bool | None  # Auth YES/NO
    aor: str
    contact: str
    attrs: dict[str, str]  # everything else, as logged (uc.vendor)
    dups: dict[str, list[str]] | None  # later values of repeated attributes
    sipmsg: SipMessage | None  # the SIP message after `SIPMSG:`
    more: str  # other continuation lines
    tags: list[str]  # `bad_port` when a port attribute is not a port


def read_body(header: Header, ctx: ParseContext, sipmsg: SipMessage | None, more: str) -> Body:
    if not header.rest.strip():
        raise ParseError("truncated", f"syslog header without a message: {header.line[:SHOWN]!r}")
    kv, free, dups = scan(header.rest)
    if not kv and not header.tags:
        raise ParseError("no_match", f"no Name=\"value\" pairs and no process tag: {header.line[:SHOWN]!r}")
    pop = kv.pop
    utc = pop("UTCTime", "")
    ts = utc_time(utc) if utc else None
    if ts is None:
        if utc:
            kv["UTCTime"] = utc  # unusable: keep it for the reader
        ts = header.time(ctx)
    name = pop("Event", "")
    module = pop("Module", "")
    level = kv.get("Level", "")
    if level and not level.isdecimal():  # event-log levels 1-4 are verbosity classes, not severities
        del kv["Level"]
        level = level.lower()
    else:
        level = ""
    detail = pop("Detail", "")

    tags: list[str] = []
    src = _endpoint(kv, "Src", tags)
    dst = _endpoint(kv, "Dst", tags)
    sip: dict[str, Any] = {}
    observer_ip = None
    if "ipaddr" in kv or "Local-ip" in kv or "Local-port" in kv or "Action" in kv:
        observer_ip = _local(kv, src, dst, sip, tags)

    caller = pop("Src-alias", "")
    caller_number = callee_number = None
    if caller:
        user, caller_number = alias_user(caller)
        if user is not None:
            src["user"] = user
    callee = pop("Dst-alias", "")
    if callee:
        user, callee_number = alias_user(callee)
        if user is not None:
            dst["user"] = user
    leg_id = pop("Call-serial-number", "")
    call_id = pop("Tag", "")
    auth = kv.get("Auth", "").upper()
    authenticated = None
    if auth in ("YES", "NO"):
        del kv["Auth"]
        authenticated = auth == "YES"
    aor = pop("AOR", "")
    if aor and "user" not in src:
        user, _ = alias_user(aor)
        if user is not None:
            src["user"] = user
    contact = pop("Contact", "")

    code = kv.get("Response-code", "")
    if code and (status := small_int(code, 999)) is not None:
        del kv["Response-code"]
        sip["status_code"] = status
    method = kv.get("Method", "")
    if method and method.isascii() and method.isalpha() and method.isupper():
        del kv["Method"]
        sip["method"] = method
    if "Request-URI" in kv or "To" in kv or "From" in kv or "Call-ID" in kv or "Call-id" in kv:
        for key, field in _SIP_ATTRIBUTES:
            value = pop(key, "")
            if value and field not in sip:
                sip[field] = value
    if module == "network.sip" and detail.startswith(("Receive ", "Send")):
        _sip_from_detail(sip, detail)

    return Body(ts, name, module, level, detail, pop("Reason", ""), free, pop("Service", ""), pop("Protocol", ""),
                pop("User", ""), src, dst, observer_ip, sip, caller, callee, caller_number, callee_number, call_id,
                leg_id, authenticated, aor, contact, kv, dups, sipmsg, more, tags)


def continuation_text(lines: list[str]) -> str:
    """Lines after the first that are not a SIP message: more text of the message (a stack trace...)."""
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _endpoint(kv: dict[str, str], side: str, tags: list[str]) -> dict[str, Any]:
    """`<side>-ip` / `<side>-port` -> source or destination members (taken out of `kv`); a port that is not
    one is left out and tags the event `bad_port`."""
    endpoint: dict[str, Any] = {}
    raw = kv.pop(f"{side}-ip", "")
    if raw:
        set_ip(endpoint, raw)
    raw = kv.pop(f"{side}-port", "")
    if raw and (port := to_port(raw, tags)) is not None:
        endpoint["port"] = port
    return endpoint


def _local(kv: dict[str, str], src: dict[str, Any], dst: dict[str, Any], sip: dict[str, Any],
           tags: list[str]) -> str | None:
    """`ipaddr` (login source), `Local-ip/-port` (the Expressway's socket) and `Action` (direction); returns
    the Expressway's own IP."""
    ipaddr = kv.pop("ipaddr", "")
    if ipaddr and "ip" not in src and (ip := as_ip(ipaddr)) is not None:
        src["ip"] = ip
    local: dict[str, Any] = {}
    raw = kv.pop("Local-ip", "")
    if raw:
        set_ip(local, raw)
    raw = kv.pop("Local-port", "")
    if raw and (port := to_port(raw, tags)) is not None:
        local["port"] = port
    direction = kv.get("Action", "").lower()
    if direction in ("received", "sent"):
        del kv["Action"]
        sip["direction"] = direction
        # a traced message went from the peer to the Expressway's socket, or the other way
        if direction == "received" and not dst:
            dst.update(local)
            return local.get("ip")
        if direction == "sent" and not src:
            src.update(local)
            return local.get("ip")
    if "address" in local:
        kv["Local-ip"] = local["address"]
    if "port" in local:
        kv["Local-port"] = str(local["port"])
    return local.get("ip")


def _sip_from_detail(sip: dict[str, Any], detail: str) -> None:
    pairs = detail_pairs(detail)
    method = pairs.get("Method", "")
    if method and "method" not in sip and method.isascii() and method.isalpha():
        sip["method"] = method.upper()
    status = small_int(pairs.get("Code", ""), 999)
    if status is not None and "status_code" not in sip:
        sip["status_code"] = status
    for key, field in _DETAIL_SIP:
        value = pairs.get(key, "")
        if value and field not in sip:
            sip[field] = value
