"""Reader of Kamailio/OpenSIPS messages: module and core messages, default-script lines, xlog payloads.

The texts matched here are the products' own format strings (module sources, the default kamailio.cfg);
README.md lists them with their action. A recognised message fills the values of the `Body` and names
its family (`body.family`, turned into a Kind by `classify.py`); an xlog line states its own event.
Distinctive texts are recognised whatever module name precedes
them (OpenSIPS prints `LM_GEN1` messages such as pike's without any prefix). All patterns are anchored
and bounded; attacker-controlled parts (URIs, user names) are only sliced.
"""

from __future__ import annotations

import re

from ucsiem.parsing.helpers import to_port

from .body import Body
from .options import DEFAULT, XlogOptions
from .values import PROTO_NUMBERS, set_host_port, set_ip, set_transport, uri_user
from .xlogkv import action_word, apply, is_payload, leading_word, scan

_PIKE_BLOCK = re.compile(r"PIKE - BLOCKing ip ([0-9A-Fa-f:.]{2,45}), node=(\S{1,40})")
_PIKE_UNBLOCK = re.compile(r"PIKE - UNBLOCKing node (\S{1,40})")
# "<METHOD> from <from uri> (IP:<ip>:<port>)": the default kamailio.cfg's `$rm from $fu (IP:$si:$sp)`
_TRACE = re.compile(r"([A-Za-z][A-Za-z0-9_-]{0,31}) from (\S{1,2048}) \(IP:([^()\s]{1,64})\)[ \t]*$")
_MALFORMED = re.compile(r"Malformed SIP (?:request|message) from ([^\s]{1,64})[ \t]*$")
_PARSE_FAILED = re.compile(r"core parsing of SIP message failed \(([^()\s/]{1,64})/(\d{1,2})\)")
_TLS_NEW = re.compile(r"(?:tls_(?:accept|connect): )?new connection (from|to) (\S{1,64}) using (\S{1,32}) (\S{1,128})")
_TLS_ADDR = re.compile(r"(src|dst) addr: (\S{1,64})$")
_TLS_NEW_FAILED = re.compile(r"New TLS connection (from|to) (\S{1,64}) failed to (accept|connect)")
_NO_USER = re.compile(r"(?:get_ha1\(\): )?no result for user '([^'\s]{1,512})'")
_REALM = re.compile(r"Credentials with realm '([^'\s]{0,256})' not found")
_TOO_MANY = re.compile(r"too many contacts for AOR <([^<>\s]{1,1024})>(?:, max=(\d{1,6}))?")
_EXPIRED = re.compile(r"Binding '([^'\s]{0,1024})','([^'\s]{0,2048})' has expired")
_VERSION = re.compile(r"version: (kamailio|opensips) (\S{1,64})")
_TRAILING_ADDR = re.compile(r"\[([0-9A-Fa-f:.]{2,45}):(\d{1,5})\]$")

_AUTH_MODULES = frozenset(("auth", "auth_db", "auth_radius", "auth_aaa", "auth_diameter", "auth_ephemeral",
                           "auth_xkeys", "auth_web3", "ims_auth", "uac_auth"))
_REGISTRAR_MODULES = frozenset(("registrar", "usrloc", "mid_registrar", "p_usrloc", "ims_registrar_scscf",
                                "ims_registrar_pcscf", "ims_usrloc_scscf", "ims_usrloc_pcscf"))
_CFG_FUNCTIONS = frozenset(("yyparse", "yyerror", "yyerror_at", "fix_actions", "fix_expr", "fix_rls",
                            "fix_rl", "fix_cmd", "fix_switch", "fix_match_rve", "parse_cfg", "load_module",
                            "register_module", "fix_all_socket_lists", "check_rls"))
_CONNECTION_PREFIXES = ("tcp", "tls", "udp", "sctp", "ws_", "proto_", "msg_send", "send_", "forward_request")


def _trace(d: Body, m: re.Match[str]) -> None:
    method, uri, address = m.groups()
    d.sip["method"] = method.upper()
    if uri.lower() not in ("<null>", "<nil>"):
        d.sip["from_uri"] = uri
        uri_user(d.source, uri)
        if name := d.source.get("user", {}).get("name"):
            d.user["name"] = name
    if not set_host_port(d.source, address, d.tags):
        d.source["address"] = address


def script(d: Body, msg: str, options: XlogOptions = DEFAULT) -> bool:
    """An xlog() line: a key=value payload, with or without a leading event word, or a default-cfg message.
    False when it is free text."""
    if "=" in msg:
        pairs, free = scan(msg)
        if is_payload(pairs, free):
            apply(d, pairs, options.handlers)
            return True
        word = leading_word(msg, pairs, free)
        if word is not None:
            _event_word(d, word, options)
            apply(d, pairs, options.handlers)
            return True
    text = msg[7:] if msg.startswith("ALERT: ") else msg
    if text.startswith("pike blocking "):
        if (m := _TRACE.match(text, 14)) is not None:
            _trace(d, m)
            d.family = "flood-block"
            return True
    elif text.startswith("request from blocked IP - "):
        if (m := _TRACE.match(text, 26)) is not None:
            _trace(d, m)
            d.family = "blocked-ip"
            return True
    elif text.startswith("Malformed SIP "):
        if (m := _MALFORMED.match(text)) is not None:
            if not set_host_port(d.source, m.group(1), d.tags):
                d.source["address"] = m.group(1)
            d.family = "malformed"
            d.reason = "malformed SIP message"
            return True
    elif (m := _TRACE.match(text)) is not None:
        _trace(d, m)
        d.family = "sip-request"
        return True
    return False


def _pike(d: Body, msg: str) -> bool:
    if (m := _PIKE_BLOCK.match(msg)) is not None:
        set_ip(d.source, m.group(1))
        d.vendor["node"] = m.group(2)
        d.family = "flood-block"
        return True
    if (m := _PIKE_UNBLOCK.match(msg)) is not None:
        d.vendor["node"] = m.group(1)
        d.reason = "unblocked"
        d.family = "flood-unblock"
        return True
    return False


def _openssl_reason(text: str, d: Body) -> None:
    err = text.strip()
    if err.endswith(")") and (at := err.rfind(" (sni: ")) > 0:
        sni = err[at + 7:-1].strip()
        err = err[:at]
        if sni and sni != "unknown":
            d.tls.setdefault("client", {})["server_name"] = sni
    d.vendor["ssl_error"] = err
    d.reason = err.rsplit(":", 1)[-1].strip() or err


def _tls(d: Body, msg: str) -> bool:
    if msg.startswith(("TLS accept:", "TLS connect:")):
        accept = msg.startswith("TLS accept:")
        d.direction = "inbound" if accept else "outbound"
        _openssl_reason(msg[11 if accept else 12:], d)
        d.family = "tls-failure"
        return True
    if msg.startswith("TLS errstack:"):
        _openssl_reason(msg[13:], d)
        d.family = "tls-failure"
        return True
    if (m := _TLS_NEW_FAILED.match(msg)) is not None:
        side, address, what = m.groups()
        set_host_port(d.source if side == "from" else d.destination, address, d.tags)
        d.direction = "inbound" if what == "accept" else "outbound"
        d.reason = f"failed to {what}"
        d.family = "tls-failure"
        return True
    if (m := _TLS_NEW.match(msg)) is not None:
        side, address, version, cipher = m.groups()
        set_host_port(d.source if side == "from" else d.destination, address, d.tags)
        d.direction = "inbound" if side == "from" else "outbound"
        if version.startswith("TLSv"):
            d.tls["version"] = version[4:]
        d.vendor["tls_protocol"] = version
        d.vendor["cipher"] = cipher
        d.family = "tls-established"
        return True
    if (m := _TLS_ADDR.match(msg)) is not None:
        set_host_port(d.source if m.group(1) == "src" else d.destination, m.group(2), d.tags)
        d.family = "tls-failure"
        return True
    if msg.startswith("verification failure: "):
        d.reason = msg[22:].strip()
        d.family = "tls-failure"
        return True
    low = msg.lower()
    if low.startswith("tls") and ("unable to load certificate" in low or "unable to load private key" in low):
        # the TLS domain's own certificate or key: no handshake can happen with it
        d.reason = msg[:256]
        d.family = "certificate-failure"
        return True
    if "certificate verification failed" in low:
        d.reason = "certificate verification failed"
        d.family = "tls-failure"
        return True
    if "protocol level error" in low or "pre-tls" in low or d.is_error:
        d.reason = msg[:256]
        d.family = "tls-failure"
        return True
    return False


def _auth(d: Body, msg: str) -> bool:
    if (m := _NO_USER.match(msg)) is not None:
        name, _, domain = m.group(1).partition("@")
        if name:
            d.user["name"] = name
        if domain:
            d.user["domain"] = domain
        d.reason = "user not found"
        d.family = "auth-failure"
        return True
    if d.module.lower() not in _AUTH_MODULES:
        return False
    if msg.startswith("Authorization is OK"):
        d.family = "auth-success"
    elif msg.startswith(("Authorization failed", "Invalid nonce value", "Credentials are not filled properly",
                         "Nonce reused", "nonce reused")):
        d.reason = msg.split(" (", 1)[0][:128]
        d.family = "auth-failure"
    elif (m := _REALM.match(msg)) is not None:
        if m.group(1):
            d.user["domain"] = m.group(1)
        d.reason = "no credentials"
        d.family = "auth-no-credentials"
    elif "database" in msg.lower() and d.is_error:
        d.reason = msg[:256]
        d.family = "database-failure"
    elif d.is_error:
        d.reason = msg[:256]
        d.family = "auth-failure"
    else:
        d.auth_module = True  # an auth module's message: authentication, whatever else it turns out to be
        return False
    return True


def _registrar(d: Body, msg: str) -> bool:
    if (m := _TOO_MANY.match(msg)) is not None:
        d.registration["aor"] = m.group(1)
        uri_user(d.source, m.group(1))
        if m.group(2):
            d.vendor["max_contacts"] = int(m.group(2))
        d.reason = "too many contacts"
        d.family = "register-failure"
        return True
    if (m := _EXPIRED.match(msg)) is not None:
        aor, contact = m.groups()
        if aor:
            d.registration["aor"] = aor
            uri_user(d.source, aor)
        if contact:
            d.registration["contact"] = contact
        d.reason = "expired"
        d.family = "binding-expired"
        return True
    module = d.module.lower()
    if module in _REGISTRAR_MODULES and d.is_error:
        d.reason = msg[:256]
        if "usrloc" in module:  # the location store: its errors are storage failures
            if "db" not in msg.lower() and "db" not in (d.function or ""):
                return False
            d.family = "database-failure"
        else:
            d.family = "register-failure"
        return True
    return False


def _config(d: Body, msg: str) -> bool:
    """Loading the configuration failed: cfg parser, fixups of script parameters, module loading."""
    func = d.function or ""
    low = msg.lower()
    if (func in _CFG_FUNCTIONS or func.endswith("fixup") or func.startswith("fixup_") or "cfg. parser" in low
            or "at cfg line" in low or "config file" in low):
        d.reason = msg[:256]
        d.family = "config-failure"
        return True
    return False


def _core(d: Body, msg: str) -> bool:
    func = d.function or ""
    if (m := _PARSE_FAILED.match(msg)) is not None:
        set_host_port(d.source, m.group(1), d.tags)
        proto = PROTO_NUMBERS.get(m.group(2))
        if proto is not None:
            set_transport(d.network, d.vendor, proto)
        d.reason = "SIP parsing failed"
        d.family = "parse-failure"
        return True
    if (m := _VERSION.match(msg)) is not None:
        d.version = m.group(2)
        d.family = "version"
        return True
    if not d.is_error:
        return False
    module = d.module.lower()
    if func.startswith(_CONNECTION_PREFIXES) or "connect" in func or module.startswith("proto_"):
        if (m := _TRAILING_ADDR.search(msg)) is not None:
            set_ip(d.destination, m.group(1))
            if (p := to_port(m.group(2), d.tags)) is not None:
                d.destination["port"] = p
        d.reason = msg[:256]
        d.family = "connection-failure"
        return True
    return False


def _event_word(d: Body, word: str, options: XlogOptions) -> None:
    """The operator's event word: its configured action and outcome, else an action of the vocabulary
    written as a word (`SIP_AUTH`), else only `event.code`."""
    code = word.rstrip(":")
    d.code = code
    spec = options.word(code)
    if spec is not None:
        d.action = spec.action
        if spec.outcome is not None:
            d.outcome = spec.outcome
    elif (action := action_word(code)) is not None:
        d.action = action


def read_message(d: Body, options: XlogOptions = DEFAULT) -> bool:
    """Read the message into the body; False when nothing is recognised (the line stays `diagnostic`)."""
    msg = d.message
    module = d.module.lower()
    if msg.startswith("PIKE - ") and _pike(d, msg):
        return True
    if ("tls" in module or msg.startswith(("TLS accept:", "TLS connect:", "New TLS connection"))) \
            and _tls(d, msg):
        return True
    if (module in _AUTH_MODULES or msg.startswith(("no result for user", "get_ha1(): no result"))) \
            and _auth(d, msg):
        return True
    if (module in _REGISTRAR_MODULES or msg.startswith(("too many contacts", "Binding '"))) \
            and _registrar(d, msg):
        return True
    if module.startswith("db_") and d.is_error:
        d.reason = msg[:256]
        d.family = "database-failure"
        return True
    if d.is_error and _config(d, msg):
        return True
    if (module in ("core", "") or module.startswith("proto_")) and _core(d, msg):
        return True
    return module in ("script", "xlog", "") and script(d, msg, options)
