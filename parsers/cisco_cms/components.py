"""Lines of the other CMS processes: the web app back end (`client_backend`), the Web Bridge 3 access
log (`wb3_frontend`), the MMP CLI audit (`cli`), LDAP authentication (`authp`) and the streamer, read
into the `Body`; `what` names the vendor event recognised."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ucsiem.parsing import canonical_ip, to_port

from .callbridge import GUID

if TYPE_CHECKING:
    from .body import Body

_TRACE = re.compile(rf"\[({GUID})\] ")
_AUDIT = re.compile(rf"Session: ({GUID}) : Participant (.{{0,256}}?)(?:\(({GUID})\))? performed action of (.{{1,256}})")
_JWT = re.compile(rf"Got authenticated JWT for (\S{{1,256}}) callbridge ({GUID}) call ({GUID}) participant ({GUID})"
                  r"(?: tracing (\d{1,3}))?")
_SAML_FAILED = re.compile(r"SAML Authentication request (\S{1,128}) failed with reason: (.{1,512})")
_AUTHP = re.compile(r"Using authentication server (\S{1,256}) to authenticate user (\S{1,256}) \((.{0,256})\)")
_ACCESS = re.compile(
    r"(?:\[(?P<tags>[^\]]{0,1024})\] {1,4})?(?P<ip>[0-9A-Fa-f:.]{2,45}) - (?P<ruser>\S{1,256}) "
    r"\[(?P<time>[^\]]{1,40})\] {1,4}status (?P<status>\d{3}) "
    r'"(?P<method>[A-Z]{1,16}) (?P<path>[^" ]{1,4096}) (?P<proto>HTTP/[0-9.]{1,4})"')
_UPSTREAM = re.compile(r"to ?upstream ([0-9A-Fa-f:.\[\]]{2,47}):(\d{1,5}):")

# MMP commands that change the system (the first word is the object: `callbridge av1 enable`).
_CHANGE_WORDS = frozenset((
    "add", "del", "delete", "remove", "set", "enable", "disable", "restart", "reboot", "shutdown", "upgrade",
    "certs", "listen", "clear", "reset", "create", "assign", "trust", "key", "password", "expire", "rule",
    "factory_reset", "restore", "backup", "min-tls-version", "min-dtls-version", "ciphers",
))
# MMP user account commands naming the account they act on (`user add <name> <role>`, `user del <name>`...).
USER_VERBS = frozenset(("add", "del", "expire", "host", "duty", "evict", "info"))
SAML_FAILURES = {
    "Invalid SSO login attempt": "invalid SSO login attempt",
    "No assertions passed the validation": "no SAML assertion passed the validation",
}


def read_client_backend(body: Body) -> None:
    """`<Component> : <text>`: WebApp Audit (participant actions), WebSocket (JWT), SamlManager (SSO)."""
    component, sep, text = body.message.partition(" : ")
    if not sep:
        return
    body.logger = component
    body.application = "webapp"
    tm = _TRACE.match(text)
    if tm is not None:
        body.vendor["trace_id"] = tm[1]
        text = text[tm.end():]
    if component == "WebApp Audit":
        m = _AUDIT.fullmatch(text)
        if m is None:
            return
        session, who, leg, what = m.groups()
        body.vendor.update(session=session, webapp_action=what)
        if who:
            body.user_full_name = who
            body.participant = who
        body.leg_id = leg or None
        body.what = f"webapp {what}" if what in ("join call", "leave call") else "webapp action"
    elif component == "WebSocket":
        m = _JWT.fullmatch(text)
        if m is not None:
            body.user_name = m[1]
            body.vendor["callbridge"] = m[2]
            body.conference_id = m[3]
            body.leg_id = m[4]
    elif component == "SamlManager":
        body.protocol = "saml"
        if text in SAML_FAILURES:
            body.reason = SAML_FAILURES[text]
            body.what = "sso login failed"
        elif text.lower() == "failed obtaining an authenticationid":
            body.reason = "no authenticationId in the SAML response"
            body.what = "sso login failed"
        elif (m := _SAML_FAILED.fullmatch(text)) is not None:
            body.vendor["saml_request"] = m[1]
            body.reason = m[2]
            body.what = "sso login failed"
        elif text.startswith("Successfully obtained authenticationID:"):
            body.user_name = text[len("Successfully obtained authenticationID:"):].strip() or None


def _quoted(rest: str, key: str) -> str | None:
    """The text of ` key "<value>"` in the tail of an access line, blanks around it dropped; nginx's `-`
    (no value) and an unclosed quote give None."""
    at = rest.find(f' {key} "')
    if at < 0:
        return None
    start = at + len(key) + 3
    end = rest.find('"', start)
    if end < 0:
        return None
    value = rest[start:end].strip()
    return value if value and value != "-" else None


def _bytes_sent(rest: str) -> int | None:
    """` bytes_sent N` (nginx `$bytes_sent`: everything sent to the client, headers included)."""
    at = rest.find(" bytes_sent ")
    if at < 0:
        return None
    token = rest[at + 12:at + 32].split(" ", 1)[0]
    return int(token) if token.isascii() and token.isdecimal() and len(token) <= 18 else None


def read_web_bridge_access(body: Body) -> None:
    """nginx-style access line of Web Bridge 3: `[Tag:value, ...] <ip> - - [time] status N "METHOD path
    HTTP/1.1" bytes_sent N http_referer "..." http_user_agent "..." to upstream <ip>:<port>: ...`."""
    msg = body.message
    m = _ACCESS.match(msg)
    if m is None:
        return
    ip = canonical_ip(m["ip"])
    if ip is None:
        return
    status, target = int(m["status"]), m["path"]
    path, _, query = target.partition("?")
    body.source_ip = ip
    body.protocol, body.application = "http", "webbridge3"
    body.url, body.url_path, body.url_query = target, path, query
    rest = msg[m.end():]
    body.http_method, body.http_referrer = m["method"], _quoted(rest, "http_referer")
    body.http_status, body.http_bytes = status, _bytes_sent(rest)
    body.http_version = m["proto"][len("HTTP/"):]
    tags: dict[str, str] = {}
    for item in (m["tags"] or "").split(", "):
        key, sep, value = item.partition(":")
        if sep and key.strip() and value.strip():
            tags[key.strip()] = value.strip()
    body.user_agent = _quoted(rest, "http_user_agent")
    up = _UPSTREAM.search(rest)
    if up is not None:
        body.vendor["upstream"] = f"{up[1]}:{up[2]}"
    if tags.get("Tracing"):
        body.vendor["trace_id"] = tags["Tracing"]
    outcome = "success" if status < 400 else "failure"
    if path.startswith("/api/auth"):
        body.user_name = tags.get("Auth") or None
        if outcome == "failure":
            body.reason = f"HTTP {status}"
        body.what = f"web sign-in {outcome}"
    elif path.startswith("/api/join"):
        body.leg_id = tags.get("Join call") or None
        body.what = f"web join {outcome}"
    else:
        body.what = f"web access {outcome}"


def read_mmp_audit(body: Body) -> None:
    """`User <u> from <ip>:<port> issued command <cmd>: permission granted|denied` (MMP CLI audit); `what`
    is `mmp <kind of command> <granted|denied>`."""
    msg = body.message
    if not msg.startswith("User "):
        return
    frm = msg.find(" from ")
    cmd_at = msg.find(" issued command <", frm + 1)
    end = msg.rfind(">: permission ")
    if frm < 0 or cmd_at < 0 or end < cmd_at:
        return
    user, where, command = msg[5:frm], msg[frm + 6:cmd_at], msg[cmd_at + 17:end].strip()
    verdict = msg[end + len(">: permission "):].strip()
    host, _, port = where.rpartition(":")
    ip = canonical_ip(host) if host else None
    if ip is None:
        return
    body.source_ip, body.source_port = ip, to_port(port, body.tags)  # a bad port: tag bad_port, keep the event
    body.user_name = user
    body.command_line = command
    body.protocol, body.application = "ssh", "MMP"
    body.vendor["permission"] = verdict
    words = command.split()
    if len(words) >= 3 and words[0].lower() == "user" and words[1].lower() in USER_VERBS:
        body.target_name = words[2]
        command_kind = f"user {words[1].lower()}"
    elif _CHANGE_WORDS.intersection(w.lower() for w in words):
        command_kind = "change"
    else:
        command_kind = "other"
    if verdict == "granted":
        body.what = f"mmp {command_kind} granted"
    else:
        body.reason = f"permission {verdict}"
        body.what = f"mmp {command_kind} denied"


def read_authp(body: Body) -> None:
    """`Using authentication server <server> to authenticate user <user> (index: 1/1, reason: first match)`."""
    m = _AUTHP.fullmatch(body.message)
    if m is None:
        return
    server, user, detail = m.groups()
    body.user_name = user
    body.protocol = "ldap"
    body.vendor.update(auth_server=server, auth_detail=detail)
    body.what = "ldap authentication"


def read_streamer(body: Body) -> None:
    """Streamer / recorder lines: a failed RTMP authentication is a failure to reach a dependent server."""
    if body.message.startswith("RTMP authentication failed"):
        body.protocol = "rtmp"
        body.reason = "RTMP authentication failed"
        body.what = "rtmp authentication failed"
