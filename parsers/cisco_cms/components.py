"""Lines of the other CMS processes: the web app back end (`client_backend`), the Web Bridge 3 access
log (`wb3_frontend`), the MMP CLI audit (`cli`), LDAP authentication (`authp`) and the streamer."""

from __future__ import annotations

import re
from typing import Any

from ucsiem.parsing import ParsedEvent, canonical_ip

from .callbridge import GUID
from .kinds import apply, failed

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
_USER_VERBS: dict[str, tuple[str, tuple[str, ...]]] = {
    "add": ("account-change", ("user", "creation")),
    "del": ("account-change", ("user", "deletion")),
    "expire": ("account-change", ("user", "change")),
    "host": ("account-change", ("user", "change")),
    "duty": ("account-change", ("user", "change")),
    "evict": ("admin-action", ("info",)),  # logs the account out: an action on it, not a change of it
    "info": ("admin-action", ("info",)),
}


def _vendor(event: ParsedEvent) -> dict[str, Any]:
    uc: dict[str, Any] = event.setdefault("uc", {})
    vendor: dict[str, Any] = uc.setdefault("vendor", {})
    return vendor


def _uc(event: ParsedEvent, part: str) -> dict[str, Any]:
    uc: dict[str, Any] = event.setdefault("uc", {})
    sub: dict[str, Any] = uc.setdefault(part, {})
    return sub


def client_backend(msg: str, event: ParsedEvent) -> bool:
    """`<Component> : <text>`: WebApp Audit (participant actions), WebSocket (JWT), SamlManager (SSO)."""
    component, sep, text = msg.partition(" : ")
    if not sep:
        return False
    event["log"]["logger"] = component
    event["network"] = {"application": "webapp"}
    tm = _TRACE.match(text)
    if tm is not None:
        _vendor(event)["trace_id"] = tm[1]
        text = text[tm.end():]
    if component == "WebApp Audit":
        m = _AUDIT.fullmatch(text)
        if m is None:
            return False
        session, who, leg, what = m.groups()
        _vendor(event).update(session=session, webapp_action=what)
        if who:
            event["user"] = {"full_name": who}
            _uc(event, "conference")["participant"] = who
        if leg:
            _uc(event, "call")["leg_id"] = leg
        if what == "join call":
            apply(event, "conference-join")
        elif what == "leave call":
            apply(event, "conference-leave")
        else:
            apply(event, "call-update")
        return True
    if component == "WebSocket":
        m = _JWT.fullmatch(text)
        if m is not None:
            event["user"] = {"name": m[1]}
            _vendor(event)["callbridge"] = m[2]
            _uc(event, "conference")["id"] = m[3]
            _uc(event, "call")["leg_id"] = m[4]
        return False
    if component == "SamlManager":
        event["network"]["protocol"] = "saml"
        if text == "Invalid SSO login attempt":
            failed(event, "user-login", "invalid SSO login attempt")
            return True
        if text.lower() == "failed obtaining an authenticationid":
            failed(event, "user-login", "no authenticationId in the SAML response")
            return True
        if text == "No assertions passed the validation":
            failed(event, "user-login", "no SAML assertion passed the validation")
            return True
        m = _SAML_FAILED.fullmatch(text)
        if m is not None:
            _vendor(event)["saml_request"] = m[1]
            failed(event, "user-login", m[2])
            return True
        if text.startswith("Successfully obtained authenticationID:"):
            user = text[len("Successfully obtained authenticationID:"):].strip()
            if user:
                event["user"] = {"name": user}
        return False
    return False


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


def web_bridge_access(msg: str, event: ParsedEvent) -> bool:
    """nginx-style access line of Web Bridge 3: `[Tag:value, ...] <ip> - - [time] status N "METHOD path
    HTTP/1.1" bytes_sent N http_referer "..." http_user_agent "..." to upstream <ip>:<port>: ...`."""
    m = _ACCESS.match(msg)
    if m is None:
        return False
    ip = canonical_ip(m["ip"])
    if ip is None:
        return False
    status, target = int(m["status"]), m["path"]
    path, _, query = target.partition("?")
    event["source"] = {"ip": ip}
    event["network"] = {"protocol": "http", "application": "webbridge3"}
    event["url"] = {"original": target, "path": path, "query": query}
    rest = msg[m.end():]
    event["http"] = {
        "request": {"method": m["method"], "referrer": _quoted(rest, "http_referer")},
        "response": {"status_code": status, "bytes": _bytes_sent(rest)},
        "version": m["proto"][len("HTTP/"):],
    }
    tags: dict[str, str] = {}
    for item in (m["tags"] or "").split(", "):
        key, sep, value = item.partition(":")
        if sep and key.strip() and value.strip():
            tags[key.strip()] = value.strip()
    agent = _quoted(rest, "http_user_agent")
    if agent:
        event["user_agent"] = {"original": agent}
    vendor = _vendor(event)
    up = _UPSTREAM.search(rest)
    if up is not None:
        vendor["upstream"] = f"{up[1]}:{up[2]}"
    if tags.get("Tracing"):
        vendor["trace_id"] = tags["Tracing"]
    outcome = "success" if status < 400 else "failure"
    if path.startswith("/api/auth"):
        if tags.get("Auth"):
            event["user"] = {"name": tags["Auth"]}
        if outcome == "success":
            apply(event, "user-login", outcome)
        else:
            failed(event, "user-login", f"HTTP {status}")
        return True
    if path.startswith("/api/join"):
        leg = tags.get("Join call")
        if leg:
            _uc(event, "call")["leg_id"] = leg
        apply(event, "conference-join", outcome)
        return True
    apply(event, "diagnostic", outcome, category=("web",), types=("access",))
    return True


def _mmp_user_command(words: list[str]) -> tuple[str, tuple[str, ...]] | None:
    """`user <verb> <username> ...` (MMP user account commands): the action and ECS types, or None."""
    if len(words) < 3 or words[0].lower() != "user":
        return None
    return _USER_VERBS.get(words[1].lower())


def mmp_audit(msg: str, event: ParsedEvent) -> bool:
    """`User <u> from <ip>:<port> issued command <cmd>: permission granted|denied` (MMP CLI audit)."""
    if not msg.startswith("User "):
        return False
    frm = msg.find(" from ")
    cmd_at = msg.find(" issued command <", frm + 1)
    end = msg.rfind(">: permission ")
    if frm < 0 or cmd_at < 0 or end < cmd_at:
        return False
    user, where, command = msg[5:frm], msg[frm + 6:cmd_at], msg[cmd_at + 17:end].strip()
    verdict = msg[end + len(">: permission "):].strip()
    host, _, port = where.rpartition(":")
    ip = canonical_ip(host) if host else None
    if ip is None or not port.isdecimal() or int(port) > 65535:
        return False
    event["source"] = {"ip": ip, "port": int(port)}
    event["user"] = {"name": user}
    event.setdefault("process", {})["command_line"] = command
    event["network"] = {"protocol": "ssh", "application": "MMP"}
    _vendor(event)["permission"] = verdict
    words = command.split()
    on_user = _mmp_user_command(words)
    if on_user is not None:
        action, types = on_user
        event["user"]["target"] = {"name": words[2]}
    elif _CHANGE_WORDS.intersection(w.lower() for w in words):
        action, types = "config-change", ("change",)
    else:
        action, types = "admin-action", ("info",)
    if verdict == "granted":
        apply(event, action, "success", types=types)
    else:
        apply(event, action, "failure", types=(*types, "denied"), reason=f"permission {verdict}")
    return True


def authp(msg: str, event: ParsedEvent) -> bool:
    """`Using authentication server <server> to authenticate user <user> (index: 1/1, reason: first match)`."""
    m = _AUTHP.fullmatch(msg)
    if m is None:
        return False
    server, user, detail = m.groups()
    event["user"] = {"name": user}
    event["network"] = {"protocol": "ldap"}
    _vendor(event).update(auth_server=server, auth_detail=detail)
    apply(event, "user-login")
    return True


def streamer(msg: str, event: ParsedEvent) -> bool:
    """Streamer / recorder lines: a failed RTMP authentication is a failure to reach a dependent server."""
    if msg.startswith("RTMP authentication failed"):
        event["network"] = {"protocol": "rtmp"}
        apply(event, "service-failure", reason="RTMP authentication failed")
        return True
    return False
