"""Event assembly: the only place that writes the event (README.md has the mapping)."""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import Kind, ParsedEvent, kind_fields, prune, split_uri_user

from .body import MAX_VENDOR_TEXT, Body, DiagnosticBody, ProtocolBody
from .header import Header
from .tracelines import TraceLines
from .values import CALL_METHODS, TRANSPORTS


def assemble(header: Header, body: Body, found: Kind) -> ParsedEvent:
    if isinstance(body, ProtocolBody):
        return assemble_protocol(header, body, found)
    return assemble_diagnostic(header, body, found)


def assemble_protocol(header: Header, body: ProtocolBody, found: Kind) -> ParsedEvent:
    sip, status, method = body.sip, body.status, body.method
    source: dict[str, Any] = {}
    destination: dict[str, Any] = {}
    if body.peer is not None:
        (destination if body.way == "outgoing" else source).update(body.peer)  # incoming or unsaid: it sent
    from_uri, to_uri = sip.get("from_uri"), sip.get("to_uri")
    from_user, from_domain = split_uri_user(from_uri) if from_uri else (None, None)
    to_user, to_domain = split_uri_user(to_uri) if to_uri else (None, None)
    if status is None:  # a request: From is the party on the sending side, To the one addressed
        source["user"] = {"name": from_user, "domain": from_domain}
        destination["user"] = {"name": to_user, "domain": to_domain}
    call: dict[str, Any] | None = None
    if method in CALL_METHODS:
        # the SIP Call-ID is all the trace has: it stays uc.sip.call_id (parsers/README.md, "Call ids")
        call = {"caller": from_uri, "callee": to_uri}
        if found.action == "call-end":
            call["disconnect_cause"] = body.diag_reason or body.reason_header or method
        elif found.action == "call-reject":
            call["disconnect_cause"] = body.diag_reason or f"{status} {sip.get('reason_phrase', '')}".strip()
    transport = body.transport
    register = method == "REGISTER"
    return prune({
        "@timestamp": header.timestamp,
        "message": body.text,
        "event": kind_fields(found) | {
            "provider": header.component,
            "code": body.diag_code,
            "reason": body.diag_reason or (sip.get("reason_phrase") if found.outcome == "failure" else None),
        },
        "log": {"level": header.level, "logger": _logger(header)[0]},
        "process": {"pid": header.pid},
        "observer": {"hostname": _observer_host(header)},
        "tags": (_tags(header, body.trace) or []) + body.tags,
        "network": {"protocol": "sip", "direction": body.perimeter,
                    "transport": TRANSPORTS.get(transport, transport.lower()) if transport else None},
        "source": source,
        "destination": destination,
        "user": {"name": from_user, "domain": from_domain} if register or found.action == "sip-auth" else None,
        "uc": {
            "registration": {"aor": to_uri, "contact": sip.get("contact"), "expires": body.expires}
            if register else None,
            "call": call,
            "sip": sip,
            "vendor": _trace_vendor(header, body.trace) | {
                "direction_source": body.sides.get("source"),
                "direction_destination": body.sides.get("destination"),
                "transport": transport if transport not in (None, "TCP", "UDP", "SCTP") else None,
                "auth_schemes_offered": body.offered,
                "auth_scheme": body.used[0] if body.used else None,
                "ms_diagnostics": body.diagnostics,
                "ms_diagnostics_source": body.diag_source,
            },
        },
    })


def assemble_diagnostic(header: Header, body: DiagnosticBody, found: Kind) -> ParsedEvent:
    data = body.data
    tls: dict[str, Any] | None = None
    if found.action == "certificate":
        tls = {"established": False,
               "server": {"x509": {"subject": {"common_name": [data["certname"]]}}} if data.get("certname") else None,
               "client": {"server_name": data.get("expected-fqdn")}}
    reason = body.reason or header.text
    return prune({
        "@timestamp": header.timestamp,
        "message": body.text,
        "event": kind_fields(found) | {
            "provider": header.component,
            "code": body.result_name[:128] if body.result_name else None,
            "reason": reason[:MAX_VENDOR_TEXT] if reason else None,
        },
        "log": {"level": header.level, "logger": _logger(header)[0]},
        "process": {"pid": header.pid},
        "observer": {"hostname": _observer_host(header)},
        "tags": _tags(header, body.trace),
        "tls": tls,
        "network": {"protocol": "sip"} if body.sip else None,
        "uc": {
            "sip": body.sip,
            # which side the peer was on is not written: no source/destination
            "vendor": _trace_vendor(header, body.trace) | {"result_code": body.result_hex, "peer": body.peer[:256]}
            | {f"data_{key}": value[:256] for key, value in data.items()},
        },
    })


def _tags(header: Header, trace: TraceLines) -> list[str] | None:
    # cut before `$$end_record`: what is there is still read
    return ["incomplete_record"] if header.begin and not trace.ended else None


def _logger(header: Header) -> tuple[str, str]:
    """`Class::Function:File.cpp` -> (`Class::Function`, `File.cpp`)."""
    function, _, source_file = header.function.rpartition(":")
    if not function or "." not in source_file:
        return header.function.strip(), ""
    return function.strip(), source_file.strip()


def _observer_host(header: Header) -> str | None:
    origin = header.origin.strip()
    if origin and not (origin.isascii() and origin.isdecimal()):
        host = origin.split("\\", 1)[0].strip()
        if host and " " not in host:
            return host
    return None


def _trace_vendor(header: Header, trace: TraceLines) -> dict[str, Any]:
    """The header's and the trace fields' identity members of uc.vendor."""
    fields = trace.fields
    origin = header.origin.strip()
    numeric = origin.isascii() and origin.isdecimal()
    return {
        "trace_flag": header.flag, "thread_id": header.tid, "sequence": header.sequence,
        "source_line": header.source_line, "source_file": _logger(header)[1],
        "cpu": int(origin[:6]) if numeric else None,
        "origin": origin if not numeric else None,  # `machine\role` in CLS searches merged from several servers
        "trace_correlation_id": fields.get("trace-correlation-id") or header.correlation,
        "instance_id": fields.get("instance-id"), "message_type": fields.get("message-type"),
        "log_type": fields.get("logtype"), "severity": fields.get("severity"),
        "object": header.object, "trace_text": header.text[:MAX_VENDOR_TEXT] if header.text else None,
    }
