"""Event assembly: the only place that writes the event (`assemble` for syslog, `assemble_cdr`)."""

from __future__ import annotations

from ucsiem.parsing import Kind, ParsedEvent, kind_fields, prune

from .body import IDS_LOG, OTHER, SIP_HEADER, CdrBody, SyslogBody
from .header import Header

_NS = 1_000_000_000


def assemble(header: Header, body: SyslogBody, found: Kind) -> ParsedEvent:
    sip = body.family in (IDS_LOG, SIP_HEADER)
    return prune({
        "@timestamp": header.time,
        "message": header.text,
        "event": kind_fields(found) | {
            "severity": header.severity,
            "code": None if body.family in (SIP_HEADER, OTHER) else body.family,  # a login wording, IDS_LOG
            "reason": body.demote_reason,
        },
        "log": {"level": header.level.lower(), "syslog": header.syslog | {"hostname": header.host}},
        "observer": {"hostname": header.host, "ip": [header.sender_ip] if header.sender_ip else None},
        "process": {"name": header.task},
        "user": {"name": body.user},
        "source": {"ip": body.source_ip, "port": body.source_port} if body.source_ip is not None else None,
        "network": {"protocol": "sip" if sip else None},
        "uc": {
            "sip": {
                "method": body.method,
                "request_uri": body.request_uri,
                "from_uri": body.from_uri,
                "to_uri": body.to_uri,
                "contact": body.contact,
                "call_id": body.call_id,
                "cseq": body.cseq,
                "user_agent": body.user_agent,
            } if sip else None,
            "vendor": {
                "task_id": header.task_id,
                "message_number" if header.task_id is None else "number": header.number,
                "interface": body.interface,
                "session": body.session,
                "sip_header": body.sip_header,
            } | ({
                "realm": body.realm,
                "trust_level": body.trust_level,
                "verdict": body.verdict,
                "ttl": body.ttl,
                "exp": body.exp,
                "demoted_to": body.demoted_to,
            } if body.family == IDS_LOG else {}),
        },
        "tags": list(body.tags) if body.tags else None,
    })


def assemble_cdr(body: CdrBody, found: Kind) -> ParsedEvent:
    return prune({
        "@timestamp": body.time,
        "event": kind_fields(found) | {
            "code": body.code,
            "reason": body.terminate_cause,
            "duration": None if body.duration is None else int(body.duration * _NS),
        },
        "observer": {"ip": [body.observer_ip] if body.observer_ip else None, "version": body.firmware},
        "network": {"protocol": body.protocol},
        "source": {"ip": body.source_ip, "user": {"name": body.caller_user, "domain": body.caller_domain}},
        "destination": {"ip": body.destination_ip,
                        "user": {"name": body.callee_user, "domain": body.callee_domain}},
        "uc": {
            "call": {
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
            },
            "sip": {"call_id": body.sip_call_id, "status_code": body.sip_status},
            "media": {
                "remote_ip": body.media_remote_ip,
                "remote_port": body.media_remote_port,
                "local_ip": body.media_local_ip,
                "local_port": body.media_local_port,
            },
            "vendor": body.vendor,
        },
        "tags": body.tags,
    })
