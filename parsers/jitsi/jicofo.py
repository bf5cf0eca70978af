"""Jicofo / JVB (Java components of Jitsi Meet): `[Component ]YYYY-MM-DD hh:mm:ss.mmm LEVEL: [thread] ...`.

After the thread the line carries an optional context (`[ctx=...]`, `[hostname=x id=y]`), the
logger (`org.jitsi.jicofo.X.log()` in older versions, `Class.method#line:` in newer ones) and the
message. Multi-line records (Java stack traces) keep their continuation lines in `message`.
"""

from __future__ import annotations

import re
from typing import Any

from ucsiem.parsing import ParsedEvent

from .kinds import classify, split_jid

HEAD = re.compile(
    r"(?:(?P<component>Jicofo|JVB|Jigasi|Jibri) )?"
    r"(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{1,6}) (?P<level>[A-Z]{3,7}): \[(?P<thread>\d{1,10})\] ")
_LOGGER = re.compile(
    r"(?P<logger>[A-Za-z_$][A-Za-z0-9_$.]{0,255})(?P<paren>\(\))?(?:#(?P<line>\d{1,7}))?(?P<colon>:)? ")
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

_JOIN_TYPES = {"MemberJoined": "conference-join", "MemberLeft": "conference-leave", "MemberKicked": "conference-leave"}


def read_logger(rest: str, vendor: dict[str, Any], event: ParsedEvent) -> str:
    """Strip the optional `[k=v ...]` context and the logger name; return the message."""
    if rest.startswith("["):
        end = rest.find("] ", 1, 4096)
        if end > 0:
            for pair in rest[1:end].split():
                key, sep, value = pair.partition("=")
                if sep and key and value:
                    vendor[f"ctx.{key}"] = value
            rest = rest[end + 2:]
    m = _LOGGER.match(rest)
    # `pkg.Class.log() ` (old style), `Class.method#line: ` (new style), `pkg.Class.method: `;
    # anything else (a bare word) already is the message
    if m is not None and (m["paren"] or (m["colon"] and ("." in m["logger"] or m["line"]))):
        event["log"]["logger"] = m["logger"]
        if m["line"]:
            vendor["line"] = int(m["line"])
        return rest[m.end():]
    return rest


def _room(event: ParsedEvent, room: str, participant: str | None = None) -> None:
    conference: dict[str, Any] = {"name": room}
    if participant:
        conference["participant"] = participant
    event.setdefault("uc", {})["conference"] = conference


def classify_message(msg: str, level: str, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """Map one Jicofo/JVB message onto the shared vocabulary (default: diagnostic)."""
    event["network"] = {"protocol": "xmpp"}
    m = _MEMBER_EVENT.match(msg) if msg.startswith("Chat room event ") else None
    if m is not None and m["type"] in _JOIN_TYPES:
        room, _, nick = m["occupant"].partition("/")
        _room(event, room, nick or None)
        if m["jid"] != "null":
            node, domain, _ = split_jid(m["jid"])
            vendor["jid"] = m["jid"]
            if node:
                event["user"] = {"name": node, "domain": domain}
        classify(event, _JOIN_TYPES[m["type"]], "success", code=m["type"])
        return
    if msg.startswith("Member ") and msg.endswith(" joined."):
        occupant = msg[len("Member "):-len(" joined.")]
        if occupant and " " not in occupant:
            room, _, nick = occupant.partition("/")
            _room(event, room, nick or None)
            classify(event, "conference-join", "success")
            return
    if msg.startswith("Joining the room: "):
        room = msg[len("Joining the room: "):].strip()
        if room and " " not in room:
            _room(event, room)
            classify(event, "conference-start", "success", reason="focus joined the room")
            return
    if (m := _DISPOSED.match(msg)) is not None:
        _room(event, m["room"])
        vendor["conference_count"] = int(m["count"])
        classify(event, "conference-end", "success")
        return
    if (m := _NEW_FOCUS.match(msg)) is not None:
        vendor["conference_count"] = int(m["count"])
        room = m["room"]
        # `room@conference.example.com@auth.example.com`: the focus' domain follows the room JID
        _room(event, room.rsplit("@", 1)[0] if room.count("@") > 1 else room)
    elif (m := _AUTHENTICATED.match(msg)) is not None:
        vendor["jid"] = m["jid"]
        node, domain, _ = split_jid(m["user"])
        event["user"] = {"name": node or domain, "domain": domain if node else None}
        classify(event, "user-login", "success", types=("start", "allowed"))
        return
    elif (m := _CONF_REQUEST.match(msg)) is not None:
        _room(event, m["room"])
        vendor["jid"] = m["jid"]
        node, domain, _ = split_jid(m["jid"])
        if node:
            event["user"] = {"name": node, "domain": domain}
        classify(event, "conference-join", reason="conference request")
        return
    elif (m := _BRIDGE.match(msg)) is not None:
        vendor["bridge"] = m["jid"]
        vendor["bridge_version"] = m["version"]
    elif (m := _SASL.search(msg, 0, 512)) is not None:
        vendor["sasl_mechanism"] = m["mech"]
        classify(event, "user-login", "failure", reason=m["cond"])
        return
    failed = level in ("SEVERE", "ERROR")
    classify(event, "diagnostic", "failure" if failed else None, types=("error",) if failed else ("info",))
