"""Prosody (the XMPP server of Jitsi Meet): the body `<source> <level> <message>` and its messages.

Prosody's file sink writes `<time> <source><TAB or padding><level><TAB><message>`; its console output
(what journald and docker capture) is the same line, sometimes with ANSI colours that rsyslog escapes
as `#033[1minfo#033[0m#011`. Its own syslog sink writes `<source>: <message>` (the level is the syslog
severity). `<source>` is a session (`c2s55d0e1f0`, `bosh<uuid>`), a `host:module` pair
(`meet.example.com:log_auth`) or a global name (`general`, `startup`, `mod_bosh`).
"""

from __future__ import annotations

import re
from typing import Any

from ucsiem.parsing import ParsedEvent, canonical_ip

from .kinds import classify, split_jid

LEVELS = ("debug", "info", "warn", "error")
_ANSI = re.compile(r"(?:\x1b|#033)\[[0-9;]{0,16}m")
_SESSION = re.compile(r"(c2s|s2sin|s2sout|bosh|smacks|jcp|websocket)([0-9A-Za-z-]{4,64})")
_FAILED_AUTH = re.compile(
    r"Failed authentication attempt \((?P<cond>[^()]{0,64})\)(?: for user (?P<user>\S{1,256}))?"
    r" from IP: (?P<ip>\S{1,64})$")
_SUCCESS_AUTH = re.compile(r"Successful authentication as (?P<user>\S{1,256}) from IP: (?P<ip>\S{1,64})$")
_TOKEN_ERROR = re.compile(r"Error verifying token err:(?P<err>[^,]{0,64}), reason:(?P<reason>.{0,512})$")
_TOKEN_DENIED = re.compile(r"Token (?P<token>\S{1,4096}) not allowed to join: (?P<room>\S{1,1024})$")
_ENCRYPTED = re.compile(r"Stream encrypted(?: \((?P<proto>[^ ()]{1,32}) with (?P<cipher>[^ ()]{1,128})\))?$")
_BOSH_NEW = re.compile(r"New BOSH session, assigned it sid '(?P<sid>[^']{1,128})'$")
_WELCOME = re.compile(r"Hello and welcome to Prosody version (?P<version>\S{1,64})$")


def clean(text: str) -> str:
    """Undo console colouring and rsyslog's control-character escapes."""
    if "#0" in text or "\x1b" in text:
        text = _ANSI.sub("", text).replace("#011", "\t")
    return text


def split_file_body(body: str) -> tuple[str, str, str] | None:
    """`source<blanks>level<blanks>message` -> (source, level, message); None when it is not that."""
    parts = body.split(None, 2)
    if len(parts) < 2 or parts[1] not in LEVELS:
        return None
    return parts[0], parts[1], (parts[2].strip() if len(parts) == 3 else "")


def split_sink_body(body: str) -> tuple[str, str] | None:
    """Prosody's syslog sink: `source: message`."""
    source, sep, message = body.partition(": ")
    if not sep or not source or " " in source or len(source) > 255:
        return None
    return source, message.strip()


def read_source(source: str, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    vendor["source"] = source
    host, sep, module = source.rpartition(":")
    if sep and host and module:
        event["event"]["provider"] = module
        vendor["host"] = host
        return
    m = _SESSION.fullmatch(source)
    if m is not None:
        event["event"]["provider"] = m.group(1)
        vendor["session"] = source
    else:
        event["event"]["provider"] = source


def _user(event: ParsedEvent, jid: str) -> None:
    node, domain, _ = split_jid(jid)
    user: dict[str, Any] = {"name": node or domain}
    if node and domain:
        user["domain"] = domain
    event["user"] = user


def _source_ip(event: ParsedEvent, text: str, vendor: dict[str, Any]) -> None:
    ip = canonical_ip(text)
    if ip is not None:
        event["source"] = {"ip": ip}
    elif text != "?":
        vendor["ip"] = text


def classify_message(msg: str, level: str | None, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """Map one Prosody message onto the shared vocabulary (default: diagnostic)."""
    event["network"] = {"protocol": "xmpp"}
    if msg == "Client connected" or msg == "Incoming Jabber component connection":
        classify(event, "connection", "success", types=("connection", "start"))
        return
    if msg.startswith("Client disconnected") or msg.startswith("BOSH client disconnected") \
            or msg.startswith("Session closed by remote with error: "):
        _, _, why = msg.partition(": ")
        classify(event, "connection", "success", reason=why or None, types=("connection", "end"))
        return
    if msg.startswith("Authenticated as "):
        _user(event, msg[len("Authenticated as "):].strip())
        classify(event, "user-login", "success", types=("start", "allowed"))
        return
    if msg.startswith("Failed authentication attempt ") and (m := _FAILED_AUTH.match(msg)) is not None:
        if m["user"] and m["user"] != "?":
            _user(event, m["user"])
        _source_ip(event, m["ip"], vendor)
        classify(event, "user-login", "failure", reason=m["cond"] or None)
        return
    if msg.startswith("Successful authentication as ") and (m := _SUCCESS_AUTH.match(msg)) is not None:
        _user(event, m["user"])
        _source_ip(event, m["ip"], vendor)
        classify(event, "user-login", "success", types=("start", "allowed"))
        return
    if msg.startswith("Error verifying token ") and (m := _TOKEN_ERROR.match(msg)) is not None:
        vendor["token_error"] = m["err"].strip()
        classify(event, "user-login", "failure", reason=m["reason"].strip() or m["err"].strip())
        return
    if msg.startswith("Failed to verify access token"):
        _, _, why = msg.partition(": ")
        classify(event, "user-login", "failure", reason=why.strip() or "access token not verified")
        return
    if msg.startswith("Token ") and (m := _TOKEN_DENIED.match(msg)) is not None:
        room = m["room"]
        node, domain, nick = split_jid(room)
        event.setdefault("uc", {})["conference"] = {"name": f"{node}@{domain}" if node else domain,
                                                    "participant": nick}
        classify(event, "conference-join", "failure", reason="token not allowed to join this room")
        return
    if msg == "External component successfully authenticated":
        host = vendor.get("host")
        if isinstance(host, str):
            event["user"] = {"name": host}
        classify(event, "user-login", "success", types=("start", "allowed"))
        return
    if msg.startswith("Stream encrypted") and (m := _ENCRYPTED.match(msg)) is not None:
        tls: dict[str, Any] = {"established": True}
        if m["proto"]:
            proto = m["proto"]
            tls["version"] = proto[4:] if proto.startswith("TLSv") else proto
            vendor["cipher"] = m["cipher"]
        event["tls"] = tls
        classify(event, "tls-handshake", "success")
        return
    if msg.startswith("New BOSH session") and (m := _BOSH_NEW.match(msg)) is not None:
        vendor["sid"] = m["sid"]
        event["network"]["application"] = "bosh"
        classify(event, "connection", "success", types=("connection", "start"))
        return
    if msg.startswith("Hello and welcome") and (m := _WELCOME.match(msg)) is not None:
        event.setdefault("observer", {})["version"] = m["version"]
        classify(event, "system-start")
        return
    if msg.startswith("Shutting down: "):
        classify(event, "system-stop", reason=msg[len("Shutting down: "):].strip() or None)
        return
    if msg.startswith("Error creating context") or msg.startswith("Error creating contexts"):
        classify(event, "certificate", "failure", reason=msg.partition(": ")[2].strip() or None)
        return
    outcome = "failure" if level == "error" else None
    classify(event, "diagnostic", outcome, types=("error",) if level == "error" else ("info",))
