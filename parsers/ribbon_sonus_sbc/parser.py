"""Ribbon (Sonus) SBC accounting records: entry point `parse`.

A record is one line of an accounting (`.ACT`) file, or the same text relayed by a collector:
comma-separated, the first field the record type, some fields double-quoted groups of sub-fields
(`"SIP,<call-id>,<from>,<to>,..."`). It is split with the `csv` module (quotes honoured), then read by
Ribbon's field numbers for its type (`fields.py`). Anything that cannot be what its field says (a
date, a time, an address, a number) is a ParseError: that is what catches a record of another
release, a truncated one, or another source's CSV.
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord, canonical_ip, prune

from .fields import DISCONNECT_INITIATOR, LAYOUTS, REASONS, UNMAPPED_TYPES

SHOWN = 64  # characters of a bad value quoted in an error message
TICK_NS = 10_000_000  # Ribbon "ticks" and Call Service Duration are 10 ms units

_DATE = re.compile(r"(\d\d)/(\d\d)/(\d{4})")
_TIME = re.compile(r"(\d\d):(\d\d):(\d\d)(?:\.(\d{1,3}))?")
_ZONE = re.compile(r"(?:GMT|UTC)(?:([+-])(\d\d):?(\d\d))?")
_TYPE = re.compile(r"[A-Z]{3,16}")
_NUMBER = re.compile(r"\d{1,12}")


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One accounting record -> one event; raises ParseError on anything else."""
    text = record.text.strip()
    head, sep, _ = text.partition(",")
    if not sep or _TYPE.fullmatch(head) is None:
        raise ParseError("no_match", "not a Ribbon accounting record (RECORDTYPE,<fields>...)")
    if head in UNMAPPED_TYPES:
        return [_unmapped(head, ctx)]
    layout = LAYOUTS.get(head)
    if layout is None:
        raise ParseError("no_match", f"unknown Ribbon record type {head[:SHOWN]!r}")
    try:
        values = next(csv.reader([text], strict=True))
    except (csv.Error, StopIteration) as exc:
        raise ParseError("bad_field", f"{head} record is not valid CSV: {str(exc)[:SHOWN]}") from None
    needed = max(layout.values())
    if len(values) < needed:
        raise ParseError("truncated", f"{head} record has {len(values)} fields, the mapping needs {needed}")
    row = {name: values[number - 1].strip() for name, number in layout.items()}
    try:
        return [_event(head, row, ctx)]
    except OverflowError:  # date arithmetic next to year 1 or 9999
        raise ParseError("bad_timestamp", "time out of the representable range") from None


def _unmapped(kind: str, ctx: ParseContext) -> ParsedEvent:
    """A documented record type whose field positions this parser does not read."""
    return {
        "@timestamp": ctx.reference_time,
        "event": {"kind": "event", "action": "diagnostic", "type": ["info"], "code": kind},
        "message": f"Ribbon {kind} accounting record (fields not mapped)",
        "tags": ["timestamp_from_reference", "ribbon_record_not_mapped"],
    }


def _zone(label: str, tags: list[str], default: tzinfo) -> tzinfo:
    """`GMT-08:00-Pacific(US)` -> UTC-08:00 (a fixed offset: the label does not say whether DST applies)."""
    m = _ZONE.match(label)
    if m is None or not label:
        if "node_time_zone_assumed" not in tags:
            tags.append("node_time_zone_assumed")
        return default
    sign, hours, minutes = m.groups()
    if sign is None:
        return UTC
    h, mi = int(hours), int(minutes)
    if h > 14 or mi > 59:
        raise ParseError("bad_timestamp", f"Node Time Zone offset out of range: {label[:SHOWN]!r}")
    delta = timedelta(hours=h, minutes=mi)
    return timezone(-delta if sign == "-" else delta)


def _stamp(date: str, time: str, tz: tzinfo, what: str) -> datetime:
    d, t = _DATE.fullmatch(date), _TIME.fullmatch(time)
    if d is None:
        raise ParseError("bad_timestamp", f"{what} date is not MM/DD/YYYY: {date[:SHOWN]!r}")
    if t is None:
        raise ParseError("bad_timestamp", f"{what} time is not hh:mm:ss.d: {time[:SHOWN]!r}")
    month, day, year = (int(x) for x in d.groups())
    hour, minute, second = int(t.group(1)), int(t.group(2)), int(t.group(3))
    micro = int((t.group(4) or "0").ljust(6, "0"))
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:
        raise ParseError("bad_timestamp", f"{what} is not a valid date and time: {date} {time}"[:160]) from None


def _count(row: dict[str, str], name: str) -> int | None:
    value = row.get(name, "")
    if not value:
        return None
    if _NUMBER.fullmatch(value) is None:
        raise ParseError("bad_field", f"{name} is not a number: {value[:SHOWN]!r}")
    return int(value)


def _ip(row: dict[str, str], name: str) -> str | None:
    """A signalling address field; empty and `0.0.0.0` (not known yet) give None."""
    value = row.get(name, "")
    if not value or value == "0.0.0.0":
        return None
    address = canonical_ip(value)
    if address is None:
        raise ParseError("bad_field", f"{name} is not an IP address: {value[:SHOWN]!r}")
    return address


def _tag_of(part: str) -> str | None:
    """`%22Alice%22;tag=gK001a` -> `gK001a` (the From/To sub-fields carry display name and tag)."""
    _, found, tag = part.partition(";tag=")
    if not found:
        return None
    return tag.split(";", 1)[0] or None


def _protocol_data(value: str) -> dict[str, str]:
    """Sub-fields of a SIP "Protocol Variant Specific Data" group (Ribbon "SIP Variant Sub-field
    Descriptions"): 1 variant, 2 Call-ID, 3 From, 4 To, 9 Request-URI. Other variants: nothing."""
    parts = value.split(",")
    if not parts[0].upper().startswith("SIP"):
        return {}
    out = {"variant": parts[0]}
    for key, index in (("call_id", 1), ("from", 2), ("to", 3), ("request_uri", 8)):
        if index < len(parts) and parts[index]:
            out[key] = parts[index]
    return out


def _event(kind: str, row: dict[str, str], ctx: ParseContext) -> ParsedEvent:
    tags: list[str] = []
    tz = _zone(row["node_time_zone"], tags, ctx.timezone)
    start = _stamp(row["start_date"], row["start_time"], tz, "Start")
    ev: dict[str, Any] = {"kind": "event", "code": kind, "category": ["network", "session"]}
    call: dict[str, Any] = {"setup_time": start}
    vendor: dict[str, Any] = {}
    sip: dict[str, Any] = {}

    for name in ("service_delivered", "call_direction", "service_provider", "route_selected",
                 "egress_trunk_group", "dialed_number", "calling_name", "ingress_codec", "egress_codec",
                 "reason_sent_to_ingress", "reason_sent_to_egress", "route_attempt_number",
                 "ingress_local_signaling_ip", "egress_local_signaling_ip", "start_ticks"):
        if row.get(name):
            vendor[name] = row[name]
    call["id"] = row["gcid"] or None
    call["leg_id"] = row["accounting_id"] or None
    call["caller"] = row["calling_number"] or None
    call["callee"] = row["called_number"] or None
    call["trunk"] = row["ingress_trunk_group"] or None
    call["route"] = row["route_label"] or None

    ingress = _protocol_data(row["ingress_pvsd"])
    egress = _protocol_data(row["egress_pvsd"])
    if ingress:
        sip["call_id"] = ingress.get("call_id")
        sip["from_tag"] = _tag_of(ingress.get("from", ""))
        sip["to_tag"] = _tag_of(ingress.get("to", ""))
        sip["request_uri"] = ingress.get("request_uri")
    if egress.get("call_id"):
        vendor["egress_call_id"] = egress["call_id"]

    source = {"ip": _ip(row, "ingress_remote_signaling_ip"), "user": {"name": row["calling_number"]}}
    destination = {"ip": _ip(row, "egress_remote_signaling_ip"), "user": {"name": row["called_number"]}}
    for name in ("ingress_local_signaling_ip", "egress_local_signaling_ip"):
        _ip(row, name)  # validated; kept as written in uc.vendor

    connected_ticks = _count(row, "ticks_to_service_established")
    timestamp = start
    if kind == "START":
        ev.update(action="call-start", type=["connection", "start"], outcome="success")
        if connected_ticks is not None:
            call["connect_time"] = start + timedelta(microseconds=connected_ticks * 10_000)
            timestamp = call["connect_time"]
    else:
        end = _end_time(kind, row, start, tz)
        call["end_time"] = end
        timestamp = end
        reason = _count(row, "call_disconnect_reason")
        if reason is not None:
            call["disconnect_cause"] = str(reason)
            ev["reason"] = REASONS.get(reason)
        side = row.get("disconnect_initiator", "")
        if side:
            call["disconnect_side"] = DISCONNECT_INITIATOR.get(side, side)
        if kind == "STOP":
            ev.update(action="call-end", type=["connection", "end"], outcome="success")
            if connected_ticks is not None:
                call["connect_time"] = start + timedelta(microseconds=connected_ticks * 10_000)
            duration = _count(row, "call_service_duration")
            if duration is not None:
                call["duration"] = duration / 100
                ev["duration"] = duration * TICK_NS
            vendor.update({k: v for k in ("ingress_audio_packets_sent", "ingress_audio_packets_received",
                                          "ingress_packets_lost", "ingress_jitter")
                           if (v := _count(row, k)) is not None})
        else:  # ATTEMPT: the call was never connected
            ev.update(action="call-reject", type=["connection", "denied"], outcome="failure")

    event: ParsedEvent = {
        "@timestamp": timestamp,
        "event": ev,
        "observer": {"hostname": row["gateway_name"] or None},
        "network": {"protocol": "sip"} if ingress or egress else {},
        "source": source,
        "destination": destination,
        "uc": {"call": call, "sip": sip, "vendor": vendor},
        "tags": tags,
    }
    return prune(event)


def _end_time(kind: str, row: dict[str, str], start: datetime, tz: tzinfo) -> datetime:
    """Disconnect date + time; an ATTEMPT without a disconnect date takes the start date (next day
    when the time is earlier than the start time)."""
    date = row.get("disconnect_date", "")
    if date:
        return _stamp(date, row["disconnect_time"], tz, "Disconnect")
    end = _stamp(row["start_date"], row["disconnect_time"], tz, "Disconnect")
    return end + timedelta(days=1) if end < start else end
