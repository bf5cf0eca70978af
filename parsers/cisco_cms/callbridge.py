"""Call Bridge messages (`host:server` lines and the web admin event log): call legs, spaces and
conferences, guest and web app logins, licence shortfalls, read into the `Body`. Anything else is
`diagnostic`.

Ids (parsers/README.md "Decisions"): `call N` (the Call Bridge's number of a call leg, local to this
box) -> `uc.call.leg_id`, and so is a call leg / participant GUID on the lines that name no `call N`; the
API call leg GUID of `call N: configured - API call leg <guid>` / `destroying API call leg <guid>` ->
`uc.vendor.api_call_leg` (those lines tie the number to the GUID); no CMS line names an id common to
every leg, so `uc.call.id` stays empty. A conference GUID (`conference <guid>`, `call <guid>`, `joined
conference <guid>`) -> `uc.conference.id`; a space (coSpace) GUID -> `uc.vendor.space_id`; the space
name -> `uc.conference.name`.

Names and URIs inside quotes come from callers and are kept as text; no address is read from them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ucsiem.parsing import split_uri_user

if TYPE_CHECKING:
    from .body import Body

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


def _seconds(text: str) -> int | None:
    """`0:14` (m:ss) or `1:02:03` (h:mm:ss) -> seconds."""
    m = _DURATION.fullmatch(text)
    if m is None:
        return None
    a, b, c = m.groups()
    return int(a) * 3600 + int(b) * 60 + int(c) if c is not None else int(a) * 60 + int(b)


def _ending(rest: str, body: Body) -> bool:
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
        body.disconnect_cause = reason
        side = reason.split(" ", 1)[0]
        if side in ("local", "remote"):
            body.disconnect_side = side
    body.reason = reason or None
    if connected:
        body.duration = seconds
        body.what = "call ended"
    elif "limit reached" in reason:  # refused for capacity before it was answered
        body.what = "call refused"
    else:
        body.what = "call not connected"
    return True


def _allocated(rest: str, body: Body) -> bool:
    """`allocated for <user> / "<name>" conference participation (<client>)` (web app / streamer legs)."""
    who = rest[len("allocated for "):]
    at = who.find(" conference participation")
    if at < 0:
        return False
    who, tail = who[:at], who[at + len(" conference participation"):].strip()
    user, _, display = who.partition(" ")
    display = display.strip().lstrip("/").strip()
    if len(display) >= 2 and display[0] == '"' and display[-1] == '"':
        display = display[1:-1]
    if user:
        body.user_name = user
        body.caller = user
        body.user_full_name = display or None
    if tail.startswith("(") and tail.endswith(")") and len(tail) > 2:
        body.vendor["client"] = tail[1:-1]
    body.call_direction = "inbound"
    body.what = "call allocated"
    return True


def _call_leg(rest: str, body: Body) -> bool:
    m = _INCOMING.fullmatch(rest)
    if m is not None:
        encrypted, proto, caller, callee = m.groups()
        body.call_direction, body.caller, body.callee = "inbound", caller, callee
        body.source_user = split_uri_user(caller)
        body.destination_user = split_uri_user(callee)
        body.protocol, body.direction = proto.lower(), "inbound"
        body.vendor["encrypted"] = bool(encrypted)
        body.what = "call incoming"
        return True
    m = _OUTGOING.fullmatch(rest)
    if m is not None:
        encrypted, proto, callee, space = m.groups()
        body.call_direction, body.callee = "outbound", callee
        body.destination_user = split_uri_user(callee)
        body.protocol, body.direction = proto.lower(), "outbound"
        if encrypted:
            body.vendor["encrypted"] = True
        body.conference_name = space or None
        body.what = "call outgoing"
        return True
    if rest.startswith("ending; "):
        return _ending(rest, body)
    if rest.startswith("allocated for "):
        return _allocated(rest, body)
    m = _TEARING.fullmatch(rest)
    if m is not None:
        body.user_name = m[1] or None
        body.reason = "tearing down"
        body.what = "call tearing down"
        return True
    m = _CONFIGURED.fullmatch(rest)
    if m is not None:
        body.vendor["api_call_leg"] = m[1]
        body.sip_call_id = m[2] or None
        return False
    m = _DESTROY_LEG.fullmatch(rest)
    if m is not None:
        body.vendor["api_call_leg"] = m[1]
    return False


def _participant(msg: str, body: Body) -> None:
    m = _SPACE.fullmatch(msg)
    if m is not None:
        who, verb, space, name = m.groups()
        body.participant, body.conference_name = who, name
        body.vendor["space_id"] = space
        body.what = f"participant {verb}"
        return
    m = _CONFERENCE_LEG.fullmatch(msg)
    if m is not None:
        who, leg, verb, conference, via = m.groups()
        body.participant, body.conference_id = who, conference
        body.leg_id = leg
        body.application = via or None
        body.what = f"participant {verb}"


def _conference(msg: str, body: Body) -> None:
    m = _CONF.match(msg)
    if m is not None:
        body.conference_id = m[1]
        rest = msg[m.end():]
        if rest.startswith(' named "') and rest.endswith('"'):
            body.conference_name = rest[len(' named "'):-1]
            body.what = "conference named"
        elif rest == " destroyed":
            body.what = "conference destroyed"
        return
    m = _CONF_NAMED.match(msg)
    if m is not None:
        body.conference_name = m[1]
        if msg[m.end():].startswith("unencrypted call legs now present"):
            body.tags.append("unencrypted_call_legs")


def _users(msg: str, body: Body) -> bool:
    m = _QUOTED_USER.fullmatch(msg)
    if m is not None:
        what, user = m.groups()
        if what.endswith("guest account with user ID"):
            # The Call Bridge creates or removes the guest account itself: no actor, only the account acted on.
            body.target_name = user or None
            body.what = "guest account created" if what.startswith("created") else "guest account destroyed"
            return True
        body.user_name = user or None
        if what.startswith("new session"):
            body.what = "new session"
            return True
        return False
    m = _REMOVING_GUEST.fullmatch(msg)
    if m is not None:
        body.target_name, body.target_full_name = m[1], m[2]
        body.reason = m[3]
        body.what = "guest account destroyed"
        return True
    m = _USER_STATE.fullmatch(msg)
    if m is not None:
        body.user_name = m[1]
        if m[2].startswith("deactivating"):
            body.reason = m[2]
            body.what = "user deactivating"
            return True
        return False
    m = _GUEST_REQUEST.fullmatch(msg)
    if m is not None:
        body.vendor["login_request"] = m[1]
        return False
    m = _LOGIN_RESULT.fullmatch(msg)
    if m is not None:
        body.user_name = m[2]
        if m[1] == "successful":
            body.what = "login successful"
        else:
            body.reason = "unsuccessful login request"
            body.what = "login unsuccessful"
        return True
    m = _WB3CMGR.fullmatch(msg)
    if m is not None:
        body.vendor["trace_id"] = m[1]
        auth = _AUTH_REQUEST.fullmatch(m[2])
        if auth is not None:
            body.vendor.update(connection_id=auth[1], registration=auth[2])
            body.user_name = auth[3]
            body.what = "auth request"
            return True
    return False


def _misc(msg: str, body: Body) -> bool:
    m = _API_LEG.fullmatch(msg)
    if m is not None:
        body.leg_id = m[1]
        body.conference_id = m[2]
        body.vendor["api_call"] = m[3]
        return False
    m = _API_SPACE.fullmatch(msg)
    if m is not None:
        body.conference_name, body.conference_id = m[1], m[4]
        body.vendor.update(space_id=m[2], call_correlator=m[3])
        return False
    m = _LOGO_LICENSE.fullmatch(msg)
    if m is not None:
        body.conference_name = m[2]
        body.reason = "no license"
        body.what = "no license"
        return True
    m = _SIP_CONNECTION.fullmatch(msg)
    if m is not None:
        body.vendor["connection"] = m[1]
        body.protocol = "sip"
        state = m[2]
        if "failure" in state or "failed" in state:
            body.reason = state
            body.what = "sip connection failure"
        elif state.startswith("shutting down"):
            body.what = "sip connection shutting down"
        else:
            return False
        return True
    return False


def _keywords(msg: str, body: Body, level: str | None) -> None:
    """Lines no pattern knows: licence and certificate/TLS failures by their words."""
    low = msg.lower()
    failing = level == "error" or any(w in low for w in _FAILURE_WORDS)
    if "licens" in low and (failing or "no license" in low or "limit" in low):
        body.reason = msg[:256]
        body.what = "licence words"
    elif failing and ("certificate" in low or " tls" in low or "ssl" in low or low.startswith("tls")):
        body.reason = msg[:256]
        body.what = "certificate failure words" if "certificate" in low else "tls failure words"
        body.tls_established = False


def read_call_bridge(body: Body, level: str | None) -> None:
    """A Call Bridge message into `body`; `what` stays None for a message no pattern or keyword knows."""
    msg = body.message
    m = _CALL_N.match(msg)
    if m is not None:
        body.leg_id = m[1]
        if not _call_leg(msg[m.end():], body):
            _keywords(msg, body, level)
        return
    m = _CALL_GUID.match(msg)
    if m is not None:
        body.conference_id = m[1]
        return
    if msg.startswith("participant "):
        _participant(msg, body)
        return
    if msg.startswith("conference "):
        _conference(msg, body)
        return
    if not (_users(msg, body) or _misc(msg, body)):
        _keywords(msg, body, level)
