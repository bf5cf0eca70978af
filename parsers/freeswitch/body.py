"""FreeSWITCH message families, read into a `Body` that names the message and holds its values: sofia
authentication failures and challenges, unknown users, ACL decisions, registrations (profile debug),
channel creation/answer/hangup. Any other text is a `Body` without a message name (a `diagnostic`
event keeping its text).

`[user@host]` comes from the peer's To/From header: it is only ever used as a name, never searched
for an address. The source address is the one sofia prints last (`from ip <ip>`, `from <ip>`), read
from the end of the message where the peer cannot write. Patterns are anchored and bounded.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ucsiem.parsing import ParseError, canonical_ip

# The documented messages (Body.message); classify.py maps them to a Kind.
SOFIA_AUTH_FAILURE = "sofia auth failure"
SOFIA_AUTH_CHALLENGE = "sofia auth challenge"
USER_NOT_FOUND = "sofia user not found"
ACL_APPROVED = "acl approved"
ACL_DIGEST_FALLBACK = "acl rejected, digest fallback"
ACL_REJECTED = "acl rejected"
REGISTER = "register block"
NEW_CHANNEL = "new channel"
ANSWERED = "channel answered"
HANGUP = "hangup"


class Body(NamedTuple):
    """One message: which documented message it is (None: any other text) and its values."""

    message: str | None = None
    reason: str | None = None  # event.reason
    source_ip: str | None = None
    protocol: str | None = None
    application: str | None = None
    method: str | None = None
    profile: str | None = None  # the sofia profile
    user: str | None = None
    domain: str | None = None
    callee: str | None = None  # the dialled To of an INVITE challenge/failure
    callee_user: str | None = None
    callee_domain: str | None = None
    aor: str | None = None
    expires: int | None = None
    contact: str | None = None
    acl: str | None = None
    channel: str | None = None
    channel_state: str | None = None
    leg_id: str | None = None  # the UUID of a new channel
    cause: str | None = None  # the hangup cause


OTHER = Body()

_AUTH_LINE = re.compile(r"SIP auth (failure|challenge) \(([A-Za-z]{2,16})\) on sofia profile '([^']{0,128})' for \[")
_FROM_IP = "] from ip "
_CANT_FIND = re.compile(r"[Cc]an't find user \[")
_ACL = re.compile(r"IP (\S{2,47}) (Rejected|Approved) by acl \"")
_NEW_CHANNEL = re.compile(r"New Channel (\S{1,256}) \[(" + r"[0-9a-fA-F-]{36}" + r")\]")
_ANSWERED = re.compile(r"Channel \[(\S{1,256})\] has been answered")
_HANGUP = re.compile(r"Hangup (\S{1,256}) \[(CS_[A-Z_]{1,32})\] \[([A-Z_0-9]{1,64})\]")
_REGISTER = re.compile(r"From: {0,8}\[([^\]\n]{0,256})\]\s{0,8}\nContact: {0,8}\[([^\n]{0,512})\]\s{0,8}\n"
                       r"Expires: {0,8}\[(-?\d{1,10})\]")


def _ip(text: str, what: str) -> str:
    ip = canonical_ip(text)
    if ip is None:
        raise ParseError("bad_field", f"{what} is not an IP address: {text[:64]!r}")
    return ip


def _user_host(value: str) -> tuple[str, str]:
    """`1001@example.com` -> ("1001", "example.com"); the last `@` splits (user parts may hold `@`)."""
    user, _, host = value.rpartition("@")
    return (user, host) if user else (value, "")


def _named(value: str) -> tuple[str | None, str | None]:
    """A SIP user part and host as ECS `*.user` name and domain; an IP host is not a domain."""
    user, host = _user_host(value)
    if not user:
        return None, None
    return user, (host if host and canonical_ip(host) is None else None)


def _channel_profile(value: str) -> str | None:
    """`sofia/<profile>/<dest>` -> the profile."""
    parts = value.split("/", 2)
    return parts[1] if len(parts) == 3 and parts[0] == "sofia" and parts[1] else None


def sofia_auth(msg: str) -> Body | None:
    """`SIP auth failure|challenge (INVITE|REGISTER) on sofia profile '<p>' for [<user>@<host>] from ip <ip>`."""
    m = _AUTH_LINE.match(msg)
    if m is None:
        return None
    cut = msg.rfind(_FROM_IP)
    if cut < m.end():
        return None
    what, method, profile = m.groups()
    method = method.upper()
    target = msg[m.end():cut]
    ip = _ip(msg[cut + len(_FROM_IP):].strip(), "sofia source")
    message = SOFIA_AUTH_CHALLENGE if what == "challenge" else SOFIA_AUTH_FAILURE
    reason = "authentication challenge sent" if what == "challenge" else "authentication failure"
    user, domain = _named(target)
    if method == "INVITE":  # the To user of an INVITE is the dialled number, not an account
        return Body(message, reason, ip, "sip", method=method, profile=profile or None,
                    callee=target if user else None, callee_user=user, callee_domain=domain)
    return Body(message, reason, ip, "sip", method=method, profile=profile or None, user=user, domain=domain,
                aor=target or None)


def cant_find_user(msg: str) -> Body | None:
    """sofia_reg.c: `Can't find user [<user>@<domain>] from <ip>` (an unknown account was tried)."""
    m = _CANT_FIND.match(msg)
    if m is None:
        return None
    cut = msg.rfind("] from ")
    if cut < m.end():
        return None
    ip_text = msg[cut + len("] from "):].strip()
    if ip_text.startswith("ip "):
        ip_text = ip_text[3:]
    ip = _ip(ip_text, "sofia source")
    user, domain = _named(msg[m.end():cut])
    return Body(USER_NOT_FOUND, "user not found", ip, "sip", user=user, domain=domain)


def acl(msg: str, logger: str) -> Body | None:
    """`IP <ip> Rejected by acl "<list>"[. Falling back to Digest auth.]` and
    `IP <ip> Approved by acl "<list>[<user@domain>]". Access Granted.`"""
    m = _ACL.match(msg)
    if m is None:
        return None
    ip_text, verdict = m.groups()
    close = msg.find('"', m.end())
    if close < 0:
        return None
    name = msg[m.end():close]
    rest = msg[close + 1:].strip()
    ip = _ip(ip_text, "ACL source")
    protocol = application = None
    if logger.startswith("sofia"):
        protocol = "sip"
    elif "event_socket" in logger:
        application = "event_socket"
    user = domain = None
    if name.endswith("]") and "[" in name:  # "domains[1001@example.com]": the directory user it matched
        at = name.find("[")
        user, domain = _named(name[at + 1:-1])
        name = name[:at]
    if verdict == "Approved":
        message, reason = ACL_APPROVED, "approved by ACL"
    elif rest.startswith(". Falling back to Digest auth"):
        message, reason = ACL_DIGEST_FALLBACK, "not in ACL, falling back to digest authentication"
    else:
        message, reason = ACL_REJECTED, "rejected by ACL"
    return Body(message, reason, ip, protocol, application, user=user, domain=domain, acl=name or None)


def register_block(more: str) -> Body | None:
    """Profile debug block after `Register:`: `From: [user@host]`, `Contact: [...]`, `Expires: [n]`."""
    m = _REGISTER.match(more)
    if m is None:
        return None
    target, contact, expires = m.groups()
    user, domain = _named(target)
    return Body(REGISTER, None, None, "sip", method="REGISTER", user=user, domain=domain, aor=target or None,
                expires=int(expires), contact=contact or None)


def channel(msg: str) -> Body | None:
    """switch_channel.c: `New Channel <name> [<uuid>]`, `Channel [<name>] has been answered`,
    `Hangup <name> [<state>] [<cause>]`."""
    m = _NEW_CHANNEL.fullmatch(msg)
    if m is not None:
        return Body(NEW_CHANNEL, profile=_channel_profile(m.group(1)), channel=m.group(1),
                    leg_id=m.group(2).lower())
    m = _ANSWERED.fullmatch(msg)
    if m is not None:
        return Body(ANSWERED, profile=_channel_profile(m.group(1)), channel=m.group(1))
    m = _HANGUP.fullmatch(msg)
    if m is not None:
        name, state, cause = m.groups()
        return Body(HANGUP, cause, profile=_channel_profile(name), channel=name, channel_state=state, cause=cause)
    return None


def read_body(msg: str, more: str, logger: str) -> Body:
    """The message (first line) and, for `Register:`, the lines after it -> the documented message it is,
    or OTHER. `logger`: the source file, which tells an ACL decision of sofia from one of event_socket."""
    head = msg[:16]
    found: Body | None = None
    if head.startswith("SIP auth "):
        found = sofia_auth(msg)
    elif head.startswith(("Can't find user", "can't find user")):
        found = cant_find_user(msg)
    elif head.startswith("IP "):
        found = acl(msg, logger)
    elif msg == "Register:" and more:
        found = register_block(more)
    elif head.startswith(("New Channel ", "Channel [", "Hangup ")):
        found = channel(msg)
    return found or OTHER
