"""The payloads: the documented syslog messages (`read_syslog`) and the CDR attributes (`read_cdr`), read
into typed values. Values are checked in a fixed order, so a record's dead letter names its first bad one.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final, NamedTuple

from ucsiem.parsing import ParseContext, ParseError, canonical_ip, split_uri_user, to_port

from .cdr import RECORD_NAMES, SHOWN
from .header import Header
from .values import TERMINATE_CAUSES, h323_time

# --- syslog messages (Oracle SBC Security Guide, appendix "Syslog") ---------------------------------------

_AUTH_LOCAL = re.compile(r"authenticate_locally: Authentication failed for user (?P<user>\S{1,128})$")
_LOGIN_FAIL_FROM = re.compile(r"login authentication failure from (?P<iface>\S{1,64})$")
_AUTH_FAIL_FOR = re.compile(r"authentication failure for (?P<user>\S{1,128}) from (?P<iface>\S{1,64})$")
_SESSION = r"(?:\[(?P<session>\d{1,10}:\d{1,10})\] ?)?"
_USER_FAILED = re.compile(_SESSION + r"user: (?P<user>\S{1,128}) failed to log in to (?P<iface>\S{1,64})$")
_USER_AUTH = re.compile(_SESSION + r"user: (?P<user>\S{1,128}) authenticate$")
_SIGADDR = re.compile(r"\[IDS_LOG\] SigAddr\[(?P<realm>[^:\]]{0,64}):(?P<addr>[^=\]]{1,64})="
                      r"(?P<trust>[^:\]]{0,16}):(?P<verdict>[A-Za-z_]{1,16})\] ?")
_TTL = re.compile(r"ttl=(?P<ttl>\d{1,10}) exp=(?P<exp>\d{1,10}) ?")
_DEMOTED = re.compile(r"Demoted to (?P<target>[^()]{1,64}) \((?P<reason>[^()]{0,128})\)")
_LAST_MSG = re.compile(r" last msg rcvd=(?P<method>[A-Z]{2,16}) (?P<uri>\S{1,512}) SIP/2\.0$")
_SIP_HEADER = re.compile(r"(?P<name>Via|From|To|Call-ID|CSeq|Contact|User-Agent|Max-Forwards|Expires|"
                         r"Content-Length|Content-Type|Route|Record-Route|Authorization|Allow|Supported): "
                         r"(?P<value>.{1,2048})$")
_URI_IN = re.compile(r"<(?P<uri>[^<>]{1,512})>")

# the message families; the login ones are the vendor's own wording, kept as event.code
IDS_LOG = "IDS_LOG"
SIP_HEADER = "sip_header_line"  # one header of the SIP message an IDS_LOG line is about
OTHER = "other"


class SyslogBody(NamedTuple):
    family: str  # a login wording (`authenticate_locally`...), IDS_LOG, SIP_HEADER or OTHER
    user: str | None = None
    interface: str | None = None
    session: str | None = None
    # IDS_LOG
    source_ip: str | None = None
    source_port: int | None = None
    realm: str | None = None
    trust_level: str | None = None
    verdict: str | None = None
    ttl: int | None = None
    exp: int | None = None
    demoted_to: str | None = None
    demote_reason: str | None = None
    method: str | None = None
    request_uri: str | None = None
    # one SIP header line
    sip_header: str | None = None  # the name of a header with no field of its own
    from_uri: str | None = None
    to_uri: str | None = None
    contact: str | None = None
    call_id: str | None = None
    cseq: str | None = None
    user_agent: str | None = None
    tags: tuple[str, ...] = ()


_OTHER = SyslogBody(OTHER)
_SIP_HEADER_TAGS = ("sip_header_line",)


def read_syslog(header: Header) -> SyslogBody:
    text = header.text
    if (m := _AUTH_LOCAL.match(text)) is not None:
        return SyslogBody("authenticate_locally", m.group("user"), header.task)
    if (m := _AUTH_FAIL_FOR.match(text)) is not None:
        return SyslogBody("authentication failure", m.group("user"), m.group("iface"))
    if (m := _LOGIN_FAIL_FROM.match(text)) is not None:
        return SyslogBody("login authentication failure", None, m.group("iface"))
    if (m := _USER_FAILED.match(text)) is not None:
        return SyslogBody("failed to log in", m.group("user"), m.group("iface"), m.group("session"))
    if (m := _USER_AUTH.match(text)) is not None:
        return SyslogBody("authenticate", m.group("user"), None, m.group("session"))
    if (m := _SIGADDR.match(text)) is not None:
        return _ids_log(m, text)
    if (m := _SIP_HEADER.match(text)) is not None:
        return _sip_header(m.group("name"), m.group("value").strip())
    return _OTHER


def _ids_log(m: re.Match[str], text: str) -> SyslogBody:
    address, _, port = m.group("addr").rpartition(":")
    ip = canonical_ip(address)
    if ip is None:
        raise ParseError("bad_field", f"IDS_LOG SigAddr is not <ip>:<port>: {m.group('addr')[:64]!r}")
    tags: list[str] = []
    source_port = to_port(port, tags) or None  # 0: the port is not known
    rest = text[m.end():]
    ttl = _TTL.match(rest)
    if ttl is not None:
        rest = rest[ttl.end():]
    last = _LAST_MSG.search(rest)
    demoted = _DEMOTED.match(rest)
    return SyslogBody(
        IDS_LOG, source_ip=ip, source_port=source_port, realm=m.group("realm"),
        trust_level=m.group("trust"), verdict=m.group("verdict"),
        ttl=int(ttl.group("ttl")) if ttl is not None else None, exp=int(ttl.group("exp")) if ttl is not None else None,
        demoted_to=demoted.group("target") if demoted is not None else None,
        demote_reason=(demoted.group("reason") or None) if demoted is not None else None,
        method=last.group("method") if last is not None else None,
        request_uri=last.group("uri") if last is not None else None, tags=tuple(tags))


def _sip_header(name: str, value: str) -> SyslogBody:
    """One header of the SIP message that triggered an IDS_LOG demotion, logged on its own line."""
    if name in ("From", "To", "Contact"):
        uri = _URI_IN.search(value)
        address = uri.group("uri") if uri else value.split(";", 1)[0]
        if name == "From":
            return SyslogBody(SIP_HEADER, from_uri=address, tags=_SIP_HEADER_TAGS)
        if name == "To":
            return SyslogBody(SIP_HEADER, to_uri=address, tags=_SIP_HEADER_TAGS)
        return SyslogBody(SIP_HEADER, contact=address, tags=_SIP_HEADER_TAGS)
    if name == "Call-ID":
        return SyslogBody(SIP_HEADER, call_id=value, tags=_SIP_HEADER_TAGS)
    if name == "CSeq":
        return SyslogBody(SIP_HEADER, cseq=value, tags=_SIP_HEADER_TAGS)
    if name == "User-Agent":
        return SyslogBody(SIP_HEADER, user_agent=value, tags=_SIP_HEADER_TAGS)
    return SyslogBody(SIP_HEADER, sip_header=name, tags=_SIP_HEADER_TAGS)


# --- CDRs --------------------------------------------------------------------------------------------------

# Attributes mapped onto the schema; every other non-empty attribute of a named record is kept in uc.vendor.
_MAPPED: Final = frozenset({
    "Acct-Status-Type", "NAS-IP-Address", "Acct-Session-Id", "Acme-Session-Ingress-CallId",
    "Acme-Session-Protocol-Type", "Calling-Station-Id", "Called-Station-Id", "Acct-Session-Time",
    "h323-setup-time", "h323-connect-time", "h323-disconnect-time", "h323-disconnect-cause",
    "Acme-Session-Ingress-Realm", "Acme-Flow-In-Src-Addr_FS1_F", "Acme-Flow-In-Src-Port_FS1_F",
    "Acme-Flow-In-Dst-Addr_FS1_F", "Acme-Flow-In-Dst-Port_FS1_F", "Acme-Ingress-Remote-Addr",
    "Acme-Egress-Remote-Addr", "Acme-SIP-Status", "Acme-Firmware-Version", "Acme-Disconnect-Initiator",
    "Acct-Terminate-Cause",
})
MAX_VENDOR = 64  # attributes kept from one record
START, STOP, INTERIM = "1", "2", "3"  # Acct-Status-Type


class CdrBody(NamedTuple):
    status: str  # Acct-Status-Type: START, STOP, INTERIM
    code: str  # Start, Stop, Interim
    time: datetime
    leg_id: str | None  # Acct-Session-Id: this SBC's session (RFC 2866: matches its start and stop records)
    setup_time: datetime | None
    connect_time: datetime | None
    end_time: datetime | None
    trunk: str | None
    caller: str | None
    callee: str | None
    caller_user: str | None
    caller_domain: str | None
    callee_user: str | None
    callee_domain: str | None
    media_remote_ip: str | None
    media_remote_port: int | None
    media_local_ip: str | None
    media_local_port: int | None
    duration: float | None  # seconds (Stop)
    disconnect_cause: str | None  # Stop
    disconnect_side: str | None  # Stop
    terminate_cause: str | None  # Stop, RFC 2866 name
    sip_call_id: str | None
    sip_status: int | None
    observer_ip: str | None
    firmware: str | None
    protocol: str | None
    source_ip: str | None
    destination_ip: str | None
    vendor: dict[str, str]
    tags: list[str]


def _ip(attrs: dict[str, str], name: str, strict: bool) -> str | None:
    value = attrs.get(name, "")
    if not value or value == "0.0.0.0":
        return None
    ip = canonical_ip(value)
    if ip is None and strict:
        raise ParseError("bad_field", f"{name} is not an IP address: {value[:SHOWN]!r}")
    return ip


def _port(attrs: dict[str, str], name: str, tags: list[str]) -> int | None:
    """A media port; 0 is the SBC's "no flow" value (left out), anything else not a port tags `bad_port`."""
    value = attrs.get(name, "")
    return None if value == "0" else to_port(value, tags)


def _party(value: str) -> tuple[str | None, str | None]:
    """`"Alice" <sip:+12025550101@example.com>;tag=1` or `sip:1001@192.0.2.1` -> (user, domain)."""
    start, end = value.find("<"), value.find(">")
    uri = value[start + 1:end] if 0 <= start < end else value
    return split_uri_user(uri)


def _session_time(attrs: dict[str, str]) -> float | None:
    session_time = attrs.get("Acct-Session-Time", "")
    if not session_time:
        return None
    try:
        duration = float(session_time)
    except ValueError:
        raise ParseError("bad_field", f"Acct-Session-Time is not a number: {session_time[:SHOWN]!r}") from None
    if not 0 <= duration < 1e9:
        raise ParseError("bad_field", f"Acct-Session-Time out of range: {session_time[:SHOWN]!r}")
    return duration


def read_cdr(attrs: dict[str, str], ctx: ParseContext, named: bool) -> CdrBody:
    """The attributes of one CDR (from `cdr.read_csv` or `cdr.read_named`) as typed values."""
    tags: list[str] = []
    tz = ctx.timezone
    status = attrs["Acct-Status-Type"]
    setup = h323_time(attrs.get("h323-setup-time", ""), "h323-setup-time", tz, tags)
    connect = h323_time(attrs.get("h323-connect-time", ""), "h323-connect-time", tz, tags)
    end = h323_time(attrs.get("h323-disconnect-time", ""), "h323-disconnect-time", tz, tags)
    caller = attrs.get("Calling-Station-Id") or None
    callee = attrs.get("Called-Station-Id") or None
    caller_user, caller_domain = _party(caller or "")
    callee_user, callee_domain = _party(callee or "")
    remote_ip = _ip(attrs, "Acme-Flow-In-Src-Addr_FS1_F", True)
    remote_port = _port(attrs, "Acme-Flow-In-Src-Port_FS1_F", tags)
    local_ip = _ip(attrs, "Acme-Flow-In-Dst-Addr_FS1_F", True)
    local_port = _port(attrs, "Acme-Flow-In-Dst-Port_FS1_F", tags)
    duration = _session_time(attrs)
    status_code = attrs.get("Acme-SIP-Status", "")
    stop = status == STOP
    if stop:
        time = end or connect or setup
        reason = attrs.get("Acct-Terminate-Cause")
    else:
        time = connect or setup
        reason = None
    if time is None:
        time = ctx.reference_time
        tags.append("timestamp_from_reference")
    vendor: dict[str, str] = {}
    for name, value in attrs.items():
        if value and name not in _MAPPED and len(vendor) < MAX_VENDOR:
            vendor[name] = value
    protocol = attrs.get("Acme-Session-Protocol-Type", "").lower()
    observer_ip = _ip(attrs, "NAS-IP-Address", True)
    if named:
        tags.append("cdr_named_attributes")
    return CdrBody(
        status=status, code=RECORD_NAMES[status], time=time, leg_id=attrs.get("Acct-Session-Id"),
        setup_time=setup, connect_time=connect, end_time=end, trunk=attrs.get("Acme-Session-Ingress-Realm"),
        caller=caller, callee=callee, caller_user=caller_user, caller_domain=caller_domain,
        callee_user=callee_user, callee_domain=callee_domain, media_remote_ip=remote_ip,
        media_remote_port=remote_port, media_local_ip=local_ip, media_local_port=local_port,
        duration=duration if stop else None,
        disconnect_cause=attrs.get("h323-disconnect-cause") if stop else None,
        disconnect_side=attrs.get("Acme-Disconnect-Initiator") if stop else None,
        terminate_cause=TERMINATE_CAUSES.get(reason, reason) if reason else None,
        sip_call_id=attrs.get("Acme-Session-Ingress-CallId"),
        sip_status=int(status_code) if status_code.isdecimal() and 100 <= int(status_code) <= 699 else None,
        observer_ip=observer_ip, firmware=attrs.get("Acme-Firmware-Version"),
        protocol=protocol if protocol.isalnum() else None,
        source_ip=_ip(attrs, "Acme-Ingress-Remote-Addr", False),
        destination_ip=_ip(attrs, "Acme-Egress-Remote-Addr", False), vendor=vendor, tags=tags)
