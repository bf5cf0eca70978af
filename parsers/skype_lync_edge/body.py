"""The record after its header, read into typed values: a protocol record (one SIP message the Edge received
or sent) or a diagnostic record (a failure named by its `Result-Code`). `tracelines.py` reads the
`Name: value` lines; this step reads the SIP message and the diagnostic out of them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ucsiem.parsing import ParseError, name_addr, sip_params

from .header import SHOWN, Header
from .tracelines import TraceLines
from .values import EDGE_SIDES, PERIMETER, auth_scheme, cseq_method, peer_endpoint, start_line, via_transport

MAX_VENDOR_TEXT = 1024


class ProtocolBody(NamedTuple):
    trace: TraceLines
    text: str  # the record as written, up to `$$end_record`
    sip: dict[str, Any]  # uc.sip members: start line, Call-ID, CSeq, From/To, Contact, User-Agent, direction
    method: str | None  # of the request, or from CSeq on a response
    status: int | None  # of a response
    way: str  # `incoming`, `outgoing` (Direction), lower case
    perimeter: str | None  # network.direction from the Direction's internal/external edge sides
    sides: dict[str, str]  # Direction parameters (source, destination) as written
    transport: str | None  # of the top Via (`TLS`)
    peer: dict[str, Any] | None  # Peer as address, port, ip or domain
    challenged: bool  # WWW-/Proxy-Authenticate present
    authorized: bool  # Authorization/Proxy-Authorization present
    offered: list[str]  # the authentication schemes a 401/407 offers
    used: list[str]  # the schemes a request's credentials use
    diagnostics: str  # ms-diagnostics (or its -public twin) as written
    diag_code: str | None  # its number
    diag_reason: str | None
    diag_source: str | None
    expires: int | None  # Expires, else the expires a 200 OK grants on its Contact
    reason_header: str  # Reason (why a BYE/CANCEL ended the call)
    tags: list[str]  # `bad_port` when the Peer's port is not a port


class DiagnosticBody(NamedTuple):
    trace: TraceLines
    text: str  # the record as written, up to `$$end_record`
    reason: str  # Text (split from a run-on `Result-Code:`)
    result_hex: str | None  # Result-Code HRESULT, lower case
    result_name: str | None  # Result-Code name (`SIPPROXY_E_ROUTING_MSG_CERT_MISMATCH`)
    sip: dict[str, Any]  # uc.sip members from SIP-Start-Line, SIP-Call-ID, SIP-CSeq
    peer: str
    data: dict[str, str]  # Data parameters (`domain`, `certname`, `expected-fqdn`...)


Body = ProtocolBody | DiagnosticBody


def is_protocol(trace: TraceLines) -> bool:
    """A protocol record has `Start-Line`/`Message-Type`; the others are diagnostics."""
    return "start-line" in trace.fields or "message-type" in trace.fields


def first_header(headers: dict[str, list[str]], *names: str) -> str:
    for name in names:
        values = headers.get(name)
        if values and values[0]:
            return values[0]
    return ""


def _sip_common(sip: dict[str, Any], call_id: str, cseq: str) -> None:
    if call_id:
        sip["call_id"] = "".join(call_id.split())
    if cseq:
        sip["cseq"] = " ".join(cseq.split())
        if "method" not in sip and (method := cseq_method(cseq)):
            sip["method"] = method


def read_protocol(lines: list[str], trace: TraceLines) -> ProtocolBody:
    fields, headers = trace.fields, trace.headers
    sip: dict[str, Any] = start_line(fields.get("start-line", ""))
    status: int | None = sip.get("status_code")
    _sip_common(sip, first_header(headers, "call-id", "i"), first_header(headers, "cseq"))
    method: str | None = sip.get("method")
    if status is None and method is None:
        raise ParseError("bad_field", f"Start-Line is neither a request nor a response: "
                         f"{fields.get('start-line', '')[:SHOWN]!r}")
    for names, uri_key, tag_key in ((("from", "f"), "from_uri", "from_tag"), (("to", "t"), "to_uri", "to_tag")):
        if value := first_header(headers, *names):
            uri, tag = name_addr(value)
            if uri:
                sip[uri_key] = uri
            if tag:
                sip[tag_key] = tag
    if contact := first_header(headers, "contact", "m"):
        sip["contact"] = contact
    if agent := first_header(headers, "user-agent", "server"):
        sip["user_agent"] = agent

    # Direction: incoming;source="internal edge";destination="external edge"
    way, sides = sip_params(fields.get("direction", ""))
    way = way.lower()
    if way in ("incoming", "outgoing"):
        sip["direction"] = "received" if way == "incoming" else "sent"
    src_side = EDGE_SIDES.get(sides.get("source", "").lower())
    dst_side = EDGE_SIDES.get(sides.get("destination", "").lower())
    perimeter = PERIMETER[(src_side, dst_side)] if src_side and dst_side else None
    transport = via_transport(first_header(headers, "via", "v"))
    peer = fields.get("peer", "")
    tags: list[str] = []
    endpoint = peer_endpoint(peer, tags) if peer else None

    # Authentication headers: the schemes offered (401/407) or used (requests)
    challenges = headers.get("www-authenticate", []) + headers.get("proxy-authenticate", [])
    credentials = headers.get("authorization", []) + headers.get("proxy-authorization", [])
    offered = list(dict.fromkeys(s for s in map(auth_scheme, challenges) if s))
    used = list(dict.fromkeys(s for s in map(auth_scheme, credentials) if s))

    # ms-diagnostics: <code>; reason="..."; source="..." (the header or its -public twin)
    diagnostics = first_header(headers, "ms-diagnostics", "ms-diagnostics-public")
    diag_code = diag_reason = diag_source = None
    if diagnostics:
        head, found = sip_params(diagnostics)
        diag_code = head if head.isascii() and head.isdecimal() and len(head) <= 10 else None
        diag_reason = found.get("reason") or None
        diag_source = found.get("source") or None
    expires_text = first_header(headers, "expires")
    expires = int(expires_text) if expires_text.isascii() and expires_text.isdecimal() and len(expires_text) <= 9 \
        else None
    contact = sip.get("contact", "")
    close = contact.find(">", max(contact.find("<"), 0))
    _, contact_params = sip_params(contact[close + 1:] if close >= 0 else contact)  # the parameters after <uri>
    granted = contact_params.get("expires", "")
    if expires is None and granted.isascii() and granted.isdecimal() and len(granted) <= 9:
        expires = int(granted)  # a 200 OK grants the expiry on its Contact
    return ProtocolBody(trace, _record_text(lines, trace), sip, method, status, way, perimeter, sides, transport,
                        endpoint, bool(challenges), bool(credentials), offered, used, diagnostics[:MAX_VENDOR_TEXT],
                        diag_code, diag_reason, diag_source, expires, first_header(headers, "reason"), tags)


def read_diagnostic(header: Header, lines: list[str], trace: TraceLines) -> DiagnosticBody:
    fields = trace.fields
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
    sip: dict[str, Any] = start_line(fields.get("sip-start-line", ""))
    _sip_common(sip, fields.get("sip-call-id", ""), fields.get("sip-cseq", ""))
    _, data = sip_params(";" + fields["data"]) if fields.get("data") else ("", {})
    return DiagnosticBody(trace, _record_text(lines, trace), text, result_hex, result_name, sip,
                          fields.get("peer", ""), data)


def _record_text(lines: list[str], trace: TraceLines) -> str:
    return "\n".join(lines[: trace.used + 1]).rstrip()
