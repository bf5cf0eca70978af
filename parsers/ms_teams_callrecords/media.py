"""Media of a segment: network addresses of both ends and quality figures per stream.

A segment holds `media` (one per negotiated media: `main-audio`, `main-video`, screen sharing...),
each with `callerNetwork`/`calleeNetwork` (networkInfo) and `streams` (mediaStream, one per
direction). The primary media (the first audio one, else the first) fills `uc.media.*` and the
endpoint addresses (`ipAddress` -> `<side>.ip`, the public `reflexiveIPAddress` -> `<side>.nat.ip`);
every stream's figures are kept, as Graph names them, in `uc.vendor.<label>.<streamDirection>.<property>`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ucsiem.parsing import jsonvalues

from .values import ip, port

MAX_MEDIA = 8
MAX_STREAMS = 8
# mediaStream properties kept in uc.vendor (durations as written, e.g. "PT0.016S").
STREAM_FIELDS = (
    "audioCodec", "videoCodec", "averageJitter", "maxJitter", "averagePacketLossRate", "maxPacketLossRate",
    "averageRoundTripTime", "maxRoundTripTime", "averageAudioDegradation", "averageAudioNetworkJitter",
    "maxAudioNetworkJitter", "averageRatioOfConcealedSamples", "maxRatioOfConcealedSamples",
    "averageBandwidthEstimate", "packetUtilization", "postForwardErrorCorrectionPacketLossRate",
    "averageVideoFrameLossPercentage", "averageVideoPacketLossRate", "averageFreezeDuration",
    "wasMediaBypassed", "isAudioForwardErrorCorrectionUsed",
)
# networkInfo properties kept in uc.vendor (the endpoint's own address/port go to source/destination).
NETWORK_FIELDS = ("subnet", "connectionType", "networkTransportProtocol", "relayPort", "dnsSuffix",
                  "basicServiceSetIdentifier", "macAddress", "linkSpeed", "wifiBand", "wifiSignalStrength")
NETWORK_IPS = ("relayIPAddress",)
_UNSET_CODECS = {"unknown", "invalid", "unknownFutureValue"}
MAX_MOS_DEGRADATION = 5.0  # MOS is a 1-5 scale: a larger degradation is not a figure


def media_type(label: str | None) -> str | None:
    """`main-audio` -> audio, `applicationsharing-video` -> video; other labels as written."""
    if not label:
        return None
    low = label.lower()
    for kind in ("audio", "video", "data"):
        if kind in low:
            return kind
    return label


def primary(media: list[dict[str, Any]]) -> dict[str, Any]:
    for item in media:
        if "audio" in (jsonvalues.text(item, "label") or "").lower():
            return item
    return media[0] if media else {}


class Address(NamedTuple):
    """`source`/`destination` address of one end: the media endpoint's own IP and port, and the
    public address the relay saw it from (its NAT address; networkInfo has no reflexive port)."""

    ip: str | None
    port: int | None
    nat_ip: str | None


class Quality(NamedTuple):
    """`uc.media` of a segment: the primary media's type and, per figure, the worse direction."""

    type: str | None
    jitter_ms: float | None
    delay_ms: float | None
    packet_loss_rate: float | None
    mos_degradation: float | None
    codec: str | None


NO_QUALITY = Quality(None, None, None, None, None, None)


def endpoint_address(network: dict[str, Any], tags: list[str]) -> Address:
    """The end's address; a port that is not one is left out and tags the event `bad_port`."""
    return Address(ip(network, "ipAddress"), port(network, "port", tags), ip(network, "reflexiveIPAddress"))


def network_vendor(network: dict[str, Any], prefix: str, vendor: dict[str, Any]) -> None:
    raw = jsonvalues.text(network, "ipAddress")
    if raw is not None and ip(network, "ipAddress") is None:  # not an address: kept, never in an ip field
        vendor[f"{prefix}.ipAddress"] = raw
    for key in NETWORK_IPS:
        if (value := ip(network, key)) is not None:
            vendor[f"{prefix}.{key}"] = value
    for key in NETWORK_FIELDS:
        if (item := jsonvalues.scalar(network, key)) is not None:
            vendor[f"{prefix}.{key}"] = item


def transport(network: dict[str, Any]) -> str | None:
    proto = (jsonvalues.text(network, "networkTransportProtocol") or "").lower()
    return proto if proto in ("udp", "tcp") else None


def quality(segment: dict[str, Any], vendor: dict[str, Any]) -> tuple[Quality, dict[str, Any], dict[str, Any]]:
    """(uc.media, callerNetwork, calleeNetwork) of a segment; stream figures into `vendor`."""
    media = jsonvalues.objects(segment, "media", MAX_MEDIA)
    main = primary(media)
    for index, item in enumerate(media):
        label = (jsonvalues.text(item, "label") or f"media{index}")[:64]
        for s_index, stream in enumerate(jsonvalues.objects(item, "streams", MAX_STREAMS)):
            direction = (jsonvalues.text(stream, "streamDirection") or f"stream{s_index}")[:64]
            for key in STREAM_FIELDS:
                if (value := jsonvalues.scalar(stream, key)) is not None:
                    vendor[f"{label}.{direction}.{key}"] = value
    streams = jsonvalues.objects(main, "streams", MAX_STREAMS)
    # One figure per segment: the worse direction (jitter and round trip are "lower is better").
    jitters = [j for s in streams if (j := jsonvalues.duration_seconds(s.get("averageJitter"))) is not None]
    trips = [t for s in streams if (t := jsonvalues.duration_seconds(s.get("averageRoundTripTime"))) is not None]
    # Loss rate is a fraction (0.01 = 1 %), degradation is MOS points lost: the worse direction too.
    losses = [r for s in streams if (r := jsonvalues.number(s, "averagePacketLossRate")) is not None and 0 <= r <= 1]
    degradations = [d for s in streams if (d := jsonvalues.number(s, "averageAudioDegradation")) is not None
                    and 0 <= d <= MAX_MOS_DEGRADATION]
    codec = None
    for stream in streams:
        found = jsonvalues.text(stream, "audioCodec") or jsonvalues.text(stream, "videoCodec")
        if found and found not in _UNSET_CODECS:
            codec = found
            break
    figures = Quality(media_type(jsonvalues.text(main, "label")),
                      round(max(jitters) * 1000, 3) if jitters else None,
                      round(max(trips) * 1000, 3) if trips else None,
                      max(losses) if losses else None, max(degradations) if degradations else None, codec)
    caller_net = (jsonvalues.sub(main, "callerNetwork")
                  or next((n for m in media if (n := jsonvalues.sub(m, "callerNetwork"))), {}))
    callee_net = (jsonvalues.sub(main, "calleeNetwork")
                  or next((n for m in media if (n := jsonvalues.sub(m, "calleeNetwork"))), {}))
    return figures, caller_net, callee_net
