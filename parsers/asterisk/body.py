"""Free-text Asterisk messages: SIP/PJSIP/IAX2 authentication and registration failures, AMI logins,
rejected calls, dial progress, read into a `Body` that names the message and holds its values. Any
other text is a `Body` without a message name (a `diagnostic` event keeping its text).

The remote party chooses much of this text (From/To headers, display names, dialled extensions, PJSIP
Call-IDs, AMI user names). Addresses are only read where Asterisk prints its own socket address,
located from the side of the message that the peer cannot write (see README "Attacker-controlled
text"); a peer-controlled value is never searched for an IP. Patterns are anchored or bounded.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from ucsiem.parsing import ParseError, canonical_ip, split_uri_user, to_port

# The documented messages (Body.message); classify.py maps them to a Kind.
CHAN_SIP_REGISTRATION = "chan_sip registration failed"  # detail: the reason after " - "
PJSIP_REQUEST = "pjsip request failed"  # detail: the reason after ") - "
PJSIP_AOR_NOT_FOUND = "pjsip AOR not found"
AMI_LOGIN_FAILED = "ami login failed"
AMI_ACL = "ami failed IP ACL"
AMI_LOGGED_ON = "ami logged on"
AMI_LOGGED_OFF = "ami logged off"
IAX2_AUTH_FAILED = "iax2 authentication failed"
IAX2_NO_REGISTRATION = "iax2 no registration"
HACKING_ATTEMPT = "chan_sip hacking attempt"
CALL_REJECTED = "chan_sip call rejected"
FAKE_AUTH = "chan_sip auth rejection"
FREEPBX_REJECT = "freepbx unknown SIP connection"
ANSWERED = "app_dial answered"
CALLED = "app_dial called"
SPAWN_EXITED = "pbx spawn exited non-zero"


class Body(NamedTuple):
    """One free-text message: which documented message it is (None: any other text) and its values."""

    message: str | None = None
    detail: str | None = None  # the product's word that refines the message (a reason, a method)
    reason: str | None = None  # event.reason
    source: dict[str, Any] | None = None  # {ip, port}
    user: str | None = None
    domain: str | None = None
    aor: str | None = None
    method: str | None = None
    from_uri: str | None = None
    from_tag: str | None = None
    call_id: str | None = None  # the SIP Call-ID
    caller: str | None = None
    callee: str | None = None
    dialled: str | None = None  # the extension a rejected call asked for (destination.user.name)
    callee_number: str | None = None
    direction: str | None = None
    protocol: str | None = None
    application: str | None = None
    vendor: dict[str, Any] | None = None
    tags: list[str] | None = None


OTHER = Body()

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
_AMI_FAIL_REASONS = {"failed to authenticate as": "wrong secret",
                     "tried to authenticate with nonexistent user": "nonexistent user"}


def _address(text: str, what: str, tags: list[str]) -> dict[str, Any]:
    """`192.0.2.1`, `192.0.2.1:5060`, `[2001:db8::1]:5060` or a bare IPv6 -> {ip, port}; a port above
    65535 is left out and tags the event `bad_port`."""
    ip = canonical_ip(text)
    if ip is not None:  # a bare IPv4/IPv6 address
        return {"ip": ip}
    m = _HOSTPORT.fullmatch(text)
    ip = canonical_ip(m.group(1)) if m is not None else None
    if m is None or ip is None:
        raise ParseError("bad_field", f"{what} is not an IP address: {text[:64]!r}")
    return {"ip": ip, "port": to_port(m.group(2), tags)}


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


def _user_of(uri: str) -> tuple[str | None, str | None]:
    """The user and domain of a URI (the domain only with a user, and not when it is an address)."""
    user, domain = split_uri_user(uri)
    if not user:
        return None, None
    return user, (domain if domain and canonical_ip(domain) is None else None)


def chan_sip_registration(msg: str, tags: list[str]) -> Body | None:
    """`Registration from '<To>' failed for '<ip[:port]>' - <reason>` (chan_sip register_verify)."""
    at = msg.rfind("' failed for '")
    if at < 0:
        return None
    dash = msg.find("' - ", at + 14)
    if dash < 0:
        return None
    aor = msg[len("Registration from '"):at]
    reason = msg[dash + 4:].strip()
    source = _address(msg[at + 14:dash], "registration source", tags)
    uri = _uri_of(aor) if aor else None
    user, domain = _user_of(uri) if uri else (None, None)
    return Body(CHAN_SIP_REGISTRATION, reason, reason, source, user, domain, aor=uri, method="REGISTER",
                protocol="sip")


def pjsip_request(msg: str, tags: list[str]) -> Body | None:
    """`Request ['<METHOD>' ]from '<From>' failed for '<ip:port>' (callid: <id>) - <reason>[ after N tries in X ms]`."""
    method: str | None = None
    m = _PJSIP_METHOD.match(msg)
    if m is not None:
        method = m.group(1).upper()
        from_at = m.end()
    elif msg.startswith("Request from '"):
        from_at = len("Request from '")
    else:
        return None
    dash = msg.rfind(") - ")
    if dash < 0:
        return None
    tail = _PJSIP_TAIL.fullmatch(msg, dash + 4)
    if tail is None:
        return None
    found = _first_address(_PJSIP_ADDR, msg, from_at, dash, tags)
    if found is None:
        return None
    chosen, vendor = found
    reason, tries, period = tail.groups()
    source = _address(chosen.group(1), "request source", tags)
    from_value = msg[from_at:chosen.start()]
    uri = _uri_of(from_value) if from_value else None
    user, domain = _user_of(uri) if uri else (None, None)
    if tries:
        vendor["tries"] = int(tries)
        vendor["period_ms"] = float(period)
    return Body(PJSIP_REQUEST, reason, reason, source, user, domain, method=method, from_uri=uri,
                call_id=msg[chosen.end():dash] or None, protocol="sip", vendor=vendor)


def pjsip_aor_not_found(msg: str, tags: list[str]) -> Body | None:
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
                source = {"ip": ip, "port": to_port(inner[colon + 1:], tags)}
                text = text[:open_at]
    if not text.endswith("'"):
        return None
    ep_at = text.rfind("' not found for endpoint '")
    if ep_at < 0:
        return None
    aor = text[len("AOR '"):ep_at]
    endpoint = text[ep_at + len("' not found for endpoint '"):-1]
    return Body(PJSIP_AOR_NOT_FOUND, None, "AOR not found", source, endpoint, aor=aor, method="REGISTER",
                protocol="sip")


def ami(msg: str, tags: list[str]) -> Body | None:
    """manager.c: failed/unknown-user/ACL logins, `Manager 'x' logged on/off from <ip>`."""
    m = _AMI_FAIL.match(msg)
    if m is not None and msg.endswith("'"):
        ip, what = m.groups()
        source = _address(ip, "AMI client", tags)
        user = msg[m.end():-1]
        if what == "failed to pass IP ACL as":
            return Body(AMI_ACL, None, "failed to pass IP ACL", source, user, protocol="ami", application="AMI")
        return Body(AMI_LOGIN_FAILED, None, _AMI_FAIL_REASONS[what], source, user, protocol="ami",
                    application="AMI")
    m = _AMI_SESSION.fullmatch(msg)
    if m is not None:
        http, user, verb, ip = m.groups()
        return Body(AMI_LOGGED_ON if verb == "logged on" else AMI_LOGGED_OFF, None, None,
                    _address(ip, "AMI client", tags), user, protocol="http" if http else "ami",
                    application="AJAM" if http else "AMI")
    m = _AMI_CONNECT.fullmatch(msg)
    if m is not None:
        source = _address(m.group(2), "AMI client", tags)
        return Body(AMI_LOGIN_FAILED, None, "unable to authenticate", source,
                    protocol="http" if m.group(1) else "ami", application="AJAM" if m.group(1) else "AMI")
    return None


def iax2(msg: str, tags: list[str]) -> Body | None:
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
        return Body(IAX2_AUTH_FAILED, None, reason, _address(ip, "IAX2 peer", tags), user, protocol="iax2",
                    application="IAX2")
    m = _IAX_NOREG.fullmatch(msg)
    if m is not None:
        peer, ip = m.groups()
        return Body(IAX2_NO_REGISTRATION, None, "no registration for peer", _address(ip, "IAX2 peer", tags), peer,
                    protocol="iax2", application="IAX2")
    return None


def rejected_call(msg: str, tags: list[str]) -> Body | None:
    """chan_sip: `Call from '<user>' (<ip:port>) to extension '<exten>' rejected because extension not
    found in context '<context>'.`"""
    suffix = "' rejected because extension not found in context '"
    if not msg.endswith("'."):
        return None
    cut = msg.rfind(suffix)
    if cut < 0:
        return None
    found = _first_address(_CALL_ADDR, msg, len("Call from '"), cut, tags)
    if found is None:
        return None
    chosen, vendor = found
    caller = msg[len("Call from '"):chosen.start()]
    exten = msg[chosen.end():cut]
    vendor["context"] = msg[cut + len(suffix):-2]
    source = _address(chosen.group(1), "caller address", tags)
    return Body(CALL_REJECTED, None, "extension not found", source, caller=caller, callee=exten, dialled=exten,
                callee_number=exten if exten and _E164.fullmatch(exten) else None, direction="inbound",
                protocol="sip", vendor=vendor)


def fake_auth(msg: str) -> Body | None:
    """chan_sip: `Sending fake auth rejection for device|user <From>` / `Failed to authenticate device|user
    <From>`. The only address is inside the peer's From header: no source address."""
    m = _FAKE_AUTH.match(msg)
    if m is None:
        return None
    sent, _who = m.groups()
    reason = "fake auth rejection sent" if sent.startswith("Sending") else "failed to authenticate"
    value = msg[m.end():].strip()
    if not value:
        return Body(FAKE_AUTH, None, reason, protocol="sip")
    uri = _uri_of(value)
    tag: str | None = None
    tag_at = value.find(";tag=")
    if tag_at >= 0:
        tag = value[tag_at + 5:].split(";", 1)[0].strip()
    user, domain = _user_of(uri)
    return Body(FAKE_AUTH, None, reason, None, user, domain, from_uri=uri, from_tag=tag, protocol="sip")


def dialplan_log(msg: str, tags: list[str]) -> Body:
    """FreePBX dialplan `Log(WARNING, Rejecting unknown SIP connection from ${CHANNEL(recvip)})`."""
    m = _FREEPBX_REJECT.fullmatch(msg.strip())
    if m is None:
        return OTHER
    return Body(FREEPBX_REJECT, None, "unknown SIP connection", _address(m.group(1), "rejected SIP peer", tags),
                protocol="sip")


def dial_progress(msg: str) -> Body | None:
    """app_dial / pbx verbose lines: `Called <dialstring>`, `<callee chan> answered <caller chan>`,
    `Spawn extension (<context>, <exten>, <priority>) exited non-zero on '<chan>'`."""
    m = _ANSWERED.fullmatch(msg)
    if m is not None:
        return Body(ANSWERED, vendor={"channel": m.group(2), "peer_channel": m.group(1)})
    m = _CALLED.fullmatch(msg)
    if m is not None:
        return Body(CALLED, vendor={"dialstring": m.group(1)})
    m = _SPAWN.fullmatch(msg)
    if m is not None:
        context, exten, priority, channel = m.groups()
        return Body(SPAWN_EXITED, None, "dialplan exited non-zero", callee=exten,
                    vendor={"context": context, "priority": int(priority), "channel": channel})
    return None


def _hacking(msg: str, tags: list[str]) -> Body | None:
    m = _HACKING.fullmatch(msg)
    if m is None:
        return None
    return Body(HACKING_ATTEMPT, None, "hacking attempt detected", _address(m.group(1), "offending address", tags),
                protocol="sip")


def read_body(msg: str, dialplan: bool) -> Body:
    """The first line's message (after the logger header) -> the documented message it is, or OTHER.
    `dialplan`: the line came from a dialplan `Log()` (`Ext. <exten>`)."""
    tags: list[str] = []  # what the readers found wrong (ambiguous_address, bad_port)
    found: Body | None
    if dialplan:
        found = dialplan_log(msg, tags)
    else:
        head = msg[:40]
        if head.startswith("Registration from '"):
            found = chan_sip_registration(msg, tags)
        elif head.startswith("Request "):
            found = pjsip_request(msg, tags)
        elif head.startswith("AOR '"):
            found = pjsip_aor_not_found(msg, tags)
        elif head.startswith("Call from '"):
            found = rejected_call(msg, tags)
        elif head.startswith(("Host ", "No registration for peer '")):
            found = iax2(msg, tags)
        elif head.startswith("hacking attempt detected '"):
            found = _hacking(msg, tags)
        else:
            found = ami(msg, tags) or fake_auth(msg) or dial_progress(msg)
    if found is None:
        return OTHER  # (a tag a reader added before it gave up is not this message's)
    return found._replace(tags=tags) if tags else found


def _first_address(pattern: re.Pattern[str], msg: str, start: int, end: int,
                   tags: list[str]) -> tuple[re.Match[str], dict[str, Any]] | None:
    """The first of at most 16 addresses `pattern` finds in msg[start:end] (the message text around it is the
    caller's to read), and the vendor fields saying so when there were several (tagged ambiguous_address)."""
    candidates = []
    for c in pattern.finditer(msg, start, end):
        candidates.append(c)
        if len(candidates) >= 16:
            break
    if not candidates:
        return None
    vendor: dict[str, Any] = {}
    if len(candidates) > 1:
        tags.append("ambiguous_address")
        vendor["address_candidates"] = [c.group(1) for c in candidates]
    return candidates[0], vendor
