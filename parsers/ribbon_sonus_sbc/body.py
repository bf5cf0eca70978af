"""The fields of a START, STOP or ATTEMPT record, read by Ribbon's field numbers for its type (`values.py`).

Anything that cannot be what its field says (a date, a time, an address, a number) is a ParseError: that
is what catches a record of another release, a truncated one, or another source's CSV.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from operator import itemgetter
from typing import Any, NamedTuple

from ucsiem.parsing import ParseContext, ParseError, canonical_ip

from .header import SHOWN, Header
from .values import DISCONNECT_INITIATOR, LAYOUTS

_DATE = re.compile(r"(\d\d)/(\d\d)/(\d{4})")
_TIME = re.compile(r"(\d\d):(\d\d):(\d\d)(?:\.(\d{1,3}))?")
_ZONE = re.compile(r"(?:GMT|UTC)(?:([+-])(\d\d):?(\d\d))?")
_NUMBER = re.compile(r"\d{1,12}")

# fields kept as written in uc.vendor when present
VENDOR_FIELDS = ("service_delivered", "call_direction", "service_provider", "route_selected",
                 "egress_trunk_group", "dialed_number", "calling_name", "ingress_codec", "egress_codec",
                 "reason_sent_to_ingress", "reason_sent_to_egress", "route_attempt_number",
                 "ingress_local_signaling_ip", "egress_local_signaling_ip", "start_ticks")
# per record type: the mapped names, one C call taking their values, and the fields a record needs
_READERS: dict[str, tuple[tuple[str, ...], Callable[[list[str]], tuple[str, ...]], int]] = {
    kind: (tuple(layout), itemgetter(*(n - 1 for n in layout.values())), max(layout.values()))
    for kind, layout in LAYOUTS.items()
}
STOP_COUNTERS = ("ingress_audio_packets_sent", "ingress_audio_packets_received", "ingress_packets_lost",
                 "ingress_jitter")


class Body(NamedTuple):
    """One accounting record's values."""

    record_type: str
    gateway: str | None
    gcid: str | None
    accounting_id: str | None
    calling_number: str
    called_number: str
    ingress_trunk_group: str | None
    route_label: str | None
    start: datetime
    connect: datetime | None  # start + ticks to service established (START, STOP)
    end: datetime | None  # STOP, ATTEMPT
    disconnect_reason: int | None  # Q.850 cause
    disconnect_side: str | None
    duration: int | None  # Call Service Duration, 10 ms units (STOP)
    ingress_ip: str | None  # remote signalling addresses
    egress_ip: str | None
    sip: dict[str, Any]  # from the ingress "Protocol Variant Specific Data": call_id, tags, request_uri
    signalled: bool  # a SIP protocol data group on either side
    vendor: dict[str, Any]
    tags: list[str]


def _zone(label: str, tags: list[str], default: tzinfo) -> tzinfo:
    """`GMT-08:00-Pacific(US)` -> UTC-08:00 (a fixed offset: the label does not say whether DST applies)."""
    zone = _fixed_zone(label)
    if zone is None:
        if "node_time_zone_assumed" not in tags:
            tags.append("node_time_zone_assumed")
        return default
    return zone


@lru_cache(maxsize=256)
def _fixed_zone(label: str) -> tzinfo | None:
    """The zone of a Node Time Zone label, None when it names none (a node has one label: read it once)."""
    m = _ZONE.match(label)
    if m is None or not label:
        return None
    sign, hours, minutes = m.groups()
    if sign is None:
        return UTC
    h, mi = int(hours), int(minutes)
    if h > 14 or mi > 59:
        raise ParseError("bad_timestamp", f"Node Time Zone offset out of range: {label[:SHOWN]!r}")
    delta = timedelta(hours=h, minutes=mi)
    return timezone(-delta if sign == "-" else delta)


def _stamp(date: str, time: str, tz: tzinfo, what: str) -> datetime:
    ymd = _date(date)
    if ymd is None:
        raise ParseError("bad_timestamp", f"{what} date is not MM/DD/YYYY: {date[:SHOWN]!r}")
    t = _TIME.fullmatch(time)
    if t is None:
        raise ParseError("bad_timestamp", f"{what} time is not hh:mm:ss.d: {time[:SHOWN]!r}")
    hour, minute, second, fraction = t.groups()
    micro = int(fraction.ljust(6, "0")) if fraction else 0
    try:
        return datetime(*ymd, int(hour), int(minute), int(second), micro, tzinfo=tz)
    except ValueError:
        raise ParseError("bad_timestamp", f"{what} is not a valid date and time: {date} {time}"[:160]) from None


@lru_cache(maxsize=1024)
def _date(date: str) -> tuple[int, int, int] | None:
    """(year, month, day) of `MM/DD/YYYY` (a file's records share a few dates: each is read once)."""
    d = _DATE.fullmatch(date)
    if d is None:
        return None
    month, day, year = d.groups()
    return int(year), int(month), int(day)


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


def _end_time(kind: str, row: dict[str, str], start: datetime, tz: tzinfo) -> datetime:
    """Disconnect date + time; an ATTEMPT without a disconnect date takes the start date (next day
    when the time is earlier than the start time)."""
    date = row.get("disconnect_date", "")
    if date:
        return _stamp(date, row["disconnect_time"], tz, "Disconnect")
    end = _stamp(row["start_date"], row["disconnect_time"], tz, "Disconnect")
    return end + timedelta(days=1) if end < start else end


def read_body(header: Header, ctx: ParseContext) -> Body:
    """The mapped fields of a START, STOP or ATTEMPT record (`header.values` is set for these)."""
    kind, values = header.record_type, header.values or []
    names, take, needed = _READERS[kind]
    if len(values) < needed:
        raise ParseError("truncated", f"{kind} record has {len(values)} fields, the mapping needs {needed}")
    row = dict(zip(names, map(str.strip, take(values)), strict=True))
    tags: list[str] = []
    tz = _zone(row["node_time_zone"], tags, ctx.timezone)
    start = _stamp(row["start_date"], row["start_time"], tz, "Start")
    vendor: dict[str, Any] = {name: row[name] for name in VENDOR_FIELDS if row.get(name)}
    sip: dict[str, Any] = {}
    ingress = _protocol_data(row["ingress_pvsd"])
    egress = _protocol_data(row["egress_pvsd"])
    if ingress:
        sip = {"call_id": ingress.get("call_id"), "from_tag": _tag_of(ingress.get("from", "")),
               "to_tag": _tag_of(ingress.get("to", "")), "request_uri": ingress.get("request_uri")}
    if egress.get("call_id"):
        vendor["egress_call_id"] = egress["call_id"]
    ingress_ip = _ip(row, "ingress_remote_signaling_ip")
    egress_ip = _ip(row, "egress_remote_signaling_ip")
    for name in ("ingress_local_signaling_ip", "egress_local_signaling_ip"):
        _ip(row, name)  # validated; kept as written in uc.vendor

    connected_ticks = _count(row, "ticks_to_service_established")
    connect = end = None
    reason = duration = None
    side: str | None = None
    if connected_ticks is not None and kind in ("START", "STOP"):
        connect = start + timedelta(microseconds=connected_ticks * 10_000)
    if kind != "START":
        end = _end_time(kind, row, start, tz)
        reason = _count(row, "call_disconnect_reason")
        if (initiator := row.get("disconnect_initiator", "")):
            side = DISCONNECT_INITIATOR.get(initiator, initiator)
        if kind == "STOP":
            duration = _count(row, "call_service_duration")
            vendor.update({k: v for k in STOP_COUNTERS if (v := _count(row, k)) is not None})
    return Body(kind, row["gateway_name"] or None, row["gcid"] or None, row["accounting_id"] or None,
                row["calling_number"], row["called_number"], row["ingress_trunk_group"] or None,
                row["route_label"] or None, start, connect, end, reason, side, duration, ingress_ip, egress_ip,
                sip, bool(ingress or egress), vendor, tags)
