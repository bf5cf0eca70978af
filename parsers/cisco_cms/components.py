"""Lines of the other CMS processes: the web app back end (`client_backend`), the Web Bridge 3 access
log (`wb3_frontend`), the MMP CLI audit (`cli`), LDAP authentication (`authp`) and the streamer."""

from __future__ import annotations

import re
from typing import Any

from ucsiem.parsing.contract import ParsedEvent
from ucsiem.parsing.helpers import canonical_ip

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


def web_bridge_access(msg: str, event: ParsedEvent) -> bool:
    """nginx-style access line of Web Bridge 3: `[Tag:value, ...] <ip> - - [time] status N "METHOD path
    HTTP/1.1" bytes_sent N http_referer "..." http_user_agent "..." to upstream <ip>:<port>: ...`."""
    m = _ACCESS.match(msg)
    if m is None:
        return False
    ip = canonical_ip(m["ip"])
    if ip is None:
        return False
    status, path = int(m["status"]), m["path"]
    event["source"] = {"ip": ip}
    event["network"] = {"protocol": "http", "application": "webbridge3"}
    event["url"] = {"path": path.split("?", 1)[0], "original": path}
    vendor = _vendor(event)
    vendor.update(http_method=m["method"], http_status=status)
    tags: dict[str, str] = {}
    for item in (m["tags"] or "").split(", "):
        key, sep, value = item.partition(":")
        if sep and key.strip() and value.strip():
            tags[key.strip()] = value.strip()
    rest = msg[m.end():]
    ua_at = rest.find('http_user_agent "')
    if ua_at >= 0:
        end = rest.find('"', ua_at + 17)
        if end > ua_at + 17:
            event["user_agent"] = {"original": rest[ua_at + 17:end]}
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
    if ip is None or not port.isdigit() or int(port) > 65535:
        return False
    event["source"] = {"ip": ip, "port": int(port)}
    event["user"] = {"name": user}
    event["network"] = {"protocol": "ssh", "application": "MMP"}
    _vendor(event).update(command=command, permission=verdict)
    changes = bool(_CHANGE_WORDS.intersection(command.lower().split()))
    if verdict == "granted":
        apply(event, "config-change" if changes else "admin-action", "success")
    else:
        apply(event, "config-change" if changes else "admin-action", "failure", types=("change", "denied")
              if changes else ("info", "denied"), reason=f"permission {verdict}")
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
