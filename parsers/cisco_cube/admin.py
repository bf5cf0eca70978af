"""Management-plane messages: logins (SEC_LOGIN, SSH), logouts, configuration changes, ACL log lines.

User names on failed logins are typed by whoever connects, so fields the device writes after them
(`[Source: ...]`, `' authentication for SSH2 Session from ...`) are located from the right: a name
crafted to look like a later field cannot move the address read. Texts follow published IOS output:

    Login failed [user: u] [Source: 192.0.2.1] [localport: 22] [Reason: Login Authentication Failed] at <time>
    Login Success [user: u] [Source: 192.0.2.1] [localport: 22] at 12:56:39 NZST Wed Apr 20 2016
    Still timeleft for watching failures is 47 secs, [user: u] [Source: 192.0.2.1] [localport: 22] [Reason: ...]
      [ACL: sl_def_acl] at <time>
    Configured from console by admin on vty0 (192.0.2.1)     |  Configured from console by console
    User:admin  logged command:interface GigabitEthernet0/0/1
    User admin has exited tty session 1(192.0.2.1)
    (exec timer expired, tty 1 (192.0.2.1)), user admin
    SSH2 Session request from 192.0.2.1 (tty = 0) using crypto cipher 'aes256-ctr', hmac 'hmac-sha1' Succeeded
    User 'u' authentication for SSH2 Session from 192.0.2.1 (tty = 0) using crypto cipher '...', hmac '...' Succeeded
    SSH2 Session from 192.0.2.1 (tty = 0) for user 'u' using crypto cipher '...', hmac '...' closed
    list 101 denied tcp 192.0.2.1(49152) -> 198.51.100.1(23), 1 packet
"""

from __future__ import annotations

import re
from typing import Any

from ucsiem.parsing import ParsedEvent, canonical_ip

from .kinds import apply

_AUTH_SESSION = ("session",)
_LINE_NAME = re.compile(r"(?:console|con\d{0,3}|vty\d{1,4}|tty\d{1,4}|aux\d{0,3})")
_CONFIGURED = re.compile(r"Configured from (\S{1,64}) by ")
_TRAILING_IP = re.compile(r" ?\(([0-9A-Fa-f:.]{2,45})\)")
_EXPIRE = re.compile(r"\(([^,()]{1,64}), tty (\d{1,5})(?: \(([0-9A-Fa-f:.]{2,45})\))?\), user ")
_ACL = re.compile(r"list (\S{1,64}) (denied|permitted) (\S{1,16}) ([0-9A-Fa-f:.]{2,45})\((\d{1,5})\) -> "
                  r"([0-9A-Fa-f:.]{2,45})\((\d{1,5})\), (\d{1,10}) packets?")
_ACL_HEAD = re.compile(r"list (\S{1,64}) (denied|permitted) ")
_SSH_FROM = re.compile(r"([0-9A-Fa-f:.]{2,45}) \(tty = (\d{1,5})\)")
_CRYPTO = re.compile(r" using crypto cipher '([^']{0,64})', hmac '([^']{0,64})'")
SSH_OUTCOMES = {"succeeded": "success", "failed": "failure"}


def set_ip(endpoint: dict[str, Any], text: str) -> None:
    """`ip` when the text is an address, else keep it as written in `address` (e.g. `LOCAL`)."""
    ip = canonical_ip(text)
    if ip is not None:
        endpoint["ip"] = ip
    elif text:
        endpoint["address"] = text


def _brackets(text: str) -> dict[str, str]:
    """`[key: value] [key: value]` (device-written part only) -> {key: value}."""
    out: dict[str, str] = {}
    pos = 0
    for _ in range(16):
        start = text.find("[", pos)
        end = text.find("]", start + 1) if start >= 0 else -1
        if end < 0:
            break
        key, _, value = text[start + 1:end].partition(":")
        out.setdefault(key.strip(), value.strip())
        pos = end + 1
    return out


def sec_login(mnemonic: str, text: str, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """LOGIN_SUCCESS / LOGIN_FAILED / QUIET_MODE_ON: user, source, local port, reason."""
    src_at = text.rfind("] [Source: ")
    user_at = text.find("[user: ")
    fields: dict[str, str] = {}
    if src_at >= 0:
        fields = _brackets(text[src_at + 1:])
        if 0 <= user_at < src_at:
            fields["user"] = text[user_at + 7:src_at].strip()
    elif user_at >= 0:  # no [Source: ...]: every bracket is the device's
        fields = _brackets(text[user_at:])
    if user := fields.get("user"):
        event["user"] = {"name": user}
    source: dict[str, Any] = {}
    if src := fields.get("Source"):
        set_ip(source, src)
    if source:
        event["source"] = source
    if (port := fields.get("localport", "")).isdecimal() and int(port) <= 65535:
        event["destination"] = {"port": int(port)}
    reason = fields.get("Reason")
    if acl := fields.get("ACL"):
        vendor["acl"] = acl
    at = text.rfind(" at ")
    if at >= 0 and text.rfind("]") < at:
        vendor["login_time"] = text[at + 4:].strip()
    if mnemonic == "LOGIN_SUCCESS":
        apply(event, "admin-login", "success", extra_categories=_AUTH_SESSION)
    elif mnemonic == "LOGIN_FAILED":
        apply(event, "admin-login", "failure", types=("start", "denied"), reason=reason)
    elif mnemonic.startswith("QUIET_MODE_ON"):
        apply(event, "flood-block", "success", types=("denied", "start"), extra_categories=("authentication",),
              reason=reason)
    elif mnemonic.startswith("QUIET_MODE_OFF"):
        apply(event, "flood-block", "success", types=("end",), extra_categories=("authentication",))
    else:
        apply(event, "diagnostic")


def config_change(mnemonic: str, text: str, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """SYS-5-CONFIG_I: `Configured from <source> by <user> on <line> (<ip>)`; other CONFIG_* by name."""
    apply(event, "config-change", "success")
    m = _CONFIGURED.match(text)
    if m is None:
        return
    vendor["config_source"] = m.group(1)
    who = text[m.end():].strip()
    tail = _TRAILING_IP.search(who, max(0, len(who) - 50))
    if tail is not None and tail.end() == len(who):
        source: dict[str, Any] = {}
        set_ip(source, tail.group(1))
        event["source"] = source
        who = who[:tail.start()].strip()
    user, sep, line = who.rpartition(" on ")
    if not sep:
        user, line = ("", who) if _LINE_NAME.fullmatch(who) else (who, "")
    if user:
        event["user"] = {"name": user}
    if line:
        vendor["line"] = line


def logged_command(text: str, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """PARSER-5-CFGLOG_LOGGEDCMD (`archive log config` with `logging enable`): who ran which command."""
    apply(event, "config-change", "success")
    if not text.startswith("User:"):
        return
    cut = text.find(" logged command:")
    if cut < 0:
        return
    who = text[5:cut].strip()
    if _LINE_NAME.fullmatch(who):  # no user name (no login configured on the line): IOS logs the line
        vendor["line"] = who
    elif who:
        event["user"] = {"name": who}
    event["process"] = {"command_line": text[cut + 16:].strip()}


def logout(text: str, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """SYS-6-LOGOUT: `User <u> has exited tty session <n>(<ip>)`."""
    apply(event, "admin-logout", "success", extra_categories=_AUTH_SESSION)
    cut = text.rfind(" has exited tty session ")
    if not text.startswith("User ") or cut < 0:
        return
    if user := text[5:cut].strip():
        event["user"] = {"name": user}
    rest = text[cut + 24:]
    paren = rest.find("(")
    if paren > 0 and rest.endswith(")"):
        vendor["tty"] = rest[:paren]
        source: dict[str, Any] = {}
        set_ip(source, rest[paren + 1:-1])
        event["source"] = source


def tty_expired(text: str, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """SYS-6-TTY_EXPIRE_TIMER: `(exec timer expired, tty 1 (<ip>)), user <u>`."""
    m = _EXPIRE.match(text)
    apply(event, "admin-logout", "success", extra_categories=_AUTH_SESSION,
          reason=m.group(1) if m is not None else None)
    if m is None:
        return
    vendor["tty"] = m.group(2)
    if m.group(3):
        source: dict[str, Any] = {}
        set_ip(source, m.group(3))
        event["source"] = source
    if user := text[m.end():].strip():
        event["user"] = {"name": user}


def ssh(mnemonic: str, text: str, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """SSH-5-SSH2_SESSION / SSH2_USERAUTH / SSH2_CLOSE."""
    event["network"] = {"protocol": "ssh"}
    last = text.rsplit(" ", 1)[-1].lower()
    outcome = SSH_OUTCOMES.get(last)
    addr_text = ""
    if mnemonic == "SSH2_USERAUTH":
        cut = text.rfind("' authentication for SSH2 Session from ")
        if text.startswith("User '") and cut >= 0:
            if user := text[6:cut]:
                event["user"] = {"name": user}
            addr_text = text[cut + 39:]
        apply(event, "admin-login", outcome, types=("start",) if outcome != "failure" else ("start", "denied"))
    elif mnemonic == "SSH2_SESSION":
        if text.startswith("SSH2 Session request from "):
            addr_text = text[26:]
        apply(event, "connection", outcome, types=("connection", "start"))
    elif mnemonic == "SSH2_CLOSE":
        if text.startswith("SSH2 Session from "):
            addr_text = text[18:]
            crypto = text.rfind("' using crypto cipher '")
            user_at = text.find(" for user '")
            if 0 <= user_at < crypto and (user := text[user_at + 11:crypto]):
                event["user"] = {"name": user}
        apply(event, "admin-logout", "success", extra_categories=_AUTH_SESSION)
    else:
        apply(event, "diagnostic")
        return
    if (m := _SSH_FROM.match(addr_text)) is not None:
        source: dict[str, Any] = {}
        set_ip(source, m.group(1))
        event["source"] = source
        vendor["tty"] = m.group(2)
    crypto_at = text.rfind(" using crypto cipher '")
    if crypto_at >= 0 and (c := _CRYPTO.match(text, crypto_at)) is not None:
        vendor["cipher"], vendor["hmac"] = c.group(1), c.group(2)


def acl_log(text: str, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """SEC-6-IPACCESSLOG*: an access-list entry with `log` matched a packet."""
    head = _ACL_HEAD.match(text)
    if head is None:
        apply(event, "diagnostic")
        return
    vendor["acl"] = head.group(1)
    if head.group(2) == "denied":
        apply(event, "deny-list", "success", types=("denied",))
    else:
        apply(event, "connection", "success", types=("connection", "allowed"))
    m = _ACL.match(text)
    if m is None:
        return
    _, _, proto, sip, sport, dip, dport, packets = m.groups()
    event["network"] = {"transport": proto.lower()}
    for side, ip, port in (("source", sip, sport), ("destination", dip, dport)):
        endpoint: dict[str, Any] = {}
        set_ip(endpoint, ip)
        if int(port) <= 65535:
            endpoint["port"] = int(port)
        event[side] = endpoint
    vendor["packets"] = int(packets)
