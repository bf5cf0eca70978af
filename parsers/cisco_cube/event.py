"""Event assembly: the only place that writes the event.

A group the line does not have is None rather than a dict of Nones, so `prune` has less to walk on the
hot path."""

from __future__ import annotations

from ucsiem.parsing import SYSLOG_SEVERITIES, Kind, ParsedEvent, kind_fields, priority_fields, prune

from .body import Body
from .header import Header


def assemble(header: Header, body: Body, found: Kind) -> ParsedEvent:
    # @timestamp: the device's stamp (or the receiver's), else a CDR's DisconnectTime, else the reference time
    tags = [*body.tags, *header.tags]
    timestamp = header.time if header.time is not None else body.end_time
    if timestamp is None:
        timestamp = header.reference
        tags.append("timestamp_missing")
    severity = body.severity
    return prune({
        "@timestamp": timestamp,
        "message": body.message,
        "event": kind_fields(found) | {
            "code": f"{body.facility}-{severity}-{body.mnemonic}" if body.facility is not None else None,
            "provider": body.provider,
            "severity": severity,
            "reason": body.reason,
            "created": header.created,
            "sequence": header.sequence,
        },
        "log": {
            "level": SYSLOG_SEVERITIES[severity] if severity is not None else None,
            "logger": body.logger,
            "syslog": {**(priority_fields(header.pri) if header.pri is not None else {}),
                       "hostname": header.receiver_host}
            if header.pri is not None or header.receiver_host else None,
        },
        "network": {"protocol": body.protocol, "transport": body.transport}
        if body.protocol or body.transport else None,
        "observer": {"hostname": header.observer_hostname,
                     "ip": [header.observer_ip] if header.observer_ip is not None else None}
        if header.observer_hostname or header.observer_ip else None,
        "source": {"ip": body.source_ip, "address": body.source_address, "port": body.source_port}
        if body.source_ip or body.source_address or body.source_port is not None else None,
        "destination": {"ip": body.destination_ip, "domain": body.destination_domain,
                        "address": body.destination_address, "port": body.destination_port}
        if body.destination_ip or body.destination_address or body.destination_port is not None else None,
        "user": {"name": body.user} if body.user else None,
        "process": {"command_line": body.command_line} if body.command_line else None,
        "uc": {
            "call": {"id": body.call_id, "leg_id": body.leg_id, "disconnect_cause": body.disconnect_cause,
                     "setup_time": body.setup_time, "connect_time": body.connect_time,
                     "end_time": body.end_time, "duration": body.duration}
            if body.call_id or body.leg_id or body.disconnect_cause or body.family == "call_history" else None,
            "sip": {"status_code": body.sip_status} if body.sip_status is not None else None,
            "vendor": (body.vendor | header.vendor) or None,
        },
        "tags": tags,
    })
