"""Cisco Expressway / VCS: event log, admin audit, alarms, network/developer log and SIP message logging.

One record is one line, or a `network.sip` DEBUG line followed by `SIPMSG:` and the SIP message
(framed as one multi-line record). The header is split in `header.py`, the `Name="value"` body scanned
in `kv.py`, event names classified in `events.py`, the SIP message read in `sipmsg.py`; this module maps
the attributes to the schema (`_assemble`; README.md has the table).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ucsiem.parsing import SYSLOG_FACILITIES, SYSLOG_SEVERITIES, ParseContext, ParsedEvent, ParseError, RawRecord

from .events import Kind, classify, module_kind
from .fields import as_port, detail_pairs, map_alias, map_local, set_ip, small_int, socket_address
from .header import FIRST_LINE_PATTERN, SHOWN, header_time, split_header, utc_time
from .kv import scan
from .sipmsg import parse_sipmsg

__all__ = ["FIRST_LINE_PATTERN", "parse"]

_TRANSPORTS = {"udp": "udp", "tcp": "tcp", "tls": "tcp", "sctp": "sctp"}
_SERVICE_PROTOCOL = {
    "sip": "sip", "h.323": "h323", "h323": "h323", "h.225": "h323", "h.245": "h323", "q.931": "h323",
    "ras": "h323", "neighbourgatekeeper": "h323", "ldap": "ldap", "http": "http", "https": "http",
    "dns": "dns", "ssh": "ssh", "xmpp": "xmpp",
}
_MANAGEMENT_SERVICES = frozenset(("http", "https", "ssh", "web", "tsh"))
_SIP_ATTRIBUTES = (("Request-URI", "request_uri"), ("To", "to_uri"), ("From", "from_uri"), ("Call-ID", "call_id"),
                   ("Call-id", "call_id"))
_GENERIC = Kind("diagnostic", (), ())
# rejections that add the `authentication` category when their reason is an authentication failure
_AUTH_CAN_FAIL = frozenset(("sip-register", "sip-unregister", "sip-message-reject", "call-reject"))


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    text = record.text
    nl = text.find("\n")
    line = text if nl < 0 else text[:nl]
    ts_text, ts_style, host, tags, body, pri = split_header(line)
    if not body.strip():
        raise ParseError("truncated", f"syslog header without a message: {line[:SHOWN]!r}")
    kv, free, dups = scan(body)
    if not kv and not tags:
        raise ParseError("no_match", f"no Name=\"value\" pairs and no process tag: {line[:SHOWN]!r}")
    utc = kv.pop("UTCTime", "")
    ts = utc_time(utc) if utc else None
    if ts is None:
        if utc:
            kv["UTCTime"] = utc  # unusable: keep it for the reader
        ts = header_time(ts_text, ts_style, ctx)
    event = _assemble(kv, free, dups, ts, host, tags, pri)
    if nl >= 0:
        _continuation(event, text[nl + 1:].split("\n"))
    return [event]


def _endpoint(kv: dict[str, str], side: str) -> dict[str, Any]:
    """`<side>-ip` / `<side>-port` -> source or destination fields (popped from `kv`)."""
    endpoint: dict[str, Any] = {}
    raw = kv.pop(f"{side}-ip", "")
    if raw:
        set_ip(endpoint, raw)
    raw = kv.pop(f"{side}-port", "")
    if raw:
        if (port := as_port(raw)) is not None:
            endpoint["port"] = port
        else:
            kv[f"{side}-port"] = raw  # not a port: keep it as the vendor wrote it
    return endpoint


def _assemble(kv: dict[str, str], free: str, dups: dict[str, list[str]] | None, ts: datetime,
              host: str | None, tags: list[str], pri: int | None) -> ParsedEvent:
    pop = kv.pop
    name = pop("Event", "")
    module = pop("Module", "")
    level = pop("Level", "")
    detail = pop("Detail", "")
    reason = pop("Reason", "")
    level_word = level.lower() if level and not level.isdecimal() else ""
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

    src = _endpoint(kv, "Src")
    dst = _endpoint(kv, "Dst")
    observer: dict[str, Any] = {}
    if host:
        observer["hostname"] = host
    sip: dict[str, Any] = {}
    if "ipaddr" in kv or "Local-ip" in kv or "Local-port" in kv or "Action" in kv:
        map_local(kv, src, dst, observer, sip)

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
        map_alias(src, caller, call, "caller_number")
    callee = pop("Dst-alias", "")
    if callee:
        call["callee"] = callee
        map_alias(dst, callee, call, "callee_number")
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
            map_alias(src, aor, None, "")
    contact = pop("Contact", "")
    if contact:
        if is_registration:
            registration["contact"] = contact
        else:
            sip["contact"] = contact
    duration = kv.get("Duration", "")
    if duration and (seconds := small_int(duration, 999_999_999)) is not None:
        if is_registration:
            del kv["Duration"]
            registration["expires"] = seconds
        elif action == "call-end":
            del kv["Duration"]
            call["duration"] = float(seconds)
            ev["duration"] = seconds * 1_000_000_000

    code = kv.get("Response-code", "")
    if code and (status := small_int(code, 999)) is not None:
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
        if pid.isascii() and pid.isdecimal():
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
    pairs = detail_pairs(detail)
    method = pairs.get("Method", "")
    if method and "method" not in sip and method.isascii() and method.isalpha():
        sip["method"] = method.upper()
    status = small_int(pairs.get("Code", ""), 999)
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
                ip, port = socket_address(value)
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
