"""Event assembly: the only place that writes the event (`assemble` for syslog, `assemble_cdr`)."""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import Kind, ParsedEvent, add_group, kind_fields, present

from .body import IDS_LOG, OTHER, SIP_HEADER, CdrBody, SyslogBody
from .header import Header

_NS = 1_000_000_000


def assemble(header: Header, body: SyslogBody, found: Kind) -> ParsedEvent:
    """Only the values present are written (no `prune` walk afterwards: see assemble_cdr)."""
    sip = body.family in (IDS_LOG, SIP_HEADER)
    ev = kind_fields(found) | present({
        "severity": header.severity,
        "code": None if body.family in (SIP_HEADER, OTHER) else body.family,  # a login wording, IDS_LOG
        "reason": body.demote_reason,
    })
    event: ParsedEvent = {"@timestamp": header.time, "event": ev}
    if header.text:
        event["message"] = header.text
    log: dict[str, Any] = {"syslog": header.syslog | {"hostname": header.host} if header.host else header.syslog}
    if level := header.level.lower():
        log["level"] = level
    add_group(event, "log", present(log))
    add_group(event, "observer", present({"hostname": header.host,
                                      "ip": [header.sender_ip] if header.sender_ip else None}))
    add_group(event, "process", present({"name": header.task}))
    add_group(event, "user", present({"name": body.user}))
    if body.source_ip is not None:
        add_group(event, "source", present({"ip": body.source_ip, "port": body.source_port}))
    if sip:
        event["network"] = {"protocol": "sip"}
    vendor: dict[str, Any] = {
        "task_id": header.task_id,
        "message_number" if header.task_id is None else "number": header.number,
        "interface": body.interface,
        "session": body.session,
        "sip_header": body.sip_header,
    }
    if body.family == IDS_LOG:
        vendor |= {"realm": body.realm, "trust_level": body.trust_level, "verdict": body.verdict, "ttl": body.ttl,
                   "exp": body.exp, "demoted_to": body.demoted_to}
    uc: dict[str, Any] = {}
    if sip:
        add_group(uc, "sip", present({
            "method": body.method, "request_uri": body.request_uri, "from_uri": body.from_uri,
            "to_uri": body.to_uri, "contact": body.contact, "call_id": body.call_id, "cseq": body.cseq,
            "user_agent": body.user_agent,
        }))
    add_group(uc, "vendor", present(vendor))
    add_group(event, "uc", uc)
    if body.tags:
        event["tags"] = list(body.tags)
    return event


def assemble_cdr(body: CdrBody, found: Kind) -> ParsedEvent:
    """Only the values present are written: `prune` walking the event afterwards was a fifth of this
    parser's time. `body.vendor` holds non-empty values only."""
    ev = kind_fields(found) | present({
        "code": body.code,
        "reason": body.terminate_cause,
        "duration": None if body.duration is None else int(body.duration * _NS),
    })
    event: ParsedEvent = {"@timestamp": body.time, "event": ev}
    add_group(event, "observer", present({"ip": [body.observer_ip] if body.observer_ip else None,
                                      "version": body.firmware}))
    add_group(event, "network", present({"protocol": body.protocol}))
    add_group(event, "source", _endpoint(body.source_ip, body.caller_user, body.caller_domain))
    add_group(event, "destination", _endpoint(body.destination_ip, body.callee_user, body.callee_domain))
    uc: dict[str, Any] = {}
    add_group(uc, "call", present({
        "leg_id": body.leg_id,
        "setup_time": body.setup_time,
        "connect_time": body.connect_time,
        "end_time": body.end_time,
        "trunk": body.trunk,
        "caller": body.caller,
        "callee": body.callee,
        "duration": body.duration,
        "disconnect_cause": body.disconnect_cause,
        "disconnect_side": body.disconnect_side,
    }))
    add_group(uc, "sip", present({"call_id": body.sip_call_id, "status_code": body.sip_status}))
    add_group(uc, "media", present({
        "remote_ip": body.media_remote_ip,
        "remote_port": body.media_remote_port,
        "local_ip": body.media_local_ip,
        "local_port": body.media_local_port,
    }))
    if body.vendor:
        uc["vendor"] = body.vendor
    add_group(event, "uc", uc)
    if body.tags:
        event["tags"] = body.tags
    return event


def _endpoint(ip: str | None, name: str | None, domain: str | None) -> dict[str, Any]:
    endpoint: dict[str, Any] = {"ip": ip} if ip else {}
    add_group(endpoint, "user", present({"name": name, "domain": domain}))
    return endpoint
