"""Event assembly: the only place that writes the event (README.md has the mapping)."""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import Kind, ParsedEvent, add_group, kind_fields, present

from .body import Body
from .header import Header
from .values import reason_of, user_of

_LOGINS = frozenset(("user-login", "admin-login"))
_IP_RESTRICTIONS = frozenset(("deny-list", "flood-block"))


def assemble(header: Header, body: Body, found: Kind) -> ParsedEvent:
    del header  # the columns were all it gave
    tags = body.tags
    client, real = body.client_ip, body.real_ip
    proxy = forwarded_ip = None
    if client is not None:
        if real is not None and real != client:
            proxy = client  # the proxy that forwarded the request
            tags.append("source_from_x_forwarded_for")
            forwarded_ip = real  # the client behind the proxy
    elif real is not None:
        forwarded_ip = real
    status, substatus = body.status, body.substatus
    reason = None
    if found.action in _IP_RESTRICTIONS:
        reason = reason_of(403, substatus, None)
    elif found.action in _LOGINS and status in (401, 403):
        reason = reason_of(status, substatus, body.win32)
        if found.outcome == "unknown":
            tags.append("auth_challenge")
    version = body.version
    http_version = vendor_version = None
    if version is not None:
        proto, sep, number = version.partition("/")
        if sep and proto.upper() == "HTTP" and number:
            http_version = number
        else:  # not `HTTP/<n>`: kept as logged rather than guessed
            vendor_version = version
    stem, query = body.stem, body.query  # `-` (no query) was already left out
    original = (f"{stem}?{query}" if query else stem) if stem is not None else None
    # written group by group with the values present: a `prune` walk of the whole event cost more
    ev = kind_fields(found) | present({
        "code": None if status is None else (f"{status}.{substatus}" if substatus else str(status)),
        "reason": reason,
        "duration": None if body.time_taken is None else body.time_taken * 1_000_000,  # ms -> ns
    })
    event: ParsedEvent = {
        "@timestamp": body.time,
        "message": f"{body.method or '-'} {original or '-'} {'-' if status is None else status}",
        "event": ev,
        "network": present({"protocol": "http", "forwarded_ip": forwarded_ip,
                            "application": body.service[1] if body.service else None}),
    }
    if source := real or client:
        event["source"] = {"ip": source}
    add_group(event, "destination", present({"ip": body.server_ip, "port": body.port, "domain": body.host}))
    if body.username:
        event["user"] = present(user_of(body.username))
    # the port the request was addressed to is ECS url.port
    add_group(event, "url", present({"path": stem, "original": original, "query": query, "domain": body.host,
                                     "port": body.port}))
    http: dict[str, Any] = {}
    add_group(http, "request", present({"method": body.method, "referrer": body.referrer,  # a URL: `+` is kept
                                        "bytes": body.request_bytes}))
    add_group(http, "response", present({"status_code": status, "bytes": body.response_bytes}))
    if http_version:
        http["version"] = http_version
    add_group(event, "http", http)
    if body.user_agent:
        event["user_agent"] = {"original": body.user_agent.replace("+", " ")}
    if body.computer:
        event["observer"] = {"hostname": body.computer}
    # IIS details the schema has no field for (sub-status, Win32 status, site, the proxy) under uc.vendor
    if vendor := present({"X-Forwarded-For": body.forwarded, "c-ip": proxy, "cs-version": vendor_version,
                          "sc-substatus": substatus, "sc-win32-status": body.win32, "time-taken": body.time_taken,
                          "s-sitename": body.site}):
        event["uc"] = {"vendor": vendor}
    if tags:
        event["tags"] = tags
    return event
