"""Skype for Business / Lync Server SIPStack trace records (CLS, OCSLogger/TraceFmt, Snooper text export).

One record = the header line (`header.py`), then `Name: value` lines up to `$$end_record`
(`record.py`). A protocol record (it has `Start-Line`/`Message-Type`) is one SIP message the Edge
received or sent; other records (`TF_DIAG`, `TF_COMPONENT`, `TF_CONNECTION`...) are diagnostics whose
`Result-Code` names the failure. `classify.py` maps both to actions; README.md has the tables.
"""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord, prune, split_uri_user

from .classify import Kind, diag_kind, sip_kind
from .header import FIRST_LINE_PATTERN, SHOWN, Header, parse_header
from .record import Body, split_body
from .sipfields import auth_scheme, cseq_method, name_addr, params, peer_endpoint, start_line, via_transport

__all__ = ["FIRST_LINE_PATTERN", "parse"]

MAX_VENDOR_TEXT = 1024
_TRANSPORTS = {"TLS": "tcp", "TCP": "tcp", "MTLS": "tcp", "UDP": "udp", "SCTP": "sctp"}
_EDGE_SIDES = {"internal edge": "internal", "external edge": "external"}
# (source side, destination side) -> ECS network.direction, from the perimeter's point of view
_PERIMETER = {("internal", "external"): "outbound", ("external", "internal"): "inbound",
              ("internal", "internal"): "internal", ("external", "external"): "external"}
_CALL_METHODS = frozenset(("INVITE", "BYE", "CANCEL"))


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One SIPStack record -> one event. Time is UTC as written (ctx.timezone is not used)."""
    del ctx
    text = record.text
    lines = text.split("\n")
    if not lines[0].strip():
        raise ParseError("no_match", "empty record")
    header = parse_header(lines[0].rstrip("\r"))
    body = split_body(lines[1:])
    event: ParsedEvent = {
        "@timestamp": header.timestamp,
        "message": "\n".join(lines[: body.used + 1]).rstrip(),
        "event": {"provider": header.component},
        "log": {"level": header.level},
        "process": {"pid": header.pid},
    }
    vendor = _trace_vendor(header, body, event)
    if header.begin and not body.ended:
        event["tags"] = ["incomplete_record"]  # cut before `$$end_record`: what is there is still read
    if "start-line" in body.fields or "message-type" in body.fields:
        _protocol(body, event, vendor)
    else:
        _diagnostic(header, body, event, vendor)
    event.setdefault("uc", {})["vendor"] = vendor
    return [prune(event)]


def _trace_vendor(header: Header, body: Body, event: ParsedEvent) -> dict[str, Any]:
    """Header and trace identity fields: log.logger, observer.hostname and uc.vendor."""
    function, _, source_file = header.function.rpartition(":")
    if not function or "." not in source_file:
        function, source_file = header.function, ""
    event["log"]["logger"] = function.strip()
    vendor: dict[str, Any] = {"trace_flag": header.flag, "thread_id": header.tid, "sequence": header.sequence,
                              "source_line": header.source_line}
    if source_file:
        vendor["source_file"] = source_file.strip()
    origin = header.origin.strip()
    if origin.isascii() and origin.isdecimal():
        vendor["cpu"] = int(origin[:6])
    elif origin:
        vendor["origin"] = origin  # `machine\role` in CLS searches merged from several servers
        host = origin.split("\\", 1)[0].strip()
        if host and " " not in host:
            event["observer"] = {"hostname": host}
    correlation = body.fields.get("trace-correlation-id") or header.correlation
    if correlation:
        vendor["trace_correlation_id"] = correlation
    for key, name in (("instance-id", "instance_id"), ("message-type", "message_type"), ("logtype", "log_type"),
                      ("severity", "severity")):
        if body.fields.get(key):
            vendor[name] = body.fields[key]
    if header.object:
        vendor["object"] = header.object
    if header.text:
        vendor["trace_text"] = header.text[:MAX_VENDOR_TEXT]
    return vendor


def _first(headers: dict[str, list[str]], *names: str) -> str:
    for name in names:
        values = headers.get(name)
        if values and values[0]:
            return values[0]
    return ""


def _apply(kind: Kind, event: ParsedEvent) -> None:
    ev = event["event"]
    ev.update(kind=kind.kind, action=kind.action, category=list(kind.category), type=list(kind.type))
    if kind.outcome:
        ev["outcome"] = kind.outcome


def _sip_common(sip: dict[str, Any], call_id: str, cseq: str) -> None:
    if call_id:
        sip["call_id"] = "".join(call_id.split())
    if cseq:
        sip["cseq"] = " ".join(cseq.split())
        if "method" not in sip and (method := cseq_method(cseq)):
            sip["method"] = method


def _protocol(body: Body, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    fields, headers = body.fields, body.headers
    sip: dict[str, Any] = start_line(fields.get("start-line", ""))
    status: int | None = sip.get("status_code")
    _sip_common(sip, _first(headers, "call-id", "i"), _first(headers, "cseq"))
    method: str | None = sip.get("method")
    if status is None and method is None:
        raise ParseError("bad_field", f"Start-Line is neither a request nor a response: "
                         f"{fields.get('start-line', '')[:SHOWN]!r}")
    for names, uri_key, tag_key in ((("from", "f"), "from_uri", "from_tag"), (("to", "t"), "to_uri", "to_tag")):
        if value := _first(headers, *names):
            uri, tag = name_addr(value)
            if uri:
                sip[uri_key] = uri
            if tag:
                sip[tag_key] = tag
    if contact := _first(headers, "contact", "m"):
        sip["contact"] = contact
    if agent := _first(headers, "user-agent", "server"):
        sip["user_agent"] = agent

    # Direction: incoming;source="internal edge";destination="external edge"
    way, sides = params(fields.get("direction", ""))
    way = way.lower()
    if way in ("incoming", "outgoing"):
        sip["direction"] = "received" if way == "incoming" else "sent"
    network: dict[str, Any] = {"protocol": "sip"}
    src_side, dst_side = _EDGE_SIDES.get(sides.get("source", "").lower()), _EDGE_SIDES.get(
        sides.get("destination", "").lower())
    if src_side and dst_side:
        network["direction"] = _PERIMETER[(src_side, dst_side)]
    for key in ("source", "destination"):
        if sides.get(key):
            vendor[f"direction_{key}"] = sides[key]
    transport = via_transport(_first(headers, "via", "v"))
    if transport:
        network["transport"] = _TRANSPORTS.get(transport, transport.lower())
        if transport not in ("TCP", "UDP", "SCTP"):
            vendor["transport"] = transport
    event["network"] = network

    source: dict[str, Any] = {}
    destination: dict[str, Any] = {}
    if peer := fields.get("peer", ""):
        endpoint = peer_endpoint(peer)
        if way == "outgoing":
            destination.update(endpoint)
        else:  # incoming, or no direction: the peer sent it
            source.update(endpoint)

    # Authentication headers: the schemes offered (401/407) or used (requests)
    challenges = headers.get("www-authenticate", []) + headers.get("proxy-authenticate", [])
    credentials = headers.get("authorization", []) + headers.get("proxy-authorization", [])
    offered = list(dict.fromkeys(s for s in map(auth_scheme, challenges) if s))
    used = list(dict.fromkeys(s for s in map(auth_scheme, credentials) if s))
    if offered:
        vendor["auth_schemes_offered"] = offered
    if used:
        vendor["auth_scheme"] = used[0]

    # ms-diagnostics: <code>; reason="..."; source="..." (the header or its -public twin)
    diag_code, diag_reason = _ms_diagnostics(headers, vendor)
    expires_text = _first(headers, "expires")
    expires = int(expires_text) if expires_text.isascii() and expires_text.isdecimal() and len(expires_text) <= 9 \
        else None
    contact = sip.get("contact", "")
    close = contact.find(">", max(contact.find("<"), 0))
    _, contact_params = params(contact[close + 1:] if close >= 0 else contact)  # the parameters after <uri>
    granted = contact_params.get("expires", "")
    if expires is None and granted.isascii() and granted.isdecimal() and len(granted) <= 9:
        expires = int(granted)  # a 200 OK grants the expiry on its Contact
    unregister = expires == 0
    kind = sip_kind(method, status, challenged=bool(challenges), authorized=bool(credentials),
                    diagnosed=bool(diag_code), unregister=unregister)
    _apply(kind, event)
    ev = event["event"]
    if diag_code:
        ev["code"] = diag_code
    reason = diag_reason or (sip.get("reason_phrase") if kind.outcome == "failure" else None)
    if reason:
        ev["reason"] = reason

    from_user, from_domain = split_uri_user(sip.get("from_uri", "")) if sip.get("from_uri") else (None, None)
    to_user, to_domain = split_uri_user(sip.get("to_uri", "")) if sip.get("to_uri") else (None, None)
    if status is None:  # a request: From is the party on the sending side, To the one addressed
        source["user"] = {"name": from_user, "domain": from_domain}
        destination["user"] = {"name": to_user, "domain": to_domain}
    if method == "REGISTER" or kind.action == "sip-auth":
        event["user"] = {"name": from_user, "domain": from_domain}
    if method == "REGISTER":
        event.setdefault("uc", {})["registration"] = {"aor": sip.get("to_uri"), "contact": sip.get("contact"),
                                                      "expires": expires}
    if method in _CALL_METHODS:
        call: dict[str, Any] = {"id": sip.get("call_id"), "caller": sip.get("from_uri"), "callee": sip.get("to_uri")}
        if kind.action == "call-end":
            call["disconnect_cause"] = diag_reason or _first(headers, "reason") or method
        elif kind.action == "call-reject":
            call["disconnect_cause"] = diag_reason or f"{status} {sip.get('reason_phrase', '')}".strip()
        event.setdefault("uc", {})["call"] = call
    event["source"], event["destination"] = source, destination
    event.setdefault("uc", {})["sip"] = sip


def _ms_diagnostics(headers: dict[str, list[str]], vendor: dict[str, Any]) -> tuple[str | None, str | None]:
    raw = _first(headers, "ms-diagnostics", "ms-diagnostics-public")
    if not raw:
        return None, None
    vendor["ms_diagnostics"] = raw[:MAX_VENDOR_TEXT]
    head, found = params(raw)
    code = head if head.isascii() and head.isdecimal() and len(head) <= 10 else None
    reason = found.get("reason") or None
    if found.get("source"):
        vendor["ms_diagnostics_source"] = found["source"]
    return code, reason


def _diagnostic(header: Header, body: Body, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    fields = body.fields
    text = fields.get("text", "")
    result = fields.get("result-code", "")
    cut = text.find(" Result-Code: ")  # a copy can run `Result-Code` onto the `Text` line
    if cut >= 0:
        text, result = text[:cut].strip(), result or text[cut + len(" Result-Code: "):].strip()
    result_hex, result_name = header.result_hex, header.result_name
    if result:
        first, _, rest = result.partition(" ")
        if first.lower().startswith("0x"):
            result_hex, result_name = first.lower(), (rest.strip() or result_name)
        else:
            result_name = result.strip()
    if result_hex:
        vendor["result_code"] = result_hex
    sip: dict[str, Any] = start_line(fields.get("sip-start-line", ""))
    _sip_common(sip, fields.get("sip-call-id", ""), fields.get("sip-cseq", ""))
    kind = diag_kind(result_name, result_hex, sip.get("method"))
    _apply(kind, event)
    ev = event["event"]
    if result_name:
        ev["code"] = result_name[:128]
    reason = text or header.text
    if reason:
        ev["reason"] = reason[:MAX_VENDOR_TEXT]
    if peer := fields.get("peer", ""):
        vendor["peer"] = peer[:256]  # which side the peer was on is not written: no source/destination
    _, data = params(";" + fields["data"]) if fields.get("data") else ("", {})
    for key, value in data.items():
        if value:
            vendor[f"data_{key}"] = value[:256]
    if kind.action == "certificate":
        tls: dict[str, Any] = {"established": False}
        if data.get("certname"):
            tls["server"] = {"x509": {"subject": {"common_name": [data["certname"]]}}}
        if data.get("expected-fqdn"):
            tls["client"] = {"server_name": data["expected-fqdn"]}
        event["tls"] = tls
    if sip:
        event["network"] = {"protocol": "sip"}
        event.setdefault("uc", {})["sip"] = sip
