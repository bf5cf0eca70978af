"""Cisco Expressway / VCS: event log, admin audit, alarms, network/developer log and SIP message logging.

One record is one line, or a `network.sip` DEBUG line followed by `SIPMSG:` and the SIP message
(framed as one multi-line record). Shape of a line (see README.md for every variant handled):

    [<PRI>]<ISO time> <host> <process>[pid]: [<process>: ]<body>
    <ISO time> : <body>                      (copy of the web UI event log: no host, no process)
    <ISO time> <host> <body>                 (clusterdb lines: no process tag)

The body is `Name="value"` pairs (event log: `Event=...` first; module lines: `UTCTime Module Level
[CodeLocation Method Thread]:` then pairs or free text). Mapping to the schema is in `_assemble`.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from ucsiem.errors import ParseError
from ucsiem.parsing.contract import ParseContext, ParsedEvent, RawRecord
from ucsiem.parsing.helpers import SYSLOG_FACILITIES, SYSLOG_SEVERITIES

from .events import Kind, classify, module_kind
from .kv import scan
from .sipmsg import parse_sipmsg

# A record starts at a line with an ISO 8601 or BSD syslog time (maybe after a <PRI>), or at a
# header-less line that starts with the first attribute of an Expressway message.
FIRST_LINE_PATTERN = (
    r'(?:<[0-9]{1,3}>(?:1 )?)?'
    r'(?:[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}'
    r'|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} '
    r'|UTCTime="|Event=")'
)

_TAG = re.compile(r"([A-Za-z0-9_.()/-]{1,64})(?:\[([0-9]{1,10})\])?:")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_MATCH = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}").fullmatch
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
_MAX_TAGS = 3
_COMMON_TAGS = frozenset(("tvcs:", "alarm:", "management:", "replication:"))
_BODY_STARTS = ('Event="', 'UTCTime="', 'Level="')
_SHOWN = 80  # characters of input quoted in error messages

_TRANSPORTS = {"udp": "udp", "tcp": "tcp", "tls": "tcp", "sctp": "sctp"}
_SERVICE_PROTOCOL = {
    "sip": "sip", "h.323": "h323", "h323": "h323", "h.225": "h323", "h.245": "h323", "q.931": "h323",
    "ras": "h323", "neighbourgatekeeper": "h323", "ldap": "ldap", "http": "http", "https": "http",
    "dns": "dns", "ssh": "ssh", "xmpp": "xmpp",
}
_MANAGEMENT_SERVICES = frozenset(("http", "https", "ssh", "web", "tsh"))
_URI_SCHEMES = frozenset(("sip", "sips", "tel", "h323"))
_SIP_ATTRIBUTES = (("Request-URI", "request_uri"), ("To", "to_uri"), ("From", "from_uri"), ("Call-ID", "call_id"),
                   ("Call-id", "call_id"))
_GENERIC = Kind("diagnostic", (), ())
# rejections that add the `authentication` category when their reason is an authentication failure
_AUTH_CAN_FAIL = frozenset(("sip-register", "sip-unregister", "sip-message-reject", "call-reject"))


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    text = record.text
    nl = text.find("\n")
    line = text if nl < 0 else text[:nl]
    ts_text, ts_style, host, tags, body, pri = _header(line)
    if not body.strip():
        raise ParseError("truncated", f"syslog header without a message: {line[:_SHOWN]!r}")
    kv, free, dups = scan(body)
    if not kv and not tags:
        raise ParseError("no_match", f"no Name=\"value\" pairs and no process tag: {line[:_SHOWN]!r}")
    utc_time = kv.pop("UTCTime", "")
    ts = _utc_time(utc_time) if utc_time else None
    if ts is None:
        if utc_time:
            kv["UTCTime"] = utc_time  # unusable: keep it for the reader
        ts = _header_time(ts_text, ts_style, ctx)
    event = _assemble(kv, free, dups, ts, host, tags, pri)
    if nl >= 0:
        _continuation(event, text[nl + 1:].split("\n"))
    return [event]


# -- header --------------------------------------------------------------------------------------


def _header(line: str) -> tuple[str | None, str, str | None, list[str], str, int | None]:
    """(time text, time style, host, process tags, body, PRI) of the first line of a record."""
    # fast path for the usual `<ISO time> <host> tvcs: Event=...` shape
    parts = line.split(" ", 3)
    if len(parts) == 4:
        ts_text, host, tag, body = parts
        if (tag in _COMMON_TAGS and body.startswith(_BODY_STARTS) and len(ts_text) > 10 and ts_text[4] == "-"
                and ts_text[:4].isdigit() and host and host[-1] != ":" and '="' not in host):
            return ts_text, "iso", host, [tag[:-1]], body, None
    return _header_general(line)


def _header_general(line: str) -> tuple[str | None, str, str | None, list[str], str, int | None]:
    pri: int | None = None
    rfc5424 = False
    if line.startswith("<"):
        end = line.find(">", 1, 5)
        digits = line[1:end] if end > 1 else ""
        if not (digits.isascii() and digits.isdigit()) or int(digits) > 191:
            raise ParseError("no_match", f"bad syslog priority: {line[:_SHOWN]!r}")
        pri = int(digits)
        line = line[end + 1:]
        if line.startswith("1 "):
            rfc5424 = True
            line = line[2:]
    head4 = line[:4]
    if len(line) > 10 and line[4] == "-" and head4.isascii() and head4.isdigit():
        ts_text, _, rest = line.partition(" ")
        style = "iso"
    elif line[:3] in _MONTHS and len(line) > 16 and line[15] == " ":
        ts_text, rest, style = line[:15], line[16:], "bsd"
    elif line.startswith(('UTCTime="', 'Event="')):
        return None, "none", None, [], line, pri
    else:
        raise ParseError("no_match", f"record does not start with a timestamp: {line[:_SHOWN]!r}")
    rest = rest.lstrip(" ")
    if rfc5424:
        return (ts_text, style, *_rfc5424(rest), pri)
    host: str | None = None
    if rest.startswith(":"):
        rest = rest[1:].lstrip(" ")  # web UI copy: `<time> : Event=...`
    else:
        first, _, after = rest.partition(" ")
        if '="' not in first and not (first.endswith(":") and _TAG.fullmatch(first)):
            host, rest = first, after.lstrip(" ")
    tags, body = _tags(rest)
    return ts_text, style, host or None, tags, body, pri


def _tags(rest: str) -> tuple[list[str], str]:
    """Strip up to three `name[pid]:` process tags (Expressway repeats them: `tvcs: tvcs:`)."""
    tags: list[str] = []
    while len(tags) < _MAX_TAGS:
        first, _, after = rest.partition(" ")
        if not first.endswith(":") or _TAG.fullmatch(first) is None:
            break
        tags.append(first[:-1])
        rest = after.lstrip(" ")
    return tags, rest


def _rfc5424(rest: str) -> tuple[str | None, list[str], str]:
    """`host app procid msgid SD msg` of an RFC 5424 line; nil values are `-`."""
    parts = rest.split(" ", 4)
    if len(parts) < 5:
        return None, [], ""
    host, app, procid, _msgid, sd_msg = parts
    tag = "" if app == "-" else app
    if tag and procid != "-":
        tag = f"{tag}[{procid}]" if procid.isascii() and procid.isdigit() and len(procid) <= 10 else tag
    if sd_msg.startswith("-"):
        msg = sd_msg[1:]
    elif sd_msg.startswith("["):
        msg = sd_msg[_sd_end(sd_msg):]
    else:
        msg = sd_msg
    msg = msg.lstrip(" ").removeprefix("\ufeff")
    tags, body = _tags(msg)
    # the RFC 5424 APP-NAME is the process; an inner `tvcs:` repeats it
    all_tags = ([tag] if tag else []) + [t for t in tags if t.split("[", 1)[0] != app]
    return (None if host == "-" else host), all_tags, body


def _sd_end(sd: str) -> int:
    """Index just past the structured data (`[id k="v"][...]`), honouring quotes and escapes."""
    in_quotes = False
    escaped = False
    for i, ch in enumerate(sd):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            in_quotes = not in_quotes
        elif ch == "]" and not in_quotes and (i + 1 == len(sd) or sd[i + 1] != "["):
            return i + 1
    return len(sd)


# -- time ----------------------------------------------------------------------------------------


def _utc_time(value: str) -> datetime | None:
    """`2020-08-12 19:57:43,524` (UTC, comma before the milliseconds, which may be absent)."""
    if len(value) < 19 or value[10] != " ":
        return None
    try:
        return datetime.fromisoformat(value + "+00:00")  # much cheaper than .replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        ts = datetime.fromisoformat(value)
        return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _header_time(text: str | None, style: str, ctx: ParseContext) -> datetime:
    if text is None:
        raise ParseError("bad_timestamp", "no syslog header time and no usable UTCTime attribute")
    if style == "iso":
        try:
            ts = datetime.fromisoformat(text)
        except ValueError:
            raise ParseError("bad_timestamp", f"not an ISO 8601 time: {text[:_SHOWN]!r}") from None
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=ctx.timezone)
    else:
        ts = _bsd_time(text, ctx.timezone, ctx.reference_time)
    try:
        return ts.astimezone(UTC)  # in range in UTC too (0001-01-01T00:00+05:00 is not)
    except OverflowError:
        raise ParseError("bad_timestamp", f"time out of range in UTC: {text[:_SHOWN]!r}") from None


def _bsd_time(text: str, zone: tzinfo, reference: datetime) -> datetime:
    """`Nov  7 10:23:45`: the latest year that does not put the time more than 2 days after the reference."""
    month = _MONTHS.get(text[:3])
    digits = text[4:6].strip() + text[7:9] + text[10:12] + text[13:15]
    if month is not None and digits.isascii() and digits.isdigit() and text[9] == text[12] == ":":
        day, hour, minute, second = int(text[4:6]), int(text[7:9]), int(text[10:12]), int(text[13:15])
        for year in range(reference.year, reference.year - 9, -1):  # 29 February: back to a leap year
            try:
                ts = datetime(year, month, day, hour, minute, second, tzinfo=zone)
            except ValueError:
                continue
            if ts - reference <= timedelta(days=2):
                return ts
    raise ParseError("bad_timestamp", f"not a syslog time: {text!r}")


# -- fields --------------------------------------------------------------------------------------


def _ip(value: str) -> str | None:
    if _IPV4_MATCH(value):
        return value
    if ":" in value and len(value) <= 64:
        try:
            return str(ipaddress.ip_address(value.strip("[]")))
        except ValueError:
            return None
    return None


def _port(value: str) -> int | None:
    if len(value) <= 5 and value.isascii() and value.isdigit():
        port = int(value)
        if port <= 65535:
            return port
    return None


def _small_int(value: str, high: int) -> int | None:
    if 0 < len(value) <= 9 and value.isascii() and value.isdigit():
        number = int(value)
        if number <= high:
            return number
    return None


def _set_ip(endpoint: dict[str, Any], raw: str) -> None:
    """An IP goes to `ip`; anything else (a host name) to `address`."""
    ip = raw if _IPV4_MATCH(raw) else _ip(raw)
    if ip is not None:
        endpoint["ip"] = ip
    else:
        endpoint["address"] = raw


def _local(kv: dict[str, str], src: dict[str, Any], dst: dict[str, Any], observer: dict[str, Any],
           sip: dict[str, Any]) -> None:
    """`ipaddr` (login source), `Local-ip/-port` (the Expressway's socket) and `Action` (direction)."""
    ipaddr = kv.pop("ipaddr", "")
    if ipaddr and "ip" not in src and (ip := _ip(ipaddr)) is not None:
        src["ip"] = ip
    local: dict[str, Any] = {}
    raw = kv.pop("Local-ip", "")
    if raw:
        _set_ip(local, raw)
        if "ip" in local:
            observer["ip"] = [local["ip"]]
    raw = kv.pop("Local-port", "")
    if raw:
        if (port := _port(raw)) is not None:
            local["port"] = port
        else:
            kv["Local-port"] = raw
    direction = kv.get("Action", "").lower()
    if direction in ("received", "sent"):
        del kv["Action"]
        sip["direction"] = direction
        # a traced message went from the peer to the Expressway's socket, or the other way
        if direction == "received" and not dst:
            dst.update(local)
            return
        if direction == "sent" and not src:
            src.update(local)
            return
    if "address" in local:
        kv["Local-ip"] = local["address"]
    if "port" in local:
        kv["Local-port"] = str(local["port"])


def _alias(endpoint: dict[str, Any], alias: str, call: dict[str, Any] | None, number_key: str) -> None:
    """User name/domain of an alias (SIP URI, H.323 id, E.164) on the endpoint; E.164 number on the call.

    `sip:alice@example.com;transport=tls` -> alice, example.com; `h323:room-101` -> room-101.
    """
    body = alias
    if body.startswith("sip:"):
        body = body[4:]
    else:
        if body[:1] == "<":
            body = body.strip("<>")
        colon = body.find(":")
        if 0 < colon <= 5 and body[:colon].lower() in _URI_SCHEMES:
            body = body[colon + 1:]
    name, at, domain = body.partition("@")
    if at:
        domain = domain.split(";", 1)[0]
        domain = domain[:domain.find("]") + 1] if domain[:1] == "[" else domain.split(":", 1)[0]
    else:
        name = name.split(";", 1)[0]
    if name:
        endpoint["user"] = {"name": name, "domain": domain} if domain else {"name": name}
        if call is not None and name[0] == "+":
            digits = name[1:]
            if 6 <= len(digits) <= 15 and digits.isascii() and digits.isdigit():
                call[number_key] = name
    elif domain:
        endpoint["user"] = {"domain": domain}


def _socket(value: str) -> tuple[str | None, int | None]:
    """`['IPv4''TCP''172.16.2.2:5062']` (developer.ssl) -> ("172.16.2.2", 5062)."""
    addr = value.strip("[]'").rpartition("'")[2]
    host, _, port = addr.rpartition(":")
    return _ip(host), _port(port)


def _detail_pairs(detail: str) -> dict[str, str]:
    """`Receive Request Method=INVITE, CSeq=1, Request-URI=sip:x , Call-ID=y, ...` -> pairs."""
    out: dict[str, str] = {}
    for piece in detail.split(","):
        key, eq, value = piece.partition("=")
        if eq:
            out[key.strip().rpartition(" ")[2]] = value.strip()
    return out


# -- event ---------------------------------------------------------------------------------------


def _assemble(kv: dict[str, str], free: str, dups: dict[str, list[str]] | None, ts: datetime,
              host: str | None, tags: list[str], pri: int | None) -> ParsedEvent:
    pop = kv.pop
    name = pop("Event", "")
    module = pop("Module", "")
    level = pop("Level", "")
    detail = pop("Detail", "")
    reason = pop("Reason", "")
    level_word = level.lower() if level and not level.isdigit() else ""
    if level and not level_word:
        kv["Level"] = level  # event-log levels 1-4 are verbosity classes, not severities

    if name:
        kind = classify(name)
        if kind.action == "sip-auth" and kv.get("Service", "").lower() in _MANAGEMENT_SERVICES:
            kind = Kind("admin-login", kind.category, kind.type, kind.outcome)
    elif module:
        kind = module_kind(module, level_word, f"{free} {detail}", reason)
    else:
        kind = _GENERIC
    action = kind.action
    outcome = kind.outcome
    category = list(kind.category)

    ev: dict[str, Any] = {"kind": kind.kind, "action": action}
    out: dict[str, Any] = {"@timestamp": ts, "event": ev}
    if name:
        ev["code"] = name

    src: dict[str, Any] = {}
    dst: dict[str, Any] = {}
    raw = pop("Src-ip", "")
    if raw:
        _set_ip(src, raw)
    raw = pop("Src-port", "")
    if raw:
        if (port := _port(raw)) is not None:
            src["port"] = port
        else:
            kv["Src-port"] = raw  # not a port: keep it as the vendor wrote it
    raw = pop("Dst-ip", "")
    if raw:
        _set_ip(dst, raw)
    raw = pop("Dst-port", "")
    if raw:
        if (port := _port(raw)) is not None:
            dst["port"] = port
        else:
            kv["Dst-port"] = raw
    observer: dict[str, Any] = {}
    if host:
        observer["hostname"] = host
    sip: dict[str, Any] = {}
    if "ipaddr" in kv or "Local-ip" in kv or "Local-port" in kv or "Action" in kv:
        _local(kv, src, dst, observer, sip)

    network: dict[str, Any] = {}
    tls: dict[str, Any] = {}
    protocol = pop("Protocol", "")
    if protocol:
        low = protocol.lower()
        network["transport"] = _TRANSPORTS.get(low, low)
        if low == "tls":
            tls["established"] = True
    service = pop("Service", "")
    if service:
        network["application"] = service
        proto = _SERVICE_PROTOCOL.get(service.lower())
        if proto:
            network["protocol"] = proto
    elif module in ("network.sip", "network.h323"):
        network["protocol"] = module[8:]

    call: dict[str, Any] = {}
    caller = pop("Src-alias", "")
    if caller:
        call["caller"] = caller
        _alias(src, caller, call, "caller_number")
    callee = pop("Dst-alias", "")
    if callee:
        call["callee"] = callee
        _alias(dst, callee, call, "callee_number")
    serial = pop("Call-serial-number", "")
    if serial:
        call["id"] = serial
    auth = kv.get("Auth", "").upper()
    if auth in ("YES", "NO"):
        del kv["Auth"]
        call["authenticated"] = auth == "YES"

    registration: dict[str, Any] = {}
    is_registration = action in ("sip-register", "sip-unregister")
    aor = pop("AOR", "")
    if aor:
        registration["aor"] = aor
        if "user" not in src:
            _alias(src, aor, None, "")
    contact = pop("Contact", "")
    if contact:
        if is_registration:
            registration["contact"] = contact
        else:
            sip["contact"] = contact
    duration = kv.get("Duration", "")
    if duration and (seconds := _small_int(duration, 999_999_999)) is not None:
        if is_registration:
            del kv["Duration"]
            registration["expires"] = seconds
        elif action == "call-end":
            del kv["Duration"]
            call["duration"] = float(seconds)
            ev["duration"] = seconds * 1_000_000_000

    code = kv.get("Response-code", "")
    if code and (status := _small_int(code, 999)) is not None:
        del kv["Response-code"]
        sip["status_code"] = status
    method = kv.get("Method", "")
    if method and method.isascii() and method.isalpha() and method.isupper():
        del kv["Method"]
        sip["method"] = method
    if "Request-URI" in kv or "To" in kv or "From" in kv or "Call-ID" in kv or "Call-id" in kv:
        for key, field in _SIP_ATTRIBUTES:
            value = pop(key, "")
            if value and field not in sip:
                sip[field] = value
    if module == "network.sip" and detail.startswith(("Receive ", "Send")):
        _sip_from_detail(sip, detail)

    user = pop("User", "")
    if user:
        out["user"] = {"name": user}

    if action == "route-lookup" and outcome is None and name.lower() == "search completed":
        low = f"{reason} {detail}".lower()
        if "not found" in low or "found:false" in low:
            outcome = "failure"
        elif "found:true" in low or reason.lower() == "found":
            outcome = "success"
    if action == "call-end" and reason:
        call["disconnect_cause"] = reason
    if outcome == "failure" and action in _AUTH_CAN_FAIL and "authentic" in f"{reason} {detail}".lower():
        category.append("authentication")

    if action == "tls-handshake" or module == "developer.ssl":
        _tls(kv, name, outcome, tls, src, dst, network)
        if not reason:
            reason = pop("ssl_error_reason", "")

    if reason:
        ev["reason"] = reason
    elif outcome == "failure" and detail:
        ev["reason"] = detail
    if outcome:
        ev["outcome"] = outcome
    if category:
        ev["category"] = category
        ev["type"] = list(kind.type)

    message = f"{free} {detail}" if free and detail else free or detail
    if message:
        out["message"] = message

    if tags:
        first = tags[0]
        bracket = first.find("[")
        pid = first[bracket + 1:-1] if bracket > 0 else ""
        if pid.isascii() and pid.isdigit():
            out["process"] = {"name": first[:bracket], "pid": int(pid)}
        else:
            out["process"] = {"name": first}
        ev["provider"] = tags[-1].split("[", 1)[0]
    elif (node := kv.get("Node", "")) and "@" in node:
        ev["provider"] = node.split("@", 1)[0]

    if src:
        out["source"] = src
    if dst:
        out["destination"] = dst
    if network:
        out["network"] = network
    if tls:
        out["tls"] = tls
    if observer:
        out["observer"] = observer
    log: dict[str, Any] = {}
    if level_word:
        log["level"] = level_word
    if module:
        log["logger"] = module
    if pri is not None:
        facility, severity = divmod(pri, 8)
        log["syslog"] = {
            "priority": pri,
            "facility": {"code": facility, "name": SYSLOG_FACILITIES[facility]},
            "severity": {"code": severity, "name": SYSLOG_SEVERITIES[severity]},
        }
    if log:
        out["log"] = log

    uc: dict[str, Any] = {}
    if sip:
        uc["sip"] = sip
    if call:
        uc["call"] = call
    if registration:
        uc["registration"] = registration
    vendor: dict[str, Any] = {k: v for k, v in kv.items() if v} if "" in kv.values() else kv
    if dups:
        for key, values in dups.items():
            first_value = vendor.pop(key, None)
            vendor[key] = [first_value, *values] if first_value else values
    if vendor:
        uc["vendor"] = vendor
    if uc:
        out["uc"] = uc
    return out


def _sip_from_detail(sip: dict[str, Any], detail: str) -> None:
    pairs = _detail_pairs(detail)
    method = pairs.get("Method", "")
    if method and "method" not in sip and method.isascii() and method.isalpha():
        sip["method"] = method.upper()
    status = _small_int(pairs.get("Code", ""), 999)
    if status is not None and "status_code" not in sip:
        sip["status_code"] = status
    for key, field in (("CSeq", "cseq"), ("Request-URI", "request_uri"), ("Call-ID", "call_id"),
                       ("From-Tag", "from_tag"), ("To-Tag", "to_tag"), ("To", "to_uri"), ("From", "from_uri")):
        value = pairs.get(key, "")
        if value and field not in sip:
            sip[field] = value


def _tls(kv: dict[str, str], name: str, outcome: str | None, tls: dict[str, Any],
         src: dict[str, Any], dst: dict[str, Any], network: dict[str, Any]) -> None:
    """TLS details of a negotiation error or a developer.ssl line."""
    if outcome == "failure":
        tls["established"] = False
    elif outcome == "success":
        tls["established"] = True
    low = name.lower()
    inbound = low.startswith("inbound")
    if inbound or low.startswith("outbound"):
        network["direction"] = "inbound" if inbound else "outbound"
    common_name = kv.pop("Common-name", "")
    if common_name:
        tls["client" if inbound else "server"] = {"x509": {"subject": {"common_name": [common_name]}}}
    # developer.ssl: localAddress/remoteAddress, bServer says which side the Expressway was
    local, remote = kv.get("localAddress", ""), kv.get("remoteAddress", "")
    if local and remote:
        server = kv.get("bServer", "").lower()
        if server in ("true", "false"):
            peer, me = (src, dst) if server == "true" else (dst, src)
            for endpoint, value, key in ((peer, remote, "remoteAddress"), (me, local, "localAddress")):
                ip, port = _socket(value)
                if ip is not None and not endpoint:
                    endpoint["ip"] = ip
                    if port is not None:
                        endpoint["port"] = port
                    del kv[key]


def _continuation(event: ParsedEvent, lines: list[str]) -> None:
    """Lines after the first: a SIP message after `SIPMSG:`, else more text of the message."""
    if lines and lines[0].strip() == "SIPMSG:":
        found = parse_sipmsg(lines[1:])
        if not found:
            return
        start = found.pop("_start_line")
        transport = found.pop("_transport", None)
        expires = found.pop("_expires", None)
        uc = event.setdefault("uc", {})
        sip = uc.setdefault("sip", {})
        for key, value in found.items():
            sip.setdefault(key, value)
        if "user_agent" in sip:
            event["user_agent"] = {"original": sip["user_agent"]}
        net = event.get("network")
        if transport and (net is None or "transport" not in net):
            low = transport.lower()
            if low in _TRANSPORTS:
                event.setdefault("network", {})["transport"] = _TRANSPORTS[low]
                if low == "tls":
                    event.setdefault("tls", {}).setdefault("established", True)
        if sip.get("method") == "REGISTER" and "status_code" not in sip:
            reg = uc.setdefault("registration", {})
            if "to_uri" in sip:
                reg.setdefault("aor", sip["to_uri"])
            if "contact" in sip:
                reg.setdefault("contact", sip["contact"])
            if expires is not None:
                reg.setdefault("expires", expires)
        if "message" not in event:
            event["message"] = start
        return
    text = "\n".join(line.rstrip() for line in lines).strip("\n")
    if text:
        event["message"] = f"{event['message']}\n{text}" if "message" in event else text
