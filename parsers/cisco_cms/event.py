"""Event assembly: the only place that writes the event.

Only the values present are written, group by group (`_present`, `_add`), so the event needs no `prune`
walk afterwards: that walk was 30 % of this parser's instructions."""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import Kind, ParsedEvent, kind_fields

from .body import Body
from .header import Header


def assemble(header: Header, body: Body, found: Kind) -> ParsedEvent:
    duration = body.duration  # seconds of a call that was connected
    source_user, destination_user = body.source_user, body.destination_user
    ev = _present(kind_fields(found) | {"provider": header.process, "reason": body.reason})
    if duration is not None:
        ev["duration"] = duration * 1_000_000_000
    event: ParsedEvent = {"@timestamp": header.timestamp, "event": ev}
    if body.message:
        event["message"] = body.message
    log = _present({"level": header.level, "logger": body.logger})
    if header.syslog:  # the PRI's members and facility.severity: never empty
        log["syslog"] = header.syslog | _present({"hostname": header.host, "appname": header.process})
    _add(event, "log", log)
    if header.host:
        event["observer"] = {"hostname": header.host}
    if header.process:
        event["process"] = _present({"name": header.process, "pid": header.pid, "command_line": body.command_line})
    if body.source_ip or source_user:
        source = _present({"ip": body.source_ip, "port": body.source_port})
        if source_user:
            _add(source, "user", _present({"name": source_user[0], "domain": source_user[1]}))
        _add(event, "source", source)
    if destination_user:
        _add(event, "destination", _nonempty({"user": _present({"name": destination_user[0],
                                                                 "domain": destination_user[1]})}))
    if body.user_name or body.user_full_name or body.target_name or body.target_full_name:
        user = _present({"name": body.user_name, "full_name": body.user_full_name})
        _add(user, "target", _present({"name": body.target_name, "full_name": body.target_full_name}))
        _add(event, "user", user)
    if body.protocol or body.application:
        _add(event, "network", _present({"protocol": body.protocol, "direction": body.direction,
                                         "application": body.application}))
    if body.url:
        event["url"] = _present({"original": body.url, "path": body.url_path, "query": body.url_query})
        http = _nonempty({
            "request": _present({"method": body.http_method, "referrer": body.http_referrer}),
            "response": _present({"status_code": body.http_status, "bytes": body.http_bytes}),
        })
        if body.http_version:
            http["version"] = body.http_version
        _add(event, "http", http)
        if body.user_agent:
            event["user_agent"] = {"original": body.user_agent}
    if body.tls_established is not None:
        event["tls"] = {"established": body.tls_established}
    uc: dict[str, Any] = {}
    if body.leg_id or body.call_direction:
        _add(uc, "call", _present({
            "leg_id": body.leg_id, "direction": body.call_direction, "caller": body.caller, "callee": body.callee,
            "disconnect_cause": body.disconnect_cause, "disconnect_side": body.disconnect_side,
            "duration": float(duration) if duration is not None else None}))
    if body.conference_id or body.conference_name or body.participant:
        _add(uc, "conference", _present({"id": body.conference_id, "name": body.conference_name,
                                         "participant": body.participant}))
    if body.sip_call_id:
        uc["sip"] = {"call_id": body.sip_call_id}
    _add(uc, "vendor", _present({"container": header.container, **body.vendor}))
    _add(event, "uc", uc)
    if body.tags:
        event["tags"] = body.tags
    return event


def _present(members: dict[str, Any]) -> dict[str, Any]:
    """The members that hold a value: None, "", [] and {} left out, as `prune` leaves them (one level)."""
    return {k: v for k, v in members.items() if v is not None and v != "" and v != [] and v != {}}


def _nonempty(members: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The groups that are not empty."""
    return {k: v for k, v in members.items() if v}


def _add(parent: dict[str, Any], key: str, child: dict[str, Any]) -> None:
    if child:
        parent[key] = child
