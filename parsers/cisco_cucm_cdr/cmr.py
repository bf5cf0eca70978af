"""CMR rows (cdrRecordType 2, call management / diagnostic records): media quality of one call leg as
one device (phone, gateway, SIP trunk) saw it, written when the leg ends."""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import CATEGORISATION, ParsedEvent

from .cdr import call_id
from .flatfile import SHOWN, Row
from .values import epoch, integer

_VQ = "varVQMetrics"
_MAX_VQ_PAIRS = 64  # the column is VARCHAR(600): a few dozen pairs at most


def vq_metrics(text: str) -> dict[str, str]:
    """`MLQK=4.5000;MLQKav=4.5000;...;VoRxCodec=G.711 u-la` -> {key: value}; the first key wins."""
    out: dict[str, str] = {}
    for part in text.split(";", _MAX_VQ_PAIRS)[:_MAX_VQ_PAIRS]:
        key, sep, value = part.partition("=")
        key = key.strip()
        if sep and key and key not in out:
            out[key] = value.strip()[:SHOWN]
    return out


def _mos(value: str | None) -> float | None:
    """MOS LQK on the 1-5 scale; 0.0000 means the phone did not compute it."""
    if not value:
        return None
    try:
        mos = float(value)
    except ValueError:
        return None
    return mos if 1.0 <= mos <= 5.0 else None


def map_cmr(row: Row, event: ParsedEvent) -> None:
    """Fill `event` (already holding `event.kind`/`code`) from a CMR row."""
    call: dict[str, Any] = {}
    media: dict[str, Any] = {}
    vendor: dict[str, Any] = {}
    ev: dict[str, Any] = event["event"]

    if (cid := call_id(row)) is not None:
        call["id"] = cid
    if (leg := row.take("callIdentifier")) and leg != "0":
        call["leg_id"] = leg
    event["@timestamp"] = epoch(row.take("dateTimeStamp"), "dateTimeStamp")
    if device := row.take("deviceName"):
        event["uc"] = {"device": {"name": device}}
        vendor["deviceName"] = device

    sent = integer(row.take("numberPacketsSent"), "numberPacketsSent")
    received = integer(row.take("numberPacketsReceived"), "numberPacketsReceived")
    lost = integer(row.take("numberPacketsLost"), "numberPacketsLost")
    jitter = integer(row.take("jitter"), "jitter")
    latency = integer(row.take("latency"), "latency")
    if sent is not None or received is not None:
        media["type"] = "audio"
    for key, value in (("packets_out", sent), ("packets_in", received), ("packets_lost_local", lost)):
        if value is not None:
            media[key] = value
    if jitter is not None:
        media["jitter_ms"] = float(jitter)
    if latency is not None:
        media["delay_ms"] = float(latency)

    duration = integer(row.take("duration"), "duration")
    if duration is not None and duration >= 0:
        call["duration"] = float(duration)
        ev["duration"] = duration * 1_000_000_000

    metrics = vq_metrics(row.take(_VQ))
    if (mos := _mos(metrics.get("MLQK"))) is not None:
        media["mos"] = mos
    if codec := metrics.get("VoRxCodec"):
        media["codec"] = codec
    for key, metric in metrics.items():
        if metric:
            vendor[f"{_VQ}.{key}"] = metric

    spec = CATEGORISATION["media-end"]
    ev.update(action="media-end", category=list(spec.category), type=list(spec.type))
    vendor = {**row.rest(), **vendor}
    uc = event.setdefault("uc", {})
    if call:
        uc["call"] = call
    if media:
        uc["media"] = media
    if vendor:
        uc["vendor"] = vendor
