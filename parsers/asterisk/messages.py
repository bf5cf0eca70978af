"""Free-text Asterisk messages: SIP/PJSIP/IAX2 authentication and registration failures, AMI logins,
rejected calls, dial progress. Everything else is a `diagnostic` event keeping its text.

The remote party chooses much of this text (From/To headers, display names, dialled extensions, PJSIP
Call-IDs, AMI user names). Addresses are only read where Asterisk prints its own socket address,
located from the side of the message that the peer cannot write (see README "Attacker-controlled
text"); a peer-controlled value is never searched for an IP. Patterns are anchored or bounded.
"""

from __future__ import annotations

import re
from typing import Any

from ucsiem.parsing import ParsedEvent, ParseError, canonical_ip, split_uri_user

from .security import Kind

_AUTH = ("authentication", "network")
AUTH_FAILURE = ("start", "denied")
_CALL = ("network", "session")

SIP_AUTH_FAIL = Kind("sip-auth", _AUTH, AUTH_FAILURE, "failure")
REGISTER_AUTH_FAIL = Kind("sip-register", _AUTH, AUTH_FAILURE, "failure")
REGISTER_REFUSED = Kind("sip-register", ("network",), ("protocol", "denied"), "failure")
ACL_DENIED = Kind("deny-list", ("network",), ("denied",), "failure")
ADMIN_LOGIN_FAIL = Kind("admin-login", ("authentication",), ("start",), "failure")
ADMIN_LOGIN_OK = Kind("admin-login", ("authentication", "session"), ("start",), "success")
ADMIN_LOGOUT = Kind("admin-logout", ("authentication", "session"), ("end",), "success")
CALL_REJECT = Kind("call-reject", _CALL, ("connection", "denied"), "failure")
CALL_ATTEMPT = Kind("call-attempt", _CALL, ("connection", "start"), None)
CALL_START = Kind("call-start", _CALL, ("connection", "start"), "success")
CALL_END = Kind("call-end", _CALL, ("connection", "end"), None)
ALERT = Kind("security-alert", ("intrusion_detection",), ("info",), None, "alert")
DIAGNOSTIC = Kind("diagnostic", (), ("info",), None)

# chan_sip register_verify() reasons (as logged after " - ").
_CHAN_SIP_REASONS: dict[str, Kind] = {
    "Wrong password": REGISTER_AUTH_FAIL,
    "Username/auth name mismatch": REGISTER_AUTH_FAIL,
    "No matching peer found": REGISTER_AUTH_FAIL,
    "Device does not match ACL": ACL_DENIED,
    "ACL error (permit/deny)": ACL_DENIED,
    "Peer is not supposed to register": REGISTER_REFUSED,
    "Not a local domain": REGISTER_REFUSED,
}
# res_pjsip pjsip_distributor.c log_failed_request() reasons.
_PJSIP_ACL_REASONS = frozenset(("Not match Endpoint ACL", "Not match Endpoint Contact ACL"))

_IP_TEXT = r"[0-9A-Fa-f:.]{2,45}"
_HOSTPORT = re.compile(r"\[?([0-9A-Fa-f:.]{2,45}?)\]?(?::(\d{1,5}))?")
_PJSIP_METHOD = re.compile(r"Request '([A-Za-z][A-Za-z0-9_-]{0,31})' from '")
_PJSIP_ADDR = re.compile(r"' failed for '(\[?[0-9A-Fa-f:.]{2,45}\]?(?::\d{1,5})?)' \(callid: ")
_PJSIP_TAIL = re.compile(r"([A-Za-z][A-Za-z ]{1,80}?)(?: after (\d{1,9}) tries in (\d{1,12}(?:\.\d{1,6})?) ms)?")
_AMI_FAIL = re.compile(rf"({_IP_TEXT}) (failed to authenticate as|tried to authenticate with nonexistent user"
                       r"|failed to pass IP ACL as) '")
_AMI_SESSION = re.compile(rf"(HTTP )?Manager '([^']{{0,128}})' (logged on|logged off) from ({_IP_TEXT})")
_AMI_CONNECT = re.compile(rf"(HTTP )?Connect attempt from '({_IP_TEXT})' unable to authenticate")
_IAX_HOST = re.compile(rf"Host ({_IP_TEXT}) failed (to authenticate as|MD5 authentication for) '")
_IAX_NOREG = re.compile(rf"No registration for peer '(.{{0,256}})' \(from ({_IP_TEXT})\)")
_HACKING = re.compile(rf"hacking attempt detected '({_IP_TEXT})'")
_CALL_ADDR = re.compile(r"' \((\[?[0-9A-Fa-f:.]{2,45}\]?(?::\d{1,5})?)\) to extension '")
_FAKE_AUTH = re.compile(r"(?:[A-Za-z_]{1,64}: )?(Sending fake auth rejection for|Failed to authenticate) "
                        r"(device|user) ")
_FREEPBX_REJECT = re.compile(rf"\"?Rejecting unknown SIP connection from ({_IP_TEXT})\"?")
_ANSWERED = re.compile(r"([A-Za-z][\w-]{0,31}/\S{1,200}) answered ([A-Za-z][\w-]{0,31}/\S{1,200})")
_CALLED = re.compile(r"Called ([A-Za-z][\w-]{0,31}/\S{1,256})")
_SPAWN = re.compile(r"Spawn extension \(([^,()]{0,80}), ([^()]{0,256}), (\d{1,7})\) exited non-zero on "
                    r"'([A-Za-z][\w-]{0,31}/[^']{1,200})'")
_E164 = re.compile(r"\+\d{6,15}")


def apply(kind: Kind, event: ParsedEvent, reason: str | None = None) -> None:
    ev = event["event"]
    ev.update(kind=kind.kind, action=kind.action, type=list(kind.type))
    if kind.category:
        ev["category"] = list(kind.category)
    if kind.outcome:
        ev["outcome"] = kind.outcome
    if reason:
        ev["reason"] = reason


def _address(text: str, what: str) -> dict[str, Any]:
    """`192.0.2.1`, `192.0.2.1:5060`, `[2001:db8::1]:5060` or a bare IPv6 -> {ip, port}."""
    ip = canonical_ip(text)
    if ip is not None:  # a bare IPv4/IPv6 address
        return {"ip": ip}
    m = _HOSTPORT.fullmatch(text)
    ip = canonical_ip(m.group(1)) if m is not None else None
    if m is None or ip is None:
        raise ParseError("bad_field", f"{what} is not an IP address: {text[:64]!r}")
    out: dict[str, Any] = {"ip": ip}
    if m.group(2):
        port = int(m.group(2))
        if port > 65535:
            raise ParseError("bad_field", f"{what} port out of range: {text[:64]!r}")
        out["port"] = port
    return out


def _uri_of(value: str) -> str:
    """`"Bob" <sip:bob@example.com>;tag=x` -> `sip:bob@example.com`; a bare URI is kept."""
    lt = value.find("<")
    gt = value.find(">", lt + 1) if lt >= 0 else -1
    if lt >= 0 and gt > lt:
        return value[lt + 1:gt].strip()
    at = value.find("sip:")
    if at < 0:
        at = value.find("sips:")
    return (value[at:] if at > 0 else value).strip()


def _set_user_from_uri(event: ParsedEvent, uri: str) -> None:
    user, domain = split_uri_user(uri)
    if user:
        event["user"] = {"name": user}
        if domain and canonical_ip(domain) is None:
            event["user"]["domain"] = domain


def _network(event: ParsedEvent, protocol: str, application: str | None = None) -> None:
    network = event.setdefault("network", {})
    network["protocol"] = protocol
    if application:
        network["application"] = application


def chan_sip_registration(msg: str, event: ParsedEvent, sip: dict[str, Any]) -> bool:
    """`Registration from '<To>' failed for '<ip[:port]>' - <reason>` (chan_sip register_verify)."""
    at = msg.rfind("' failed for '")
    if at < 0:
        return False
    dash = msg.find("' - ", at + 14)
    if dash < 0:
        return False
    aor = msg[len("Registration from '"):at]
    reason = msg[dash + 4:].strip()
    event["source"] = _address(msg[at + 14:dash], "registration source")
    _network(event, "sip")
    sip["method"] = "REGISTER"
    if aor:
        uri = _uri_of(aor)
        event.setdefault("uc", {})["registration"] = {"aor": uri}
        _set_user_from_uri(event, uri)
    apply(_CHAN_SIP_REASONS.get(reason, REGISTER_REFUSED), event, reason)
    return True


def pjsip_request(msg: str, event: ParsedEvent, sip: dict[str, Any], vendor: dict[str, Any],
                  tags: list[str]) -> bool:
    """`Request ['<METHOD>' ]from '<From>' failed for '<ip:port>' (callid: <id>) - <reason>[ after N tries in X ms]`."""
    method: str | None = None
    m = _PJSIP_METHOD.match(msg)
    if m is not None:
        method = m.group(1).upper()
        from_at = m.end()
    elif msg.startswith("Request from '"):
        from_at = len("Request from '")
    else:
        return False
    dash = msg.rfind(") - ")
    if dash < 0:
        return False
    tail = _PJSIP_TAIL.fullmatch(msg, dash + 4)
    if tail is None:
        return False
    candidates = []
    for c in _PJSIP_ADDR.finditer(msg, from_at, dash):
        candidates.append(c)
        if len(candidates) >= 16:
            break
    if not candidates:
        return False
    chosen = candidates[0]
    if len(candidates) > 1:
        tags.append("ambiguous_address")
        vendor["address_candidates"] = [c.group(1) for c in candidates]
    reason, tries, period = tail.groups()
    event["source"] = _address(chosen.group(1), "request source")
    _network(event, "sip")
    from_value = msg[from_at:chosen.start()]
    if from_value:
        uri = _uri_of(from_value)
        sip["from_uri"] = uri
        _set_user_from_uri(event, uri)
    call_id = msg[chosen.end():dash]
    if call_id:
        sip["call_id"] = call_id
    if method:
        sip["method"] = method
    if tries:
        vendor["tries"] = int(tries)
        vendor["period_ms"] = float(period)
    if reason in _PJSIP_ACL_REASONS:
        kind = ACL_DENIED
    elif method == "REGISTER":
        kind = REGISTER_AUTH_FAIL
    else:
        kind = SIP_AUTH_FAIL
    apply(kind, event, reason)
    return True


def pjsip_aor_not_found(msg: str, event: ParsedEvent, sip: dict[str, Any]) -> bool:
    """res_pjsip_registrar: `AOR '<aor>' not found for endpoint '<endpoint>'[ (<ip>:<port>)]`."""
    text = msg.rstrip()
    source: dict[str, Any] | None = None
    if text.endswith(")"):
        open_at = text.rfind(" (")
        if open_at > 0:
            inner = text[open_at + 2:-1]
            colon = inner.rfind(":")
            ip = canonical_ip(inner[:colon]) if colon > 0 else None
            if ip is not None and inner[colon + 1:].isdecimal() and len(inner) - colon <= 6:
                port = int(inner[colon + 1:])
                source = {"ip": ip, "port": port} if port <= 65535 else {"ip": ip}
                text = text[:open_at]
    if not text.endswith("'"):
        return False
    ep_at = text.rfind("' not found for endpoint '")
    if ep_at < 0:
        return False
    aor = text[len("AOR '"):ep_at]
    endpoint = text[ep_at + len("' not found for endpoint '"):-1]
    if source is not None:
        event["source"] = source
    _network(event, "sip")
    sip["method"] = "REGISTER"
    if aor:
        event.setdefault("uc", {})["registration"] = {"aor": aor}
    if endpoint:
        event["user"] = {"name": endpoint}
    apply(REGISTER_REFUSED, event, "AOR not found")
    return True


def ami(msg: str, event: ParsedEvent) -> bool:
    """manager.c: failed/unknown-user/ACL logins, `Manager 'x' logged on/off from <ip>`."""
    m = _AMI_FAIL.match(msg)
    if m is not None and msg.endswith("'"):
        ip, what = m.groups()
        user = msg[m.end():-1]
        event["source"] = _address(ip, "AMI client")
        if user:
            event["user"] = {"name": user}
        _network(event, "ami", "AMI")
        if what == "failed to pass IP ACL as":
            apply(ACL_DENIED, event, "failed to pass IP ACL")
        elif what == "failed to authenticate as":
            apply(ADMIN_LOGIN_FAIL, event, "wrong secret")
        else:
            apply(ADMIN_LOGIN_FAIL, event, "nonexistent user")
        return True
    m = _AMI_SESSION.fullmatch(msg)
    if m is not None:
        http, user, verb, ip = m.groups()
        event["source"] = _address(ip, "AMI client")
        if user:
            event["user"] = {"name": user}
        _network(event, "http" if http else "ami", "AJAM" if http else "AMI")
        apply(ADMIN_LOGIN_OK if verb == "logged on" else ADMIN_LOGOUT, event)
        return True
    m = _AMI_CONNECT.fullmatch(msg)
    if m is not None:
        event["source"] = _address(m.group(2), "AMI client")
        _network(event, "http" if m.group(1) else "ami", "AJAM" if m.group(1) else "AMI")
        apply(ADMIN_LOGIN_FAIL, event, "unable to authenticate")
        return True
    return False


def iax2(msg: str, event: ParsedEvent) -> bool:
    """chan_iax2: `Host <ip> failed to authenticate as '<user>'`, `... failed MD5 authentication for
    '<user>' (<a> != <b>)`, `No registration for peer '<peer>' (from <ip>)`."""
    m = _IAX_HOST.match(msg)
    if m is not None:
        ip, what = m.groups()
        rest = msg[m.end():]
        if what.startswith("MD5"):
            close = rest.rfind("' (")
            user = rest[:close] if close >= 0 else rest.rstrip("'")
            reason = "MD5 authentication failed"
        else:
            user = rest[:-1] if rest.endswith("'") else rest
            reason = "failed to authenticate"
        event["source"] = _address(ip, "IAX2 peer")
        if user:
            event["user"] = {"name": user}
        _network(event, "iax2", "IAX2")
        apply(SIP_AUTH_FAIL, event, reason)
        return True
    m = _IAX_NOREG.fullmatch(msg)
    if m is not None:
        peer, ip = m.groups()
        event["source"] = _address(ip, "IAX2 peer")
        if peer:
            event["user"] = {"name": peer}
        _network(event, "iax2", "IAX2")
        apply(REGISTER_AUTH_FAIL, event, "no registration for peer")
        return True
    return False


def rejected_call(msg: str, event: ParsedEvent, call: dict[str, Any], vendor: dict[str, Any],
                  tags: list[str]) -> bool:
    """chan_sip: `Call from '<user>' (<ip:port>) to extension '<exten>' rejected because extension not
    found in context '<context>'.`"""
    suffix = "' rejected because extension not found in context '"
    if not msg.endswith("'."):
        return False
    cut = msg.rfind(suffix)
    if cut < 0:
        return False
    candidates = []
    for c in _CALL_ADDR.finditer(msg, len("Call from '"), cut):
        candidates.append(c)
        if len(candidates) >= 16:
            break
    if not candidates:
        return False
    chosen = candidates[0]
    if len(candidates) > 1:
        tags.append("ambiguous_address")
        vendor["address_candidates"] = [c.group(1) for c in candidates]
    caller = msg[len("Call from '"):chosen.start()]
    exten = msg[chosen.end():cut]
    vendor["context"] = msg[cut + len(suffix):-2]
    event["source"] = _address(chosen.group(1), "caller address")
    _network(event, "sip")
    if caller:
        call["caller"] = caller
        event["source"]["user"] = {"name": caller}
    if exten:
        call["callee"] = exten
        event["destination"] = {"user": {"name": exten}}
        if _E164.fullmatch(exten):
            call["callee_number"] = exten
    call["direction"] = "inbound"
    apply(CALL_REJECT, event, "extension not found")
    return True


def fake_auth(msg: str, event: ParsedEvent, sip: dict[str, Any]) -> bool:
    """chan_sip: `Sending fake auth rejection for device|user <From>` / `Failed to authenticate device|user
    <From>`. The only address is inside the peer's From header: no source.ip is set."""
    m = _FAKE_AUTH.match(msg)
    if m is None:
        return False
    sent, _who = m.groups()
    value = msg[m.end():].strip()
    if value:
        uri = _uri_of(value)
        sip["from_uri"] = uri
        tag_at = value.find(";tag=")
        if tag_at >= 0:
            tag = value[tag_at + 5:].split(";", 1)[0].strip()
            if tag:
                sip["from_tag"] = tag
        _set_user_from_uri(event, uri)
    _network(event, "sip")
    apply(SIP_AUTH_FAIL, event, "fake auth rejection sent" if sent.startswith("Sending") else "failed to authenticate")
    return True


def dialplan_log(msg: str, event: ParsedEvent) -> bool:
    """FreePBX dialplan `Log(WARNING, Rejecting unknown SIP connection from ${CHANNEL(recvip)})`."""
    m = _FREEPBX_REJECT.fullmatch(msg.strip())
    if m is None:
        return False
    event["source"] = _address(m.group(1), "rejected SIP peer")
    _network(event, "sip")
    apply(CALL_REJECT, event, "unknown SIP connection")
    return True


def dial_progress(msg: str, event: ParsedEvent, vendor: dict[str, Any], call: dict[str, Any]) -> bool:
    """app_dial / pbx verbose lines: `Called <dialstring>`, `<callee chan> answered <caller chan>`,
    `Spawn extension (<context>, <exten>, <priority>) exited non-zero on '<chan>'`."""
    m = _ANSWERED.fullmatch(msg)
    if m is not None:
        vendor["channel"] = m.group(2)
        vendor["peer_channel"] = m.group(1)
        apply(CALL_START, event)
        return True
    m = _CALLED.fullmatch(msg)
    if m is not None:
        vendor["dialstring"] = m.group(1)
        apply(CALL_ATTEMPT, event)
        return True
    m = _SPAWN.fullmatch(msg)
    if m is not None:
        context, exten, priority, channel = m.groups()
        vendor.update(context=context, priority=int(priority), channel=channel)
        if exten:
            call["callee"] = exten
        apply(CALL_END, event, "dialplan exited non-zero")
        return True
    return False


def _dispatch(msg: str, event: ParsedEvent, vendor: dict[str, Any], tags: list[str], sip: dict[str, Any],
              call: dict[str, Any]) -> bool:
    head = msg[:40]
    if head.startswith("Registration from '"):
        return chan_sip_registration(msg, event, sip)
    if head.startswith("Request "):
        return pjsip_request(msg, event, sip, vendor, tags)
    if head.startswith("AOR '"):
        return pjsip_aor_not_found(msg, event, sip)
    if head.startswith("Call from '"):
        return rejected_call(msg, event, call, vendor, tags)
    if head.startswith(("Host ", "No registration for peer '")):
        return iax2(msg, event)
    if head.startswith("hacking attempt detected '"):
        m = _HACKING.fullmatch(msg)
        if m is None:
            return False
        event["source"] = _address(m.group(1), "offending address")
        _network(event, "sip")
        apply(ALERT, event, "hacking attempt detected")
        return True
    if ami(msg, event):
        return True
    if fake_auth(msg, event, sip):
        return True
    return dial_progress(msg, event, vendor, call)


def classify(msg: str, event: ParsedEvent, vendor: dict[str, Any], tags: list[str], dialplan: bool) -> None:
    """Fill `event` from the message text (after the logger header)."""
    sip: dict[str, Any] = {}
    call: dict[str, Any] = {}
    done = dialplan_log(msg, event) if dialplan else _dispatch(msg, event, vendor, tags, sip, call)
    if not done:
        apply(DIAGNOSTIC, event)
    if sip or call:
        uc = event.setdefault("uc", {})
        if sip:
            uc["sip"] = sip
        if call:
            uc.setdefault("call", {}).update(call)
