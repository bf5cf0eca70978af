"""The device's text after the receiver prefix, one reader per record format.

* `read_text`: free-text messages `[S=n] [SID=..|BID=..] (logger)(n) <text> [Time:DD-MM@hh:mm:ss.mmm]`.
  Families: SIP message traces (`---- Incoming/Outgoing SIP Message ...`, `sipmsg.py`) and the
  continuation packets of long SIP messages, management `Activity Log:` lines, `Abnormal Disconnect`, the
  board's periodic `Packets-Loss report`, `RTP packets reorder`; every other line keeps its text.
* `read_legacy`: the older event-abbreviation form `PL:5 [Code:3a002] [CID:3294] [Time: 20:17:00]`.
* `read_cdr`: a CDR data row, read by the header of its family (`cdr.py`).

Attacker-controlled text (SIP headers, user names) is only ever sliced with str methods or matched by
anchored patterns without nested quantifiers.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from ucsiem.parsing import ParseContext, ParseError, canonical_ip, present, to_port

from . import cdr
from .sipmsg import SIP_HEAD, looks_like_fragment, sip_details
from .values import ERROR_NAMES, TRACE_TRANSPORTS

_IDS = re.compile(r"\s*\[(SID|BID)\s?([=:])\s?([0-9A-Za-z:]{1,64})\]\s*")
_LOGGER = re.compile(r"\(\s*([A-Za-z_][\w.-]{0,63})\s*\)\((\d{1,12})\)\s*")
_MSGNO = re.compile(r"\(N\s+(\d{1,12})\)\s*")
_TRAILER = re.compile(r"\[(Code|CID):([^\[\]\s]{1,40})\]")
_SESSION = re.compile(r"Session: ([A-Za-z0-9_./-]{1,32})(?: \(([^()]{0,64})\))?\.?\s*$")
_AT_ADDRESS = re.compile(r" at (\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]{2,45}\]):(\d{1,5})")
_ROW_OP = re.compile(r"(add|added|remove|removed|delete|deleted|modify|modified|edit|edited|insert|inserted) "
                     r"(?:line|row|index)\s*#?(\d{1,9})?", re.IGNORECASE)
_PL_BUCKET = re.compile(r"\[([^\[\]=]{1,32})\]\s*=\s*(\d{1,12})")
_KV = re.compile(r"([A-Za-z][A-Za-z0-9_]{0,31})=([^\s=\[\]]{1,64})")
_CAUSE = re.compile(r"cause:\s*(\d{1,4})")
_REASON = re.compile(r"reason:\s*(\S{1,80})")
_SLUG = re.compile(r"[^a-z0-9]+")

# The older event form: two upper-case letters, the value, then the event code (where the prefix ends).
LEGACY_START = re.compile(r"([A-Z]{2}):([^\s\[\]]{1,32})[ \t]+\[Code:")
_LEGACY_TAG = re.compile(r"[ \t]*\[(Code|CID):[ \t]?([^\[\]\s]{1,40})\]")
_LEGACY_TIME = re.compile(r"[ \t]*\[Time:[ \t]?(\d{1,2}:\d\d:\d\d(?:\.\d{1,6})?)\][ \t]*$")

# free-text families (Body.family)
SIP_TRACE = "sip_trace"
SIP_FRAGMENT = "sip_fragment"
ACTIVITY = "activity_log"
ABNORMAL_DISCONNECT = "abnormal_disconnect"
PACKET_LOSS = "packet_loss"
RTP_REORDER = "rtp_reorder"
TEXT = "text"

# a table row operation's verb -> the kind of configuration change (Activity.row_change)
_ROW_CHANGES = {"add": "creation", "insert": "creation", "remove": "deletion", "delete": "deletion"}


class Activity(NamedTuple):
    """What an `Activity Log:` line says was done."""

    text: str  # the activity, without interface, user and session
    changed: bool  # `<param> was changed from 'x' to 'y'`
    row_change: str | None  # `<table> - add/remove/modify line n`: creation, deletion or change


class Body(NamedTuple):
    """A free-text message: ids, logger, the text and what its family says."""

    message: str
    family: str  # SIP_TRACE, ACTIVITY... (module constants)
    code: str | None  # the message's name or its `[Code:]` (event.code)
    logger: str | None
    reason: str | None
    user: str | None
    vendor: dict[str, Any]  # uc.vendor members
    call: dict[str, Any]  # uc.call members
    sip: dict[str, Any]  # uc.sip members
    source: dict[str, Any] | None
    destination: dict[str, Any] | None
    network: dict[str, Any] | None
    activity: Activity | None
    tags: list[str]  # bad_port


class LegacyBody(NamedTuple):
    """`AB:value [Code:x] [CID:n] [Time: hh:mm:ss]`."""

    message: str
    name: str  # the abbreviation (event.code)
    label: str | None  # its name in the manuals' table
    vendor: dict[str, Any]  # event_value, code, cid, device_time


class CdrBody(NamedTuple):
    """One CDR data row read by its columns."""

    report: str  # CALL_END, MEDIA_START... (event.code)
    sip: dict[str, Any]
    call: dict[str, Any]
    media: dict[str, Any]
    vendor: dict[str, Any]
    source: dict[str, Any]
    destination: dict[str, Any]
    network: dict[str, Any]
    signalling: cdr.Signalling | None  # None on media rows
    tags: list[str]


def _addr(text: str, what: str) -> str:
    address = canonical_ip(text)
    if address is None:
        raise ParseError("bad_field", f"{what} is not an IP address: {text[:48]!r}")
    return address


def _strip_trailers(body: str, vendor: dict[str, Any]) -> str:
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


def read_text(text: str, start: int, end: int) -> Body:
    """Everything after `[S=n]` (at `start`) up to the device time (at `end`): ids, logger, text."""
    vendor: dict[str, Any] = {}
    call: dict[str, Any] = {}
    sip: dict[str, Any] = {}
    pos = start
    if (m := _IDS.match(text, pos)) is not None:  # [SID=mac:resets:session], [BID=mac:resets], old [SID:n]
        if m.group(1) == "SID":
            call["id"] = m.group(3)
        else:
            vendor["board_id"] = m.group(3)
        pos = m.end()
    else:
        while text[pos:pos + 1] in (" ", "\t"):
            pos += 1
    logger: str | None = None
    has_logger = False
    if text.startswith("(", pos):
        if (m := _LOGGER.match(text, pos, end)) is not None:
            logger = m.group(1)
            vendor["message_number"] = m.group(2)
            pos, has_logger = m.end(), True
        elif (m := _MSGNO.match(text, pos, end)) is not None:
            vendor["message_number"] = m.group(1)
            pos, has_logger = m.end(), True
    body = _strip_trailers(text[pos:end], vendor).strip()
    if not body:
        raise ParseError("truncated", "no message text after the [S=n] marker")
    code: str | None = vendor.get("code")
    tags: list[str] = []
    reason: str | None = None
    user: str | None = None
    source: dict[str, Any] | None = None
    destination: dict[str, Any] | None = None
    network: dict[str, Any] | None = None
    activity: Activity | None = None
    head = body[:24]
    if head.startswith("--") and (m := SIP_HEAD.match(body)) is not None:
        family = SIP_TRACE
        direction, ip, port, if_no, if_name, transport, to_no, socket = m.groups()
        address: dict[str, Any] = {"ip": _addr(ip, "SIP peer")}
        if (peer_port := to_port(port, tags)) is not None:
            address["port"] = peer_port
        if direction == "Incoming":
            source = address
            sip["direction"] = "received"
        else:
            destination = address
            sip["direction"] = "sent"
        t = transport.upper()
        network = {"protocol": "sip", "transport": TRACE_TRANSPORTS.get(t, t.lower())}
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
        code = f"{direction} SIP Message"
    elif head.startswith("Activity Log:"):
        family, code = ACTIVITY, "Activity Log"
        activity, user, source, destination, network = _activity_log(body, vendor, tags)
    elif head.startswith("Abnormal Disconnect"):
        family, code = ABNORMAL_DISCONNECT, "Abnormal Disconnect"
        if (m := _CAUSE.search(body)) is not None:
            vendor["cause"] = m.group(1)
        if (m := _REASON.search(body)) is not None:
            call["disconnect_cause"] = reason = m.group(1)
    elif head.startswith("Packets-Loss report"):
        family, code = PACKET_LOSS, "Packets-Loss report"
        for label, count in _PL_BUCKET.findall(body):
            slug = _SLUG.sub("_", label.strip().lower()).strip("_")
            if slug:
                vendor[f"media_legs_pl_{slug}"] = int(count)
    elif head.startswith("RTP packets reorder"):
        family = RTP_REORDER
        source = {}
        for key, value in _KV.findall(body):
            if key == "SrcIP":
                source["ip"] = _addr(value, "SrcIP")
            elif key == "SrcPort":
                if (src_port := to_port(value, tags)) is not None:
                    source["port"] = src_port
            elif vendor.get(key.lower()) != value:  # [CID:n] trailer already kept
                vendor[key] = value
        if code is None:
            code = "RTP packets reorder"
    elif not has_logger and looks_like_fragment(body):
        family = SIP_FRAGMENT
        network = {"protocol": "sip"}
        sip_details(body, sip, fragment=True)
    else:
        family = TEXT
    return Body(body, family, code, logger, reason, user, vendor, call, sip, source, destination, network,
                activity, tags)


def _activity_log(body: str, vendor: dict[str, Any], tags: list[str]) -> tuple[
        Activity, str | None, dict[str, Any] | None, dict[str, Any] | None, dict[str, Any] | None]:
    """`Activity Log: [<IF>: ]<activity>. User: <user>. Session: <protocol> (<client ip>)` -> the activity,
    the user, source (client), destination (management address) and network."""
    rest = body[len("Activity Log:"):].strip()
    source: dict[str, Any] | None = None
    destination: dict[str, Any] | None = None
    network: dict[str, Any] | None = None
    user: str | None = None
    # "WEB: Successful login ..." -> management interface
    colon = rest.find(": ")
    if 0 < colon <= 8 and rest[:colon].isalpha() and rest[:colon].isupper():
        vendor["interface"] = rest[:colon]
        rest = rest[colon + 2:].lstrip()
    sess_at = rest.rfind("Session: ")
    if sess_at >= 0 and (m := _SESSION.match(rest, sess_at)) is not None:
        proto, client = m.groups()
        network = {"protocol": proto.lower(), "application": proto}
        if client:
            source = {"ip": _addr(client, "Activity Log client")}
        rest = rest[:sess_at].rstrip()
    user_at = rest.rfind("User: ")
    if user_at >= 0 and (user_at == 0 or rest[user_at - 1] in " ."):
        user = rest[user_at + 6:].strip().rstrip(".").strip() or None
        rest = rest[:user_at].rstrip()
    activity = rest.rstrip(". ").strip()
    if activity:
        vendor["activity"] = activity

    if (m := _AT_ADDRESS.search(activity)) is not None:  # "login at <device ip>:<port>"
        destination = {"ip": _addr(m.group(1), "management address")}
        if (mgmt_port := to_port(m.group(2), tags)) is not None:
            destination["port"] = mgmt_port

    changed = activity.find(" was changed from '")
    if changed >= 0 and activity.endswith("'"):
        values = activity[changed + len(" was changed from '"):-1]
        split = values.rfind("' to '")
        if split >= 0:
            # empty values are left out, as every parser's events leave them (prune's rule)
            vendor.update(present({"parameter": activity[:changed].strip(), "old_value": values[:split],
                                   "new_value": values[split + len("' to '"):]}))
            return Activity(activity, True, None), user, source, destination, network
    table, sep, operation = activity.partition(" - ")
    if sep and (m := _ROW_OP.match(operation.strip())) is not None:
        verb = m.group(1).lower()
        if table := table.strip():
            vendor["table"] = table
        if m.group(2):
            vendor["row"] = m.group(2)
        change = next((c for prefix, c in _ROW_CHANGES.items() if verb.startswith(prefix)), "change")
        return Activity(activity, False, change), user, source, destination, network
    return Activity(activity, False, None), user, source, destination, network


def read_legacy(text: str, start: int) -> LegacyBody:
    """`AB:value [Code:x] [CID:n] [Time: hh:mm:ss]` from `start` (a `LEGACY_START` match) to the end. The
    device time is a time of day only: kept in `uc.vendor.device_time`, not a time stamp."""
    m = LEGACY_START.match(text, start)
    if m is None:
        raise ParseError("no_match", "not an AudioCodes event abbreviation (`PL:5 [Code:...]`)")
    vendor: dict[str, Any] = {}
    name, value = m.group(1), m.group(2)
    pos = m.end() - len("[Code:")
    while (tag := _LEGACY_TAG.match(text, pos)) is not None:
        vendor[tag.group(1).lower()] = tag.group(2)
        pos = tag.end()
    rest = text[pos:]
    if (t := _LEGACY_TIME.match(rest)) is not None:
        vendor["device_time"] = t.group(1)
        rest = rest[:t.start()] + rest[t.end():]
    rest = rest.strip()
    vendor["event_value"] = value
    return LegacyBody(f"{name}:{value} {rest}" if rest else f"{name}:{value}", name, ERROR_NAMES.get(name), vendor)


def read_cdr(row_text: str, ctx: ParseContext) -> CdrBody:
    """One CDR data row (`|CALL_END |SBC |...` or `MEDIA_END |...`), read by the latest header of its family
    in this file (`ctx.headers`), else by the built-in default columns (tag `cdr_default_header`)."""
    values = cdr.split_row(row_text)
    report = values[0].upper() if values else ""
    if report not in cdr.REPORT_TYPES:
        raise ParseError("unsupported_variant", f"unknown CDR report type {values[0][:40]!r}" if values
                         else "empty CDR row")
    tags: list[str] = []
    columns, default = cdr.pick_columns(report, values, ctx)
    if default:
        tags.append("cdr_default_header")
    extra = values[len(columns):]
    if len(values) < len(columns):
        tags.append("cdr_missing_columns")
    row = cdr.Row(columns, values)
    row.take("reporttype")
    vendor: dict[str, Any] = {}
    for i, value in enumerate(extra, start=len(columns) + 1):
        if value:
            vendor[f"column_{i}"] = value
    if vendor:
        tags.append("cdr_extra_columns")
    sip: dict[str, Any] = {}
    call: dict[str, Any] = {}
    media: dict[str, Any] = {}
    source: dict[str, Any] = {}
    destination: dict[str, Any] = {}
    network: dict[str, Any] = {}
    if (v := row.take("sipcallid")):
        sip["call_id"] = v
    if (v := row.take("sessionid")):
        call["id"] = v
    if (v := row.take("legid")):
        call["leg_id"] = v
    if (v := row.take("sipmethod")):
        sip["method"] = v.upper()
    cdr.read_media(row, media, tags)
    signalling = None
    if report not in cdr.MEDIA_REPORTS:
        signalling = cdr.read_signalling(report, row, sip, call, source, destination, network, ctx.timezone, tags)
    return CdrBody(report, sip, call, media, {**row.vendor(), **vendor}, source, destination, network, signalling,
                   tags)
