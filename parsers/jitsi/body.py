"""The messages of Jitsi Meet that are read, into a `Body` that names the message and holds its values:
Jicofo/JVB conference and participant lines, focus authentication, SASL failures; Prosody sessions,
logins and failed logins (`mod_log_auth`), JWT token failures, TLS, start and stop. Any other text is a
`Body` without a message name (a `diagnostic` event keeping its text). Regexes are anchored and bounded.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from ucsiem.parsing import canonical_ip

# The documented messages (Body.message); classify.py maps them to a Kind.
# Jicofo / JVB
MEMBER_JOINED = "MemberJoined"  # ChatRoomMemberPresenceChangeEvent types, kept as event.code
MEMBER_LEFT = "MemberLeft"
MEMBER_KICKED = "MemberKicked"
MEMBER_JOINED_TEXT = "member joined"
FOCUS_JOINED = "focus joined the room"
CONFERENCE_DISPOSED = "conference disposed"
FOCUS_AUTHENTICATED = "focus authenticated"
CONFERENCE_REQUEST = "conference request"
SASL_ERROR = "SASL error"
# Prosody
CLIENT_CONNECTED = "client connected"
CLIENT_DISCONNECTED = "client disconnected"
AUTHENTICATED = "authenticated"
AUTH_FAILED = "authentication failed"
TOKEN_ERROR = "token error"
TOKEN_DENIED = "token not allowed to join"
COMPONENT_AUTHENTICATED = "component authenticated"
STREAM_ENCRYPTED = "stream encrypted"
BOSH_SESSION = "new BOSH session"
STARTED = "started"
SHUTTING_DOWN = "shutting down"
CERTIFICATE_ERROR = "certificate error"


class Body(NamedTuple):
    """One message: which documented message it is (None: any other text) and its values."""

    message: str | None = None
    error: bool = False  # the line's level is an error (a diagnostic event's outcome)
    reason: str | None = None
    code: str | None = None  # event.code
    user: str | None = None
    domain: str | None = None
    source_ip: str | None = None
    room: str | None = None  # uc.conference.name
    participant: str | None = None
    application: str | None = None
    encrypted: bool = False  # a TLS stream was established (tls.established)
    tls_version: str | None = None
    version: str | None = None  # the product's version (observer.version)
    vendor: dict[str, Any] | None = None


_ERROR = Body(error=True)
_OTHER = Body()

_MEMBER_EVENT = re.compile(
    r"Chat room event ChatRoomMemberPresenceChangeEvent\[type=(?P<type>[A-Za-z]{1,32}) .{0,512}?"
    r"member=ChatMember\[(?P<occupant>[^,\]\s]{1,1024}), jid: (?P<jid>[^\]\s]{1,1024})\]")
_AUTHENTICATED = re.compile(r"Jid (?P<jid>\S{1,1024}) authenticated as: (?P<user>\S{1,1024})$")
_CONF_REQUEST = re.compile(r"Conference request for room (?P<room>[^,\s]{1,1024}), from (?P<jid>\S{1,1024})$")
_DISPOSED = re.compile(r"Disposed conference for room: (?P<room>\S{1,1024}) conference count: (?P<count>\d{1,9})")
_NEW_FOCUS = re.compile(r"Created new focus for (?P<room>\S{1,1024})\. Conference count (?P<count>\d{1,9})")
_BRIDGE = re.compile(
    r"Added new videobridge: Bridge\[jid=(?P<jid>[^,\]\s]{1,1024}), version=(?P<version>[^,\]\s]{1,64})")
_SASL = re.compile(r"SASLError using (?P<mech>[A-Z0-9-]{1,32}): (?P<cond>[a-z-]{1,64})")
_MEMBER_TYPES = frozenset((MEMBER_JOINED, MEMBER_LEFT, MEMBER_KICKED))

_FAILED_AUTH = re.compile(
    r"Failed authentication attempt \((?P<cond>[^()]{0,64})\)(?: for user (?P<user>\S{1,256}))?"
    r" from IP: (?P<ip>\S{1,64})$")
_SUCCESS_AUTH = re.compile(r"Successful authentication as (?P<user>\S{1,256}) from IP: (?P<ip>\S{1,64})$")
_TOKEN_ERROR = re.compile(r"Error verifying token err:(?P<err>[^,]{0,64}), reason:(?P<reason>.{0,512})$")
_TOKEN_DENIED = re.compile(r"Token (?P<token>\S{1,4096}) not allowed to join: (?P<room>\S{1,1024})$")
_ENCRYPTED = re.compile(r"Stream encrypted(?: \((?P<proto>[^ ()]{1,32}) with (?P<cipher>[^ ()]{1,128})\))?$")
_BOSH_NEW = re.compile(r"New BOSH session, assigned it sid '(?P<sid>[^']{1,128})'$")
_WELCOME = re.compile(r"Hello and welcome to Prosody version (?P<version>\S{1,64})$")


def split_jid(jid: str) -> tuple[str | None, str | None, str | None]:
    """`node@domain/resource` -> (node, domain, resource); a missing part is None."""
    bare, _, resource = jid.partition("/")
    node, at, domain = bare.partition("@")
    if not at:
        node, domain = "", node
    return (node or None), (domain or None), (resource or None)


def _account(jid: str) -> tuple[str | None, str | None]:
    """A JID as ECS user name and domain: the node (or the domain when there is none) and its domain."""
    node, domain, _ = split_jid(jid)
    return node or domain, (domain if node else None)


def read_jicofo(msg: str, level: str | None) -> Body:
    """One Jicofo/JVB message (the first line, or the next when it is empty)."""
    error = level in ("SEVERE", "ERROR")
    m = _MEMBER_EVENT.match(msg) if msg.startswith("Chat room event ") else None
    if m is not None and m["type"] in _MEMBER_TYPES:
        room, _, nick = m["occupant"].partition("/")
        user = domain = None
        vendor = None
        if m["jid"] != "null":
            node, jid_domain, _ = split_jid(m["jid"])
            vendor = {"jid": m["jid"]}
            if node:
                user, domain = node, jid_domain
        return Body(m["type"], error, code=m["type"], user=user, domain=domain, room=room,
                    participant=nick or None, vendor=vendor)
    if msg.startswith("Member ") and msg.endswith(" joined."):
        occupant = msg[len("Member "):-len(" joined.")]
        if occupant and " " not in occupant:
            room, _, nick = occupant.partition("/")
            return Body(MEMBER_JOINED_TEXT, error, room=room, participant=nick or None)
    if msg.startswith("Joining the room: "):
        room = msg[len("Joining the room: "):].strip()
        if room and " " not in room:
            return Body(FOCUS_JOINED, error, reason="focus joined the room", room=room)
    if (m := _DISPOSED.match(msg)) is not None:
        return Body(CONFERENCE_DISPOSED, error, room=m["room"], vendor={"conference_count": int(m["count"])})
    if (m := _NEW_FOCUS.match(msg)) is not None:  # a diagnostic event that names the room
        room = m["room"]
        # `room@conference.example.com@auth.example.com`: the focus' domain follows the room JID
        return Body(None, error, room=room.rsplit("@", 1)[0] if room.count("@") > 1 else room,
                    vendor={"conference_count": int(m["count"])})
    if (m := _AUTHENTICATED.match(msg)) is not None:
        user, domain = _account(m["user"])
        return Body(FOCUS_AUTHENTICATED, error, user=user, domain=domain, vendor={"jid": m["jid"]})
    if (m := _CONF_REQUEST.match(msg)) is not None:
        node, domain, _ = split_jid(m["jid"])
        return Body(CONFERENCE_REQUEST, error, reason="conference request", user=node,
                    domain=domain if node else None, room=m["room"], vendor={"jid": m["jid"]})
    if (m := _BRIDGE.match(msg)) is not None:  # a diagnostic event that names the bridge
        return Body(None, error, vendor={"bridge": m["jid"], "bridge_version": m["version"]})
    if (m := _SASL.search(msg, 0, 512)) is not None:
        return Body(SASL_ERROR, error, reason=m["cond"], vendor={"sasl_mechanism": m["mech"]})
    return _ERROR if error else _OTHER


def _source(text: str) -> tuple[str | None, dict[str, Any] | None]:
    """`from IP: <ip>` of mod_log_auth: the address, or the text kept in uc.vendor.ip (`?`: nothing)."""
    ip = canonical_ip(text)
    if ip is not None:
        return ip, None
    return None, ({"ip": text} if text != "?" else None)


def read_prosody(msg: str, level: str | None, host: str | None) -> Body:
    """One Prosody message; `host`: the virtual host of a `host:module` source."""
    error = level == "error"
    if msg == "Client connected" or msg == "Incoming Jabber component connection":
        return Body(CLIENT_CONNECTED, error)
    if msg.startswith("Client disconnected") or msg.startswith("BOSH client disconnected") \
            or msg.startswith("Session closed by remote with error: "):
        _, _, why = msg.partition(": ")
        return Body(CLIENT_DISCONNECTED, error, reason=why or None)
    if msg.startswith("Authenticated as "):
        user, domain = _account(msg[len("Authenticated as "):].strip())
        return Body(AUTHENTICATED, error, user=user, domain=domain)
    if msg.startswith("Failed authentication attempt ") and (m := _FAILED_AUTH.match(msg)) is not None:
        user = domain = None
        if m["user"] and m["user"] != "?":
            user, domain = _account(m["user"])
        ip, vendor = _source(m["ip"])
        return Body(AUTH_FAILED, error, reason=m["cond"] or None, user=user, domain=domain, source_ip=ip,
                    vendor=vendor)
    if msg.startswith("Successful authentication as ") and (m := _SUCCESS_AUTH.match(msg)) is not None:
        user, domain = _account(m["user"])
        ip, vendor = _source(m["ip"])
        return Body(AUTHENTICATED, error, user=user, domain=domain, source_ip=ip, vendor=vendor)
    if msg.startswith("Error verifying token ") and (m := _TOKEN_ERROR.match(msg)) is not None:
        return Body(TOKEN_ERROR, error, reason=m["reason"].strip() or m["err"].strip(),
                    vendor={"token_error": m["err"].strip()})
    if msg.startswith("Failed to verify access token"):
        _, _, why = msg.partition(": ")
        return Body(TOKEN_ERROR, error, reason=why.strip() or "access token not verified")
    if msg.startswith("Token ") and (m := _TOKEN_DENIED.match(msg)) is not None:
        node, domain, nick = split_jid(m["room"])
        return Body(TOKEN_DENIED, error, reason="token not allowed to join this room",
                    room=f"{node}@{domain}" if node else domain, participant=nick)
    if msg == "External component successfully authenticated":
        return Body(COMPONENT_AUTHENTICATED, error, user=host)
    if msg.startswith("Stream encrypted") and (m := _ENCRYPTED.match(msg)) is not None:
        proto = m["proto"]
        if not proto:
            return Body(STREAM_ENCRYPTED, error, encrypted=True)
        return Body(STREAM_ENCRYPTED, error, encrypted=True,
                    tls_version=proto[4:] if proto.startswith("TLSv") else proto, vendor={"cipher": m["cipher"]})
    if msg.startswith("New BOSH session") and (m := _BOSH_NEW.match(msg)) is not None:
        return Body(BOSH_SESSION, error, application="bosh", vendor={"sid": m["sid"]})
    if msg.startswith("Hello and welcome") and (m := _WELCOME.match(msg)) is not None:
        return Body(STARTED, error, version=m["version"])
    if msg.startswith("Shutting down: "):
        return Body(SHUTTING_DOWN, error, reason=msg[len("Shutting down: "):].strip() or None)
    if msg.startswith("Error creating context") or msg.startswith("Error creating contexts"):
        return Body(CERTIFICATE_ERROR, error, reason=msg.partition(": ")[2].strip() or None)
    return _ERROR if error else _OTHER
