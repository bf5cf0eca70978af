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

Readers: each fills the `Body` of one family from the message text.
"""

from __future__ import annotations

import re
from datetime import tzinfo
from typing import TYPE_CHECKING

from ucsiem.parsing import to_port

from .values import ip_or_address

if TYPE_CHECKING:
    from .body import Body

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
SSH_MNEMONICS = frozenset(("SSH2_USERAUTH", "SSH2_SESSION", "SSH2_CLOSE"))


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


def _source(body: Body, text: str) -> None:
    body.source_ip, body.source_address = ip_or_address(text)


def read_sec_login(body: Body, tz: tzinfo) -> None:
    """LOGIN_SUCCESS / LOGIN_FAILED / QUIET_MODE_ON: user, source, local port, reason."""
    text, mnemonic = body.message, body.mnemonic
    src_at = text.rfind("] [Source: ")
    user_at = text.find("[user: ")
    fields: dict[str, str] = {}
    if src_at >= 0:
        fields = _brackets(text[src_at + 1:])
        if 0 <= user_at < src_at:
            fields["user"] = text[user_at + 7:src_at].strip()
    elif user_at >= 0:  # no [Source: ...]: every bracket is the device's
        fields = _brackets(text[user_at:])
    body.user = fields.get("user") or None
    if src := fields.get("Source"):
        _source(body, src)
    body.destination_port = to_port(fields.get("localport"), body.tags)
    if acl := fields.get("ACL"):
        body.vendor["acl"] = acl
    at = text.rfind(" at ")
    if at >= 0 and text.rfind("]") < at:
        body.vendor["login_time"] = text[at + 4:].strip()
    if mnemonic == "LOGIN_FAILED" or (mnemonic != "LOGIN_SUCCESS" and mnemonic.startswith("QUIET_MODE_ON")):
        body.reason = fields.get("Reason")


def read_config(body: Body, tz: tzinfo) -> None:
    """SYS-5-CONFIG_I: `Configured from <source> by <user> on <line> (<ip>)`; other CONFIG_* by name."""
    text = body.message
    m = _CONFIGURED.match(text)
    if m is None:
        return
    body.vendor["config_source"] = m.group(1)
    who = text[m.end():].strip()
    tail = _TRAILING_IP.search(who, max(0, len(who) - 50))
    if tail is not None and tail.end() == len(who):
        _source(body, tail.group(1))
        who = who[:tail.start()].strip()
    user, sep, line = who.rpartition(" on ")
    if not sep:
        user, line = ("", who) if _LINE_NAME.fullmatch(who) else (who, "")
    body.user = user or None
    if line:
        body.vendor["line"] = line


def read_logged_command(body: Body, tz: tzinfo) -> None:
    """PARSER-5-CFGLOG_LOGGEDCMD (`archive log config` with `logging enable`): who ran which command."""
    text = body.message
    if not text.startswith("User:"):
        return
    cut = text.find(" logged command:")
    if cut < 0:
        return
    who = text[5:cut].strip()
    if _LINE_NAME.fullmatch(who):  # no user name (no login configured on the line): IOS logs the line
        body.vendor["line"] = who
    elif who:
        body.user = who
    body.command_line = text[cut + 16:].strip()


def read_logout(body: Body, tz: tzinfo) -> None:
    """SYS-6-LOGOUT: `User <u> has exited tty session <n>(<ip>)`."""
    text = body.message
    cut = text.rfind(" has exited tty session ")
    if not text.startswith("User ") or cut < 0:
        return
    body.user = text[5:cut].strip() or None
    rest = text[cut + 24:]
    paren = rest.find("(")
    if paren > 0 and rest.endswith(")"):
        body.vendor["tty"] = rest[:paren]
        _source(body, rest[paren + 1:-1])


def read_tty_expired(body: Body, tz: tzinfo) -> None:
    """SYS-6-TTY_EXPIRE_TIMER: `(exec timer expired, tty 1 (<ip>)), user <u>`."""
    text = body.message
    m = _EXPIRE.match(text)
    if m is None:
        return
    body.reason = m.group(1)
    body.vendor["tty"] = m.group(2)
    if m.group(3):
        _source(body, m.group(3))
    body.user = text[m.end():].strip() or None


def read_ssh(body: Body, tz: tzinfo) -> None:
    """SSH-5-SSH2_SESSION / SSH2_USERAUTH / SSH2_CLOSE; `status` is the outcome the last word states."""
    text, mnemonic = body.message, body.mnemonic
    if mnemonic not in SSH_MNEMONICS:
        return
    body.status = SSH_OUTCOMES.get(text.rsplit(" ", 1)[-1].lower())
    addr_text = ""
    if mnemonic == "SSH2_USERAUTH":
        cut = text.rfind("' authentication for SSH2 Session from ")
        if text.startswith("User '") and cut >= 0:
            body.user = text[6:cut] or None
            addr_text = text[cut + 39:]
    elif mnemonic == "SSH2_SESSION":
        if text.startswith("SSH2 Session request from "):
            addr_text = text[26:]
    elif text.startswith("SSH2 Session from "):  # SSH2_CLOSE
        addr_text = text[18:]
        crypto = text.rfind("' using crypto cipher '")
        user_at = text.find(" for user '")
        if 0 <= user_at < crypto:
            body.user = text[user_at + 11:crypto] or None
    if (m := _SSH_FROM.match(addr_text)) is not None:
        _source(body, m.group(1))
        body.vendor["tty"] = m.group(2)
    crypto_at = text.rfind(" using crypto cipher '")
    if crypto_at >= 0 and (c := _CRYPTO.match(text, crypto_at)) is not None:
        body.vendor["cipher"], body.vendor["hmac"] = c.group(1), c.group(2)


def read_acl(body: Body, tz: tzinfo) -> None:
    """SEC-6-IPACCESSLOG*: an access-list entry with `log` matched a packet; `status` denied|permitted."""
    text = body.message
    head = _ACL_HEAD.match(text)
    if head is None:
        return
    body.vendor["acl"] = head.group(1)
    body.status = head.group(2)
    m = _ACL.match(text)
    if m is None:
        return
    _, _, proto, sip, sport, dip, dport, packets = m.groups()
    body.transport = proto.lower()
    body.source_ip, body.source_address = ip_or_address(sip)
    body.destination_ip, body.destination_address = ip_or_address(dip)
    body.source_port = to_port(sport, body.tags)
    body.destination_port = to_port(dport, body.tags)
    body.vendor["packets"] = int(packets)
