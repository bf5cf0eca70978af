"""Event assembly: the only place that writes the event.

Groups the line does not have are left out of the literal (`**(... if ... else NONE)`) rather than
written as dicts of Nones, so `prune` has less to walk on the hot path."""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import Kind, ParsedEvent, kind_fields, prune

from .body import Body
from .header import Header

NONE: dict[str, Any] = {}


def assemble(header: Header, body: Body, found: Kind) -> ParsedEvent:
    duration = body.duration  # seconds of a call that was connected
    source_user, destination_user = body.source_user, body.destination_user
    return prune({
        "@timestamp": header.timestamp,
        "message": body.message,
        "event": kind_fields(found) | {
            "provider": header.process,
            "reason": body.reason,
            **({"duration": duration * 1_000_000_000} if duration is not None else NONE),
        },
        "log": {
            "level": header.level,
            "logger": body.logger,
            "syslog": {**header.syslog, "hostname": header.host, "appname": header.process}
            if header.syslog else None,
        },
        "observer": {"hostname": header.host} if header.host else None,
        "process": {"name": header.process, "pid": header.pid, "command_line": body.command_line}
        if header.process else None,
        **({"source": {"ip": body.source_ip, "port": body.source_port,
                       "user": {"name": source_user[0], "domain": source_user[1]} if source_user else None}}
           if body.source_ip or source_user else NONE),
        **({"destination": {"user": {"name": destination_user[0], "domain": destination_user[1]}}}
           if destination_user else NONE),
        **({"user": {"name": body.user_name, "full_name": body.user_full_name,
                     "target": {"name": body.target_name, "full_name": body.target_full_name}
                     if body.target_name or body.target_full_name else None}}
           if body.user_name or body.user_full_name or body.target_name or body.target_full_name else NONE),
        **({"network": {"protocol": body.protocol, "direction": body.direction, "application": body.application}}
           if body.protocol or body.application else NONE),
        **({"url": {"original": body.url, "path": body.url_path, "query": body.url_query},
            "http": {
                "request": {"method": body.http_method, "referrer": body.http_referrer},
                "response": {"status_code": body.http_status, "bytes": body.http_bytes},
                "version": body.http_version,
            },
            "user_agent": {"original": body.user_agent}} if body.url else NONE),
        **({"tls": {"established": body.tls_established}} if body.tls_established is not None else NONE),
        **({"uc": {
            "call": {"leg_id": body.leg_id, "direction": body.call_direction,
                     "caller": body.caller, "callee": body.callee, "disconnect_cause": body.disconnect_cause,
                     "disconnect_side": body.disconnect_side,
                     "duration": float(duration) if duration is not None else None}
            if body.leg_id or body.call_direction else None,
            "conference": {"id": body.conference_id, "name": body.conference_name,
                           "participant": body.participant}
            if body.conference_id or body.conference_name or body.participant else None,
            "sip": {"call_id": body.sip_call_id} if body.sip_call_id else None,
            "vendor": {"container": header.container, **body.vendor},
        }} if body.leg_id or body.call_direction or body.conference_id or body.conference_name
           or body.participant or body.sip_call_id or header.container or body.vendor else NONE),
        **({"tags": body.tags} if body.tags else NONE),
    })
