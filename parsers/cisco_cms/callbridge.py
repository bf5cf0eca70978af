"""Call Bridge messages (`host:server` lines and the web admin event log): call legs, spaces and
conferences, guest and web app logins, licence shortfalls. Anything else is `diagnostic`.

Ids: `call N` (the Call Bridge's call leg number) -> `uc.call.id`; a call leg / participant GUID ->
`uc.call.leg_id`; a conference GUID (`conference <guid>`, `call <guid>`, `joined conference <guid>`) ->
`uc.conference.id`; a space (coSpace) GUID -> `uc.vendor.space_id`; the space name -> `uc.conference.name`.
Names and URIs inside quotes come from callers and are kept as text; no address is read from them.
"""

from __future__ import annotations

import re
from typing import Any

from ucsiem.parsing import ParsedEvent, split_uri_user

from .kinds import apply, failed

GUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"

_CALL_N = re.compile(r"call (\d{1,10}) ?: ")
_CALL_GUID = re.compile(rf"(?:configuring )?call ({GUID})\b")
_INCOMING = re.compile(r'incoming (encrypted )?([A-Za-z0-9.]{1,16}) call from "([^"]{0,1024})" '
                       r'to local URI "([^"]{0,1024})"')
_OUTGOING = re.compile(r'outgoing (encrypted )?([A-Za-z0-9.]{1,16}) call to "([^"]{0,1024})"'
                       r'(?: from space "([^"]{0,1024})")?')
_CONFIGURED = re.compile(rf'configured - API call leg ({GUID})(?: with SIP call ID "([^"]{{0,256}})")?')
_DESTROY_LEG = re.compile(rf"destroying API call leg ({GUID})")
_TEARING = re.compile(r'tearing down \("([^"]{0,256})" conference media\)')
_DURATION = re.compile(r"(\d{1,6}):(\d\d)(?::(\d\d))?")
_SPACE = re.compile(rf'participant "([^"]{{0,512}})" (joined|left) space ({GUID}) \((.{{0,512}})\)')
_CONFERENCE_LEG = re.compile(rf'participant "([^"]{{0,512}})" \(({GUID})\) (joined|left) conference ({GUID})'
                             r" ?(?:via (\S{1,32}))?")
_CONF = re.compile(rf"conference ({GUID})")
_CONF_NAMED = re.compile(r'conference "([^"]{0,512})": ')
_API_LEG = re.compile(rf"API call leg ({GUID}) in call ({GUID}) \(API call ({GUID})\)")
_API_SPACE = re.compile(rf'API "([^"]{{0,512}})" Space GUID: ({GUID}) ?<--> ?Call Correlator GUID: ({GUID}) ?<--> ?'
                        rf"Internal GUID: ({GUID})")
_QUOTED_USER = re.compile(r'(instantiating user|new session created for user|created guest account with user ID'
                          r'|destroying guest account with user ID) "([^"]{0,256})"')
_USER_STATE = re.compile(r'user "([^"]{0,256})": (.{1,256})')
_REMOVING_GUEST = re.compile(r"removing guest account '([^']{0,256})' \(name '([^']{0,256})'\) on (.{1,64})")
_GUEST_REQUEST = re.compile(r"guest login request (\d{1,20}): (.{1,256})")
_LOGIN_RESULT = re.compile(r"(successful|unsuccessful) login request from (\S{1,256})")
_WB3CMGR = re.compile(rf"WB3Cmgr: \[({GUID})\] (.{{1,2048}})")
_AUTH_REQUEST = re.compile(r"AuthRequestReceived for connection id=(\S{1,64}) registration=(\S{1,64}) "
                           r"\(user=([^)\s]{1,256})\)")
_LOGO_LICENSE = re.compile(r"unable to apply (.{1,128}?) \(space '([^']{0,256})'\) -- no license")
_SIP_CONNECTION = re.compile(r"SIP trace: connection (\d{1,10}): (.{1,512})")

_FAILURE_WORDS = ("fail", "error", "invalid", "expired", "untrusted", "not trusted", "reject", "unable")


def _uc(event: ParsedEvent, part: str) -> dict[str, Any]:
    uc: dict[str, Any] = event.setdefault("uc", {})
    sub: dict[str, Any] = uc.setdefault(part, {})
    return sub


def _vendor(event: ParsedEvent) -> dict[str, Any]:
    return _uc(event, "vendor")


def _endpoint_user(uri: str) -> dict[str, Any]:
    user, domain = split_uri_user(uri)
    return {"name": user, "domain": domain}


def _seconds(text: str) -> int | None:
    """`0:14` (m:ss) or `1:02:03` (h:mm:ss) -> seconds."""
    m = _DURATION.fullmatch(text)
    if m is None:
        return None
    a, b, c = m.groups()
    return int(a) * 3600 + int(b) * 60 + int(c) if c is not None else int(a) * 60 + int(b)


def _ending(rest: str, event: ParsedEvent, call: dict[str, Any]) -> bool:
    """`ending; <reason> - connected for m:ss` / `ending; <reason> - not connected after m:ss`."""
    cut = rest.rfind(" - ")
    if cut < 0:
        return False
    reason, tail = rest[len("ending; "):cut].strip(), rest[cut + 3:]
    if tail.startswith("connected for "):
        connected, seconds = True, _seconds(tail[len("connected for "):].strip())
    elif tail.startswith("not connected after "):
        connected, seconds = False, _seconds(tail[len("not connected after "):].strip())
    else:
        return False
    if reason:
        call["disconnect_cause"] = reason
        side = reason.split(" ", 1)[0]
        if side in ("local", "remote"):
            call["disconnect_side"] = side
    if connected:
        if seconds is not None:
            call["duration"] = float(seconds)
            event["event"]["duration"] = seconds * 1_000_000_000
        apply(event, "call-end", "success", reason=reason or None)
    elif "limit reached" in reason:  # refused for capacity before it was answered
        apply(event, "call-reject", reason=reason or None)
    else:
        apply(event, "call-end", "failure", reason=reason or None)
    return True


def _allocated(rest: str, event: ParsedEvent, call: dict[str, Any]) -> bool:
    """`allocated for <user> / "<name>" conference participation (<client>)` (web app / streamer legs)."""
    body = rest[len("allocated for "):]
    at = body.find(" conference participation")
    if at < 0:
        return False
    who, tail = body[:at], body[at + len(" conference participation"):].strip()
    user, _, display = who.partition(" ")
    display = display.strip().lstrip("/").strip()
    if len(display) >= 2 and display[0] == '"' and display[-1] == '"':
        display = display[1:-1]
    if user:
        event["user"] = {"name": user}
        call["caller"] = user
        if display:
            event["user"]["full_name"] = display
    if tail.startswith("(") and tail.endswith(")") and len(tail) > 2:
        _vendor(event)["client"] = tail[1:-1]
    call["direction"] = "inbound"
    apply(event, "call-attempt")
    return True


def _call_leg(rest: str, event: ParsedEvent, call: dict[str, Any]) -> bool:
    m = _INCOMING.fullmatch(rest)
    if m is not None:
        encrypted, proto, caller, callee = m.groups()
        call.update(direction="inbound", caller=caller, callee=callee)
        event["source"] = {"user": _endpoint_user(caller)}
        event["destination"] = {"user": _endpoint_user(callee)}
        event["network"] = {"protocol": proto.lower(), "direction": "inbound"}
        _vendor(event)["encrypted"] = bool(encrypted)
        apply(event, "call-attempt")
        return True
    m = _OUTGOING.fullmatch(rest)
    if m is not None:
        encrypted, proto, callee, space = m.groups()
        call.update(direction="outbound", callee=callee)
        event["destination"] = {"user": _endpoint_user(callee)}
        event["network"] = {"protocol": proto.lower(), "direction": "outbound"}
        if encrypted:
            _vendor(event)["encrypted"] = True
        if space:
            _uc(event, "conference")["name"] = space
        apply(event, "call-attempt")
        return True
    if rest.startswith("ending; "):
        return _ending(rest, event, call)
    if rest.startswith("allocated for "):
        return _allocated(rest, event, call)
    m = _TEARING.fullmatch(rest)
    if m is not None:
        if m[1]:
            event["user"] = {"name": m[1]}
        apply(event, "call-end", reason="tearing down")
        return True
    m = _CONFIGURED.fullmatch(rest)
    if m is not None:
        call["leg_id"] = m[1]
        if m[2]:
            _uc(event, "sip")["call_id"] = m[2]
        return False
    m = _DESTROY_LEG.fullmatch(rest)
    if m is not None:
        call["leg_id"] = m[1]
    return False


def _participant(msg: str, event: ParsedEvent) -> bool:
    m = _SPACE.fullmatch(msg)
    if m is not None:
        who, verb, space, name = m.groups()
        conf = _uc(event, "conference")
        conf.update(participant=who, name=name)
        _vendor(event)["space_id"] = space
        apply(event, "conference-join" if verb == "joined" else "conference-leave")
        return True
    m = _CONFERENCE_LEG.fullmatch(msg)
    if m is not None:
        who, leg, verb, conference, via = m.groups()
        _uc(event, "conference").update(participant=who, id=conference)
        _uc(event, "call")["leg_id"] = leg
        if via:
            event["network"] = {"application": via}
        apply(event, "conference-join" if verb == "joined" else "conference-leave")
        return True
    return False


def _conference(msg: str, event: ParsedEvent) -> bool:
    m = _CONF.match(msg)
    if m is not None:
        conf = _uc(event, "conference")
        conf["id"] = m[1]
        rest = msg[m.end():]
        if rest.startswith(' named "') and rest.endswith('"'):
            conf["name"] = rest[len(' named "'):-1]
            apply(event, "conference-start")
            return True
        if rest == " destroyed":
            apply(event, "conference-end")
            return True
        return False
    m = _CONF_NAMED.match(msg)
    if m is not None:
        _uc(event, "conference")["name"] = m[1]
        if msg[m.end():].startswith("unencrypted call legs now present"):
            event.setdefault("tags", []).append("unencrypted_call_legs")
    return False


def _users(msg: str, event: ParsedEvent) -> bool:
    m = _QUOTED_USER.fullmatch(msg)
    if m is not None:
        what, user = m.groups()
        if what.endswith("guest account with user ID"):
            # The Call Bridge creates or removes the guest account itself: no actor, only the account acted on.
            if user:
                event["user"] = {"target": {"name": user}}
            created = what.startswith("created")
            apply(event, "account-change", types=("user", "creation" if created else "deletion"))
            return True
        if user:
            event["user"] = {"name": user}
        if what.startswith("new session"):
            apply(event, "user-login", "success")
            return True
        return False
    m = _REMOVING_GUEST.fullmatch(msg)
    if m is not None:
        event["user"] = {"target": {"name": m[1], "full_name": m[2]}}
        apply(event, "account-change", types=("user", "deletion"), reason=m[3])
        return True
    m = _USER_STATE.fullmatch(msg)
    if m is not None:
        event["user"] = {"name": m[1]}
        if m[2].startswith("deactivating"):
            apply(event, "user-logout", reason=m[2])
            return True
        return False
    m = _GUEST_REQUEST.fullmatch(msg)
    if m is not None:
        _vendor(event)["login_request"] = m[1]
        return False
    m = _LOGIN_RESULT.fullmatch(msg)
    if m is not None:
        event["user"] = {"name": m[2]}
        if m[1] == "successful":
            apply(event, "user-login", "success")
        else:
            failed(event, "user-login", "unsuccessful login request")
        return True
    m = _WB3CMGR.fullmatch(msg)
    if m is not None:
        _vendor(event)["trace_id"] = m[1]
        auth = _AUTH_REQUEST.fullmatch(m[2])
        if auth is not None:
            _vendor(event).update(connection_id=auth[1], registration=auth[2])
            event["user"] = {"name": auth[3]}
            apply(event, "user-login")
            return True
    return False


def _misc(msg: str, event: ParsedEvent) -> bool:
    m = _API_LEG.fullmatch(msg)
    if m is not None:
        _uc(event, "call")["leg_id"] = m[1]
        _uc(event, "conference")["id"] = m[2]
        _vendor(event)["api_call"] = m[3]
        return False
    m = _API_SPACE.fullmatch(msg)
    if m is not None:
        _uc(event, "conference").update(name=m[1], id=m[4])
        _vendor(event).update(space_id=m[2], call_correlator=m[3])
        return False
    m = _LOGO_LICENSE.fullmatch(msg)
    if m is not None:
        _uc(event, "conference")["name"] = m[2]
        apply(event, "license-limit", reason="no license")
        return True
    m = _SIP_CONNECTION.fullmatch(msg)
    if m is not None:
        _vendor(event)["connection"] = m[1]
        event["network"] = {"protocol": "sip"}
        state = m[2]
        if "failure" in state or "failed" in state:
            apply(event, "connection", "failure", reason=state)
        elif state.startswith("shutting down"):
            apply(event, "connection", types=("connection", "end"))
        else:
            return False
        return True
    return False


def keywords(msg: str, event: ParsedEvent, level: str | None) -> bool:
    """Lines no pattern knows: licence and certificate/TLS failures by their words."""
    low = msg.lower()
    failing = level == "error" or any(w in low for w in _FAILURE_WORDS)
    if "licens" in low and (failing or "no license" in low or "limit" in low):
        apply(event, "license-limit", reason=msg[:256])
        return True
    if failing and ("certificate" in low or " tls" in low or "ssl" in low or low.startswith("tls")):
        action = "certificate" if "certificate" in low else "tls-handshake"
        apply(event, action, "failure", reason=msg[:256])
        event["tls"] = {"established": False}
        return True
    return False


def classify(msg: str, event: ParsedEvent, level: str | None) -> bool:
    """Fill `event` from a Call Bridge message; False leaves it to the caller as `diagnostic`."""
    m = _CALL_N.match(msg)
    if m is not None:
        call = _uc(event, "call")
        call["id"] = m[1]
        done = _call_leg(msg[m.end():], event, call)
        return done or keywords(msg, event, level)
    m = _CALL_GUID.match(msg)
    if m is not None:
        _uc(event, "conference")["id"] = m[1]
        return False
    if msg.startswith("participant "):
        return _participant(msg, event)
    if msg.startswith("conference "):
        return _conference(msg, event)
    return _users(msg, event) or _misc(msg, event) or keywords(msg, event, level)
