"""Event assembly: the only place that writes the event, one function per record format.

The event is written with present values only instead of a literal of every member followed by `prune`:
the readers hand over clean parts (`uc.sip`, `uc.call`, `uc.media`, `uc.vendor` hold only what the line
said), and a prune pass over the finished event cost a quarter of this parser's time (its issue-13
throughput figure must not drop).
"""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import Kind, ParsedEvent, kind_fields

from .body import ACTIVITY, SIP_FRAGMENT, Body, CdrBody, LegacyBody
from .header import Header, Prefix

FROM_REFERENCE = "timestamp_from_reference"


def _log(prefix: Prefix) -> dict[str, Any]:
    """`log.syslog` from the receiver's tokens (priority as written, else facility x 8 + severity) and
    `log.level` (the severity's name)."""
    facility, severity, priority = prefix.facility, prefix.severity, prefix.pri
    syslog: dict[str, Any] = {}
    if facility is not None:
        syslog["facility"] = {"name": facility[0], "code": facility[1]}
    if severity is not None:
        syslog["severity"] = {"name": severity[0], "code": severity[1]}
    if priority is not None:
        syslog["priority"] = priority
    elif facility is not None and severity is not None:
        syslog["priority"] = facility[1] * 8 + severity[1]
    if prefix.hostname is not None:
        syslog["hostname"] = prefix.hostname
    log: dict[str, Any] = {"syslog": syslog} if syslog else {}
    if severity is not None:
        log["level"] = severity[0]
    return log


def _frame(header: Header, found: Kind, timestamp: Any, tags: list[str]) -> ParsedEvent:
    """The members every event of this parser has: time, classification, receiver prefix."""
    prefix = header.prefix
    ev = kind_fields(found)
    if header.received is not None:
        ev["created"] = header.received
    event: ParsedEvent = {"@timestamp": timestamp, "event": ev}
    if log := _log(prefix):
        event["log"] = log
    if prefix.observer_ip is not None:
        event["observer"] = ({"ip": [prefix.observer_ip], "hostname": prefix.hostname}
                             if prefix.hostname is not None else {"ip": [prefix.observer_ip]})
    elif prefix.hostname is not None:
        event["observer"] = {"hostname": prefix.hostname}
    if tags:
        event["tags"] = tags
    return event


def assemble(header: Header, body: Body, found: Kind) -> ParsedEvent:
    """A free-text message: `@timestamp` the device time, else the receiver's, else the reference time."""
    timestamp = header.device or header.received
    tags = [FROM_REFERENCE] if timestamp is None else []
    if body.family == SIP_FRAGMENT:
        tags.append("sip_fragment")
    tags += body.tags
    event = _frame(header, found, header.reference if timestamp is None else timestamp, tags)
    event["message"] = body.message
    ev = event["event"]
    if body.code is not None:
        ev["code"] = body.code
    if body.reason is not None:
        ev["reason"] = body.reason
    if body.family == ACTIVITY:
        ev["provider"] = "activity_log"
    if body.logger is not None:
        event.setdefault("log", {})["logger"] = body.logger
    uc: dict[str, Any] = {"vendor": {"seq": header.prefix.seq} | body.vendor}
    if body.sip:
        uc["sip"] = body.sip
    if body.call:
        uc["call"] = body.call
    event["uc"] = uc
    if body.source:
        event["source"] = body.source
    if body.destination:
        event["destination"] = body.destination
    if body.network:
        event["network"] = body.network
    if body.user:
        event["user"] = {"name": body.user}
    return event


def assemble_legacy(header: Header, body: LegacyBody, found: Kind) -> ParsedEvent:
    """The older event form: the receiver's time stamp (the device's is a time of day only)."""
    received = header.received
    event = _frame(header, found, header.reference if received is None else received,
                   [FROM_REFERENCE] if received is None else [])
    event["message"] = body.message
    event["event"]["code"] = body.name
    if body.label is not None:
        event["event"]["reason"] = body.label
    event["uc"] = {"vendor": body.vendor}
    return event


def assemble_cdr(header: Header, body: CdrBody, found: Kind) -> ParsedEvent:
    """A CDR row: `@timestamp` the report's own time (none on media rows), else the receiver's, else the
    reference time."""
    sig = body.signalling
    timestamp = (sig.time if sig is not None else None) or header.received
    tags = body.tags if timestamp is not None else [*body.tags, FROM_REFERENCE]
    event = _frame(header, found, header.reference if timestamp is None else timestamp, tags)
    ev = event["event"]
    ev["code"] = body.report
    if sig is not None:
        if sig.duration is not None:
            ev["duration"] = sig.duration * 1_000_000_000
        if sig.reason is not None:
            ev["reason"] = sig.reason
        event["network"] = body.network
    if body.source:
        event["source"] = body.source
    if body.destination:
        event["destination"] = body.destination
    uc: dict[str, Any] = {}
    for key, part in (("sip", body.sip), ("call", body.call), ("media", body.media), ("vendor", body.vendor)):
        if part:
            uc[key] = part
    if header.prefix.seq is not None:
        uc["vendor"] = body.vendor | {"seq": header.prefix.seq}
    if uc:
        event["uc"] = uc
    return event
