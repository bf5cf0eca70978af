"""FreeSWITCH message families: sofia authentication failures and challenges, unknown users, ACL
decisions, registrations (profile debug), channel creation/answer/hangup. Anything else is a
`diagnostic` event keeping its text.

`[user@host]` comes from the peer's To/From header: it is only ever used as a name, never searched
for an address. The source address is the one sofia prints last (`from ip <ip>`, `from <ip>`), read
from the end of the message where the peer cannot write. Patterns are anchored and bounded.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from ucsiem.parsing import ParsedEvent, ParseError, canonical_ip


class Kind(NamedTuple):
    action: str
    category: tuple[str, ...]
    type: tuple[str, ...]
    outcome: str | None


_AUTH = ("authentication", "network")
_CALL = ("network", "session")
SIP_AUTH_FAIL = Kind("sip-auth", _AUTH, ("start", "denied"), "failure")
SIP_AUTH_OK = Kind("sip-auth", _AUTH, ("start", "allowed"), "success")
SIP_CHALLENGE = Kind("sip-auth", _AUTH, ("start", "info"), None)
REGISTER_FAIL = Kind("sip-register", _AUTH, ("start", "denied"), "failure")
REGISTER_OK = Kind("sip-register", ("network",), ("protocol", "allowed"), "success")
UNREGISTER = Kind("sip-unregister", ("network",), ("protocol", "end"), "success")
ACL_DENIED = Kind("deny-list", ("network",), ("denied",), "failure")
CALL_ATTEMPT = Kind("call-attempt", _CALL, ("connection", "start"), None)
CALL_START = Kind("call-start", _CALL, ("connection", "start"), "success")
DIAGNOSTIC = Kind("diagnostic", (), ("info",), None)

# Hangup causes (switch_channel_cause2str) that mean the call did not succeed.
FAILURE_CAUSES = frozenset((
    "UNALLOCATED_NUMBER", "NO_ROUTE_TRANSIT_NET", "NO_ROUTE_DESTINATION", "CHANNEL_UNACCEPTABLE",
    "USER_BUSY", "NO_USER_RESPONSE", "NO_ANSWER", "SUBSCRIBER_ABSENT", "CALL_REJECTED", "NUMBER_CHANGED",
    "REDIRECTION_TO_NEW_DESTINATION", "EXCHANGE_ROUTING_ERROR", "DESTINATION_OUT_OF_ORDER",
    "INVALID_NUMBER_FORMAT", "FACILITY_REJECTED", "NORMAL_UNSPECIFIED", "NORMAL_CIRCUIT_CONGESTION",
    "NETWORK_OUT_OF_ORDER", "NORMAL_TEMPORARY_FAILURE", "SWITCH_CONGESTION", "REQUESTED_CHAN_UNAVAIL",
    "OUTGOING_CALL_BARRED", "INCOMING_CALL_BARRED", "BEARERCAPABILITY_NOTAUTH", "BEARERCAPABILITY_NOTAVAIL",
    "SERVICE_UNAVAILABLE", "BEARERCAPABILITY_NOTIMPL", "SERVICE_NOT_IMPLEMENTED", "INCOMPATIBLE_DESTINATION",
    "INVALID_MSG_UNSPECIFIED", "MANDATORY_IE_MISSING", "RECOVERY_ON_TIMER_EXPIRE", "PROTOCOL_ERROR",
    "INTERWORKING", "ORIGINATOR_CANCEL", "CRASH", "SYSTEM_SHUTDOWN", "MEDIA_TIMEOUT", "ALLOTTED_TIMEOUT",
    "PROGRESS_TIMEOUT", "GATEWAY_DOWN", "INVALID_GATEWAY", "INVALID_PROFILE", "USER_NOT_REGISTERED",
    "DESTINATION_NOT_REGISTERED", "CHAN_NOT_IMPLEMENTED", "NO_PICKUP", "BLIND_TRANSFER_FAILED",
))
SUCCESS_CAUSES = frozenset(("NORMAL_CLEARING", "SUCCESS", "ATTENDED_TRANSFER", "BLIND_TRANSFER"))

_AUTH_LINE = re.compile(r"SIP auth (failure|challenge) \(([A-Za-z]{2,16})\) on sofia profile '([^']{0,128})' for \[")
_FROM_IP = "] from ip "
_CANT_FIND = re.compile(r"[Cc]an't find user \[")
_ACL = re.compile(r"IP (\S{2,47}) (Rejected|Approved) by acl \"")
_NEW_CHANNEL = re.compile(r"New Channel (\S{1,256}) \[(" + r"[0-9a-fA-F-]{36}" + r")\]")
_ANSWERED = re.compile(r"Channel \[(\S{1,256})\] has been answered")
_HANGUP = re.compile(r"Hangup (\S{1,256}) \[(CS_[A-Z_]{1,32})\] \[([A-Z_0-9]{1,64})\]")
_REGISTER = re.compile(r"From: {0,8}\[([^\]\n]{0,256})\]\s{0,8}\nContact: {0,8}\[([^\n]{0,512})\]\s{0,8}\n"
                       r"Expires: {0,8}\[(-?\d{1,10})\]")


def apply(kind: Kind, event: ParsedEvent, reason: str | None = None) -> None:
    ev = event["event"]
    ev.update(action=kind.action, type=list(kind.type))
    if kind.category:
        ev["category"] = list(kind.category)
    if kind.outcome:
        ev["outcome"] = kind.outcome
    if reason:
        ev["reason"] = reason


def _ip(text: str, what: str) -> str:
    ip = canonical_ip(text)
    if ip is None:
        raise ParseError("bad_field", f"{what} is not an IP address: {text[:64]!r}")
    return ip


def _user_host(value: str) -> tuple[str, str]:
    """`1001@example.com` -> ("1001", "example.com"); the last `@` splits (user parts may hold `@`)."""
    user, _, host = value.rpartition("@")
    return (user, host) if user else (value, "")


def _named(user: str, host: str) -> dict[str, str]:
    """ECS `*.user` from a SIP user part and host; an IP host is not a domain."""
    out = {"name": user}
    if host and canonical_ip(host) is None:
        out["domain"] = host
    return out


def _channel(value: str, vendor: dict[str, Any]) -> None:
    """`sofia/<profile>/<dest>` -> uc.vendor.channel and .profile."""
    vendor["channel"] = value
    parts = value.split("/", 2)
    if len(parts) == 3 and parts[0] == "sofia" and parts[1]:
        vendor["profile"] = parts[1]


def sofia_auth(msg: str, event: ParsedEvent, vendor: dict[str, Any], sip: dict[str, Any],
               call: dict[str, Any]) -> bool:
    """`SIP auth failure|challenge (INVITE|REGISTER) on sofia profile '<p>' for [<user>@<host>] from ip <ip>`."""
    m = _AUTH_LINE.match(msg)
    if m is None:
        return False
    cut = msg.rfind(_FROM_IP)
    if cut < m.end():
        return False
    what, method, profile = m.groups()
    method = method.upper()
    target = msg[m.end():cut]
    event["source"] = {"ip": _ip(msg[cut + len(_FROM_IP):].strip(), "sofia source")}
    event["network"] = {"protocol": "sip"}
    sip["method"] = method
    if profile:
        vendor["profile"] = profile
    user, host = _user_host(target)
    if method == "INVITE":  # the To user of an INVITE is the dialled number, not an account
        if user:
            call["callee"] = target
            event["destination"] = {"user": _named(user, host)}
    else:
        if user:
            event["user"] = _named(user, host)
        if target:
            event.setdefault("uc", {})["registration"] = {"aor": target}
    if what == "challenge":
        apply(SIP_CHALLENGE, event, "authentication challenge sent")
    elif method == "REGISTER":
        apply(REGISTER_FAIL, event, "authentication failure")
    else:
        apply(SIP_AUTH_FAIL, event, "authentication failure")
    return True


def cant_find_user(msg: str, event: ParsedEvent) -> bool:
    """sofia_reg.c: `Can't find user [<user>@<domain>] from <ip>` (an unknown account was tried)."""
    m = _CANT_FIND.match(msg)
    if m is None:
        return False
    cut = msg.rfind("] from ")
    if cut < m.end():
        return False
    ip_text = msg[cut + len("] from "):].strip()
    if ip_text.startswith("ip "):
        ip_text = ip_text[3:]
    event["source"] = {"ip": _ip(ip_text, "sofia source")}
    event["network"] = {"protocol": "sip"}
    user, host = _user_host(msg[m.end():cut])
    if user:
        event["user"] = _named(user, host)
    apply(SIP_AUTH_FAIL, event, "user not found")
    return True


def acl(msg: str, event: ParsedEvent, vendor: dict[str, Any]) -> bool:
    """`IP <ip> Rejected by acl "<list>"[. Falling back to Digest auth.]` and
    `IP <ip> Approved by acl "<list>[<user@domain>]". Access Granted.`"""
    m = _ACL.match(msg)
    if m is None:
        return False
    ip_text, verdict = m.groups()
    close = msg.find('"', m.end())
    if close < 0:
        return False
    name = msg[m.end():close]
    rest = msg[close + 1:].strip()
    event["source"] = {"ip": _ip(ip_text, "ACL source")}
    logger = str(event["log"].get("logger", ""))
    if logger.startswith("sofia"):
        event["network"] = {"protocol": "sip"}
    elif "event_socket" in logger:
        event["network"] = {"application": "event_socket"}
    if name.endswith("]") and "[" in name:  # "domains[1001@example.com]": the directory user it matched
        at = name.find("[")
        user, host = _user_host(name[at + 1:-1])
        name = name[:at]
        if user:
            event["user"] = _named(user, host)
    if name:
        vendor["acl"] = name
    if verdict == "Approved":
        apply(SIP_AUTH_OK, event, "approved by ACL")
    elif rest.startswith(". Falling back to Digest auth"):
        apply(SIP_CHALLENGE, event, "not in ACL, falling back to digest authentication")
    else:
        apply(ACL_DENIED, event, "rejected by ACL")
    return True


def register_block(more: str, event: ParsedEvent) -> bool:
    """Profile debug block after `Register:`: `From: [user@host]`, `Contact: [...]`, `Expires: [n]`."""
    m = _REGISTER.match(more)
    if m is None:
        return False
    target, contact, expires_text = m.groups()
    expires = int(expires_text)
    user, host = _user_host(target)
    if user:
        event["user"] = _named(user, host)
    registration: dict[str, Any] = {"expires": expires}
    if target:
        registration["aor"] = target
    if contact:
        registration["contact"] = contact
    event.setdefault("uc", {})["registration"] = registration
    event["network"] = {"protocol": "sip"}
    event.setdefault("uc", {})["sip"] = {"method": "REGISTER"}
    apply(UNREGISTER if expires <= 0 else REGISTER_OK, event)
    return True


def channel(msg: str, event: ParsedEvent, vendor: dict[str, Any], call: dict[str, Any]) -> bool:
    """switch_channel.c: `New Channel <name> [<uuid>]`, `Channel [<name>] has been answered`,
    `Hangup <name> [<state>] [<cause>]`."""
    m = _NEW_CHANNEL.fullmatch(msg)
    if m is not None:
        _channel(m.group(1), vendor)
        call["leg_id"] = m.group(2).lower()
        apply(CALL_ATTEMPT, event)
        return True
    m = _ANSWERED.fullmatch(msg)
    if m is not None:
        _channel(m.group(1), vendor)
        apply(CALL_START, event)
        return True
    m = _HANGUP.fullmatch(msg)
    if m is not None:
        name, state, cause = m.groups()
        _channel(name, vendor)
        vendor["channel_state"] = state
        call["disconnect_cause"] = cause
        outcome = "success" if cause in SUCCESS_CAUSES else "failure" if cause in FAILURE_CAUSES else None
        apply(Kind("call-end", _CALL, ("connection", "end"), outcome), event, cause)
        return True
    return False


def classify(msg: str, more: str, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """Fill `event` from the message (first line) and, for `Register:`, the lines after it."""
    sip: dict[str, Any] = {}
    call: dict[str, Any] = {}
    head = msg[:16]
    if head.startswith("SIP auth "):
        done = sofia_auth(msg, event, vendor, sip, call)
    elif head.startswith(("Can't find user", "can't find user")):
        done = cant_find_user(msg, event)
    elif head.startswith("IP "):
        done = acl(msg, event, vendor)
    elif msg == "Register:" and more:
        done = register_block(more, event)
    elif head.startswith(("New Channel ", "Channel [", "Hangup ")):
        done = channel(msg, event, vendor, call)
    else:
        done = False
    if not done:
        apply(DIAGNOSTIC, event)
    if sip or call:
        uc = event.setdefault("uc", {})
        if sip:
            uc.setdefault("sip", {}).update(sip)
        if call:
            uc.setdefault("call", {}).update(call)
