"""Free-text syslog messages: `[S=n] [SID=..|BID=..] (logger)(n) <text> [Time:DD-MM@hh:mm:ss.mmm]`.

Families: SIP message traces (`---- Incoming/Outgoing SIP Message ...`) and the continuation packets
of long SIP messages, management `Activity Log:` lines, `Abnormal Disconnect`, the board's periodic
`Packets-Loss report`, `RTP packets reorder`; every other line is a `diagnostic` event keeping its
text in `message`. Attacker-controlled text (SIP headers, user names) is only ever sliced with str
methods or matched by anchored patterns without nested quantifiers.
"""

from __future__ import annotations

import re
from typing import Any

from ucsiem.parsing import ParsedEvent, ParseError, canonical_ip

_IDS = re.compile(r"\s*\[(SID|BID)\s?([=:])\s?([0-9A-Za-z:]{1,64})\]\s*")
_LOGGER = re.compile(r"\(\s*([A-Za-z_][\w.-]{0,63})\s*\)\((\d{1,12})\)\s*")
_MSGNO = re.compile(r"\(N\s+(\d{1,12})\)\s*")
_TRAILER = re.compile(r"\[(Code|CID):([^\[\]\s]{1,40})\]")
_SIP_HEAD = re.compile(
    r"-{2,8} ?(Incoming|Outgoing) SIP Message (?:from|to) ([0-9.]{7,15}|\[[0-9A-Fa-f:.]{2,45}\]):(\d{1,5}) "
    r"(?:to|from) SIPInterface #(\d{1,6}) \(([^()]{0,64})\) ([A-Za-z]{2,5})"
    r"(?: TO\(#(\d{1,9})\))?(?: SocketID\((\d{1,9})\))? ?-{0,8}"
)
# Line breaks inside a SIP message as receivers write them: rsyslog's #012 (and #015), the literal
# two-character escapes, or raw CR.
_SIP_BREAK = re.compile(r"#015#012|#012|#015|\\r\\n|\\n|\\r|\r\n|\n|\r")
_REQUEST_LINE = re.compile(r"([A-Z][A-Z0-9_-]{1,31}) (\S{1,2048}) SIP/2\.0")
_STATUS_LINE = re.compile(r"SIP/2\.0 (\d{3})(?: (.{0,256}))?")
_FRAGMENT_START = re.compile(r"(?:[a-z]=|SIP/2\.0 |[A-Z][A-Za-z-]{0,40}: |[A-Z]{3,16} \S+ SIP/2\.0)")
_SESSION = re.compile(r"Session: ([A-Za-z0-9_./-]{1,32})(?: \(([^()]{0,64})\))?\.?\s*$")
_AT_ADDRESS = re.compile(r" at (\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]{2,45}\]):(\d{1,5})")
_ROW_OP = re.compile(r"(add|added|remove|removed|delete|deleted|modify|modified|edit|edited|insert|inserted) "
                     r"(?:line|row|index)\s*#?(\d{1,9})?", re.IGNORECASE)
_PL_BUCKET = re.compile(r"\[([^\[\]=]{1,32})\]\s*=\s*(\d{1,12})")
_KV = re.compile(r"([A-Za-z][A-Za-z0-9_]{0,31})=([^\s=\[\]]{1,64})")
_CAUSE = re.compile(r"cause:\s*(\d{1,4})")
_REASON = re.compile(r"reason:\s*(\S{1,80})")
_SLUG = re.compile(r"[^a-z0-9]+")

MAX_SIP_LINES = 80
SIP_COMPACT = {"i": "call-id", "f": "from", "t": "to", "m": "contact"}

# Activity Log wording -> (action, category, type, outcome). The manuals list these activities:
# parameter changes, table row add/remove, CLI commands, file loads, software update, reset, burn,
# unauthorised page access, login and logout, file upload/delete, lock/unlock.
_ACTIVITY_RULES: tuple[tuple[tuple[str, ...], str, list[str], list[str], str | None], ...] = (
    (("unsuccessful login", "unsuccessful user login", "failed login", "login failed", "login failure",
      "invalid login", "authentication failed"),
     "admin-login", ["authentication"], ["start"], "failure"),
    (("successful login", "successful user login", "logged in", "user login"),
     "admin-login", ["authentication"], ["start"], "success"),
    (("logout", "logged out", "log out", "logoff", "session expired", "session timeout"),
     "admin-logout", ["authentication"], ["end"], "success"),
    (("unauthorized", "unauthorised", "not authorized", "access denied"),
     "admin-action", ["web"], ["access", "denied"], "failure"),
    (("software", "firmware", "reset", "restart", "reboot", "switchover"),
     "admin-action", ["host"], ["change"], "success"),
    (("burn", "configuration file", "ini file", "auxiliary file", "aux file", "configuration package",
      "restore", "load"), "config-change", ["configuration"], ["change"], "success"),  # "load" covers upload
    (("delete", "lock", "backup", "command"), "admin-action", ["host"], ["change"], "success"),
)


def read_ids(text: str, pos: int, vendor: dict[str, Any], call: dict[str, Any]) -> int:
    """`[SID=mac:resets:session]` (call id), `[BID=mac:resets]` (board), old `[SID:number]`."""
    m = _IDS.match(text, pos)
    if m is None:
        while text[pos:pos + 1] in (" ", "\t"):
            pos += 1
        return pos
    kind, _, value = m.groups()
    if kind == "SID":
        call["id"] = value
    else:
        vendor["board_id"] = value
    return m.end()


def strip_trailers(body: str, vendor: dict[str, Any]) -> str:
    """Pull `[Code:0x600b] [CID:633]` off the end of the text (before the device time)."""
    for _ in range(4):
        body = body.rstrip()
        if not body.endswith("]"):
            break
        at = body.rfind("[")
        m = _TRAILER.fullmatch(body, at) if at >= 0 else None
        if m is None:
            break
        vendor[m.group(1).lower()] = m.group(2)
        body = body[:at]
    return body.rstrip()


def _addr(text: str, what: str) -> str:
    address = canonical_ip(text)
    if address is None:
        raise ParseError("bad_field", f"{what} is not an IP address: {text[:48]!r}")
    return address


def _uri_and_tag(value: str) -> tuple[str, str | None]:
    """`"Bob" <sip:bob@example.com>;tag=abc` -> ("sip:bob@example.com", "abc")."""
    lt = value.find("<")
    gt = value.find(">", lt + 1) if lt >= 0 else -1
    if lt >= 0 and gt > lt:
        uri, params = value[lt + 1:gt], value[gt + 1:]
    else:
        uri, _, params = value.partition(";")
        params = ";" + params
    tag = None
    at = params.find(";tag=")
    if at >= 0:
        tag = params[at + 5:].split(";", 1)[0].strip() or None
    return uri.strip(), tag


def sip_details(content: str, sip: dict[str, Any], fragment: bool) -> None:
    """Start line and a few headers of a (possibly partial) SIP message."""
    lines = _SIP_BREAK.split(content, MAX_SIP_LINES)
    first = True
    for raw in lines[:MAX_SIP_LINES]:
        line = raw.strip()
        if not line:
            if not first:
                break  # end of headers: the body (SDP) follows
            continue
        if first:
            first = False
            if (m := _REQUEST_LINE.fullmatch(line)) is not None:
                sip["method"] = m.group(1)
                sip["request_uri"] = m.group(2)
                continue
            if (m := _STATUS_LINE.fullmatch(line)) is not None:
                sip["status_code"] = int(m.group(1))
                if m.group(2):
                    sip["reason_phrase"] = m.group(2).strip()
                continue
            if not fragment:
                return
        name, sep, value = line.partition(":")
        if not sep or " " in name:
            continue
        key = name.strip().lower()
        key = SIP_COMPACT.get(key, key)
        value = value.strip()
        if key == "call-id":
            sip["call_id"] = value
        elif key == "cseq":
            sip["cseq"] = value
            parts = value.split()
            if len(parts) == 2 and "method" not in sip:
                sip["method"] = parts[1].upper()
        elif key in ("from", "to"):
            uri, tag = _uri_and_tag(value)
            sip[f"{key}_uri"] = uri
            if tag:
                sip[f"{key}_tag"] = tag
        elif key == "contact":
            sip["contact"] = _uri_and_tag(value)[0]
        elif key in ("user-agent", "server") and "user_agent" not in sip:
            sip["user_agent"] = value


def sip_message(body: str, m: re.Match[str], event: ParsedEvent, sip: dict[str, Any], call: dict[str, Any],
                vendor: dict[str, Any]) -> None:
    direction, ip, port, if_no, if_name, transport, to_no, socket = m.groups()
    address = {"ip": _addr(ip, "SIP peer"), "port": int(port)}
    if int(port) > 65535:
        raise ParseError("bad_field", f"SIP peer port out of range: {port}")
    if direction == "Incoming":
        event["source"] = address
        sip["direction"] = "received"
    else:
        event["destination"] = address
        sip["direction"] = "sent"
    t = transport.upper()
    event["network"] = {"protocol": "sip",
                        "transport": {"UDP": "udp", "TCP": "tcp", "TLS": "tcp", "SCTP": "sctp"}.get(t, t.lower())}
    if t not in ("UDP", "TCP", "SCTP"):
        vendor["transport"] = transport
    vendor["sip_interface_id"] = if_no
    if if_name:
        call["route"] = if_name
    if to_no is not None:
        vendor["to"] = to_no
    if socket is not None:
        vendor["socket_id"] = socket
    sip_details(body[m.end():], sip, fragment=False)
    ev = event["event"]
    ev.update(action="sip-message", category=["network"], type=["protocol"], code=f"{direction} SIP Message")


def looks_like_fragment(body: str) -> bool:
    """Continuation packet of a long SIP message: no logger, SIP/SDP text."""
    return ("\\r\\n" in body or "#012" in body or "\r" in body or "\n" in body
            or _FRAGMENT_START.match(body) is not None)


def activity_log(body: str, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """`Activity Log: <action>. User: <user>. Session: <protocol> (<client ip>)`."""
    rest = body[len("Activity Log:"):].strip()
    ev = event["event"]
    ev["code"] = "Activity Log"
    ev["provider"] = "activity_log"
    # "WEB: Successful login ..." -> management interface
    colon = rest.find(": ")
    if 0 < colon <= 8 and rest[:colon].isalpha() and rest[:colon].isupper():
        vendor["interface"] = rest[:colon]
        rest = rest[colon + 2:].lstrip()
    sess_at = rest.rfind("Session: ")
    if sess_at >= 0 and (m := _SESSION.match(rest, sess_at)) is not None:
        proto, client = m.groups()
        event["network"] = {"protocol": proto.lower(), "application": proto}
        if client:
            event["source"] = {"ip": _addr(client, "Activity Log client")}
        rest = rest[:sess_at].rstrip()
    user_at = rest.rfind("User: ")
    if user_at >= 0 and (user_at == 0 or rest[user_at - 1] in " ."):
        user = rest[user_at + 6:].strip().rstrip(".").strip()
        if user:
            event["user"] = {"name": user}
        rest = rest[:user_at].rstrip()
    activity = rest.rstrip(". ").strip()
    vendor["activity"] = activity
    low = activity.lower()

    if (m := _AT_ADDRESS.search(activity)) is not None:  # "login at <device ip>:<port>"
        event["destination"] = {"ip": _addr(m.group(1), "management address"), "port": int(m.group(2))}

    changed = activity.find(" was changed from '")
    if changed >= 0 and activity.endswith("'"):
        values = activity[changed + len(" was changed from '"):-1]
        split = values.rfind("' to '")
        if split >= 0:
            vendor["parameter"] = activity[:changed].strip()
            vendor["old_value"] = values[:split]
            vendor["new_value"] = values[split + len("' to '"):]
            ev.update(action="config-change", category=["configuration"], type=["change"], outcome="success")
            return
    table, sep, operation = activity.partition(" - ")
    if sep and (m := _ROW_OP.match(operation.strip())) is not None:
        verb = m.group(1).lower()
        vendor["table"] = table.strip()
        if m.group(2):
            vendor["row"] = m.group(2)
        kind = ("creation" if verb.startswith(("add", "insert"))
                else "deletion" if verb.startswith(("remove", "delete")) else "change")
        ev.update(action="config-change", category=["configuration"], type=[kind], outcome="success")
        return
    for words, action, category, types, outcome in _ACTIVITY_RULES:
        if any(w in low for w in words):
            ev.update(action=action, category=list(category), type=list(types))
            if outcome:
                ev["outcome"] = outcome
            return
    ev.update(action="admin-action", category=["configuration"], type=["info"])


def packet_loss(body: str, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """Board-wide `Packets-Loss report [PL range]=#media-legs: [No PL]=64, [up to 0.5%]=1, ...`."""
    for label, count in _PL_BUCKET.findall(body):
        slug = _SLUG.sub("_", label.strip().lower()).strip("_")
        if slug:
            vendor[f"media_legs_pl_{slug}"] = int(count)
    event["event"].update(kind="metric", action="diagnostic", category=["network"], type=["info"],
                          code="Packets-Loss report")


def rtp_reorder(body: str, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """`RTP packets reorder: CID=633 SeqNum=34649 LastSeqRecv=34650 SrcIP=... SrcPort=...`."""
    source: dict[str, Any] = {}
    for key, value in _KV.findall(body):
        if key == "SrcIP":
            source["ip"] = _addr(value, "SrcIP")
        elif key == "SrcPort" and value.isdecimal() and int(value) <= 65535:
            source["port"] = int(value)
        elif vendor.get(key.lower()) != value:  # [CID:n] trailer already kept
            vendor[key] = value
    if source:
        event["source"] = source
    event["event"].update(action="diagnostic", category=["network"], type=["info"])
    event["event"].setdefault("code", "RTP packets reorder")


def abnormal_disconnect(body: str, event: ParsedEvent, call: dict[str, Any], vendor: dict[str, Any]) -> None:
    """`Abnormal Disconnect cause:<Q.850> reason:<TrmReason>`: a call ended abnormally."""
    if (m := _CAUSE.search(body)) is not None:
        vendor["cause"] = m.group(1)
    if (m := _REASON.search(body)) is not None:
        call["disconnect_cause"] = m.group(1)
        event["event"]["reason"] = m.group(1)
    event["event"].update(action="call-end", category=["network", "session"], type=["connection", "end"],
                          outcome="failure", code="Abnormal Disconnect")


def classify(body: str, has_logger: bool, event: ParsedEvent, sip: dict[str, Any], call: dict[str, Any],
             vendor: dict[str, Any], tags: list[str]) -> None:
    """Fill action/category/type/outcome and the family's fields from the message text."""
    ev = event["event"]
    head = body[:24]
    if head.startswith("--") and (m := _SIP_HEAD.match(body)) is not None:
        sip_message(body, m, event, sip, call, vendor)
    elif head.startswith("Activity Log:"):
        activity_log(body, event, vendor)
    elif head.startswith("Abnormal Disconnect"):
        abnormal_disconnect(body, event, call, vendor)
    elif head.startswith("Packets-Loss report"):
        packet_loss(body, event, vendor)
    elif head.startswith("RTP packets reorder"):
        rtp_reorder(body, event, vendor)
    elif not has_logger and looks_like_fragment(body):
        tags.append("sip_fragment")
        event["network"] = {"protocol": "sip"}
        sip_details(body, sip, fragment=True)
        ev.update(action="sip-message", category=["network"], type=["protocol"])
    else:
        ev.update(action="diagnostic", type=["info"])


def parse_text(text: str, start: int, end: int, event: ParsedEvent, tags: list[str]) -> None:
    """Everything after `[S=n]` up to the device time: ids, logger, text."""
    vendor: dict[str, Any] = event["uc"]["vendor"]
    call: dict[str, Any] = {}
    sip: dict[str, Any] = {}
    pos = read_ids(text, start, vendor, call)
    has_logger = False
    if text.startswith("(", pos):
        if (m := _LOGGER.match(text, pos, end)) is not None:
            event["log"]["logger"] = m.group(1)
            vendor["message_number"] = m.group(2)
            pos, has_logger = m.end(), True
        elif (m := _MSGNO.match(text, pos, end)) is not None:
            vendor["message_number"] = m.group(1)
            pos, has_logger = m.end(), True
    body = strip_trailers(text[pos:end], vendor)
    if not body.strip():
        raise ParseError("truncated", "no message text after the [S=n] marker")
    if "code" in vendor:
        event["event"]["code"] = vendor["code"]
    event["message"] = body.strip()
    classify(body.strip(), has_logger, event, sip, call, vendor, tags)
    uc = event["uc"]
    if sip:
        uc["sip"] = sip
    if call:
        uc["call"] = call
