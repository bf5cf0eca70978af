"""The rows of the two files, read by column name into typed values: `read_cdr` (cdrRecordType 1, "End call
detail record", one per call leg when it ends) and `read_cmr` (cdrRecordType 2, call management /
diagnostic record: media quality of one leg as one device saw it). Columns are read in a fixed order, so
the first bad value of a row is the one its dead letter names; what no field takes goes to `vendor`."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from ucsiem.parsing import ParseError

from .codes import CAUSES, CODECS, NORMAL_CAUSES, ON_BEHALF_OF, REDIRECT_REASONS
from .flatfile import SHOWN, Row
from .values import e164, epoch, int_ip, integer, text_ip, unsigned

# Columns whose integer code gets a `<column>_text` companion with Cisco's description.
_DECODED: dict[str, dict[int, str]] = {
    "origCalledPartyRedirectReason": REDIRECT_REASONS,
    "lastRedirectRedirectReason": REDIRECT_REASONS,
    "origCallTerminationOnBehalfOf": ON_BEHALF_OF,
    "destCallTerminationOnBehalfOf": ON_BEHALF_OF,
    "origCalledPartyRedirectOnBehalfOf": ON_BEHALF_OF,
    "lastRedirectRedirectOnBehalfOf": ON_BEHALF_OF,
    "joinOnBehalfOf": ON_BEHALF_OF,
}
_VQ = "varVQMetrics"
_MAX_VQ_PAIRS = 64  # the column is VARCHAR(600): a few dozen pairs at most


class CdrBody(NamedTuple):
    call_id: str | None
    leg_id: str | None
    time: datetime  # disconnect, else connect, else origination
    setup_time: datetime | None
    connect_time: datetime | None
    end_time: datetime | None
    source_ip: str | None
    destination_ip: str | None
    caller: str
    caller_number: str | None  # the caller when E.164
    callee: str
    callee_number: str | None
    login: str
    device: str
    duration: int | None  # seconds, connected legs only
    authenticated: bool  # a forced authorization code was used
    codec: str | None
    cause: int | None  # the clearing cause (`clearing`)
    side: str | None  # who cleared: originator, destination
    sip_status: int | None  # from a CCM_SIP_<code>_... cause
    vendor: dict[str, str]


class CmrBody(NamedTuple):
    call_id: str | None
    leg_id: str | None
    time: datetime
    device: str
    media_type: str | None
    packets_out: int | None
    packets_in: int | None
    packets_lost: int | None
    jitter_ms: float | None
    delay_ms: float | None
    duration: int | None  # seconds
    mos: float | None
    codec: str | None
    vendor: dict[str, str]


Body = CdrBody | CmrBody


def call_id(row: Row) -> str | None:
    """Global call id: callManagerId and callId (Cisco: "All records that are associated with a standard
    call have the same Global Call ID"), prefixed by the cluster id when the file has one."""
    manager, call = row.take("globalCallID_callManagerId"), row.take("globalCallID_callId")
    if not call:
        return None
    cluster = row.take("globalCallId_ClusterID")
    base = f"{manager}-{call}" if manager else call
    return f"{cluster}/{base}" if cluster else base


def _record_type(row: Row) -> str:
    return row.take("cdrRecordType") or row.take("cmrRecordType")


def _endpoint_ip(row: Row, side: str) -> str | None:
    """`orig`/`dest` signalling address: the text column first, else the integer one."""
    ip = text_ip(row.take(f"{side}Ipv4v6Addr"), f"{side}Ipv4v6Addr")
    integer_ip = int_ip(row.take(f"{side}IpAddr"), f"{side}IpAddr")
    return ip or integer_ip or None


def clearing(row: Row) -> tuple[int | None, str | None]:
    """(cause, side) of the clearing: a failure cause wins over a normal one, the destination's over
    the originator's (Cisco: each side's cause is set when that side cleared the call)."""
    orig = unsigned(row.get("origCause_value"), "origCause_value")
    dest = unsigned(row.get("destCause_value"), "destCause_value")
    for code, side in ((dest, "destination"), (orig, "originator")):
        if code and code not in NORMAL_CAUSES:
            return code, side
    for code, side in ((orig, "originator"), (dest, "destination")):
        if code:
            return code, side
    return None, None


def _sip_status(cause: int | None) -> int | None:
    """`CCM_SIP_503_SERVICE_UNAVAILABLE` -> 503."""
    name = CAUSES.get(cause, "") if cause is not None else ""
    if not name.startswith("CCM_SIP_"):
        return None
    digits = name[8:].lstrip("_")[:3]
    return int(digits) if digits.isdecimal() else None


def read_cdr(row: Row) -> CdrBody:
    _record_type(row)
    cid = call_id(row)
    leg = row.take("origLegCallIdentifier")
    setup = epoch(row.take("dateTimeOrigination"), "dateTimeOrigination")
    connect = epoch(row.take("dateTimeConnect"), "dateTimeConnect")
    end = epoch(row.take("dateTimeDisconnect"), "dateTimeDisconnect")
    source_ip = _endpoint_ip(row, "orig")
    destination_ip = _endpoint_ip(row, "dest")
    caller = row.take("callingPartyNumber")
    callee = row.take("finalCalledPartyNumber")
    login = row.take("callingPartyUnicodeLoginUserID")
    device = row.take("origDeviceName")
    duration = integer(row.take("duration"), "duration")

    # Forced authorization / client matter codes: who authorised a toll call. The code value itself is
    # a credential and is not copied; its description and level identify it.
    vendor: dict[str, str] = {}
    if device:
        vendor["origDeviceName"] = device
    level_text = row.take("authorizationLevel")
    level = integer(level_text, "authorizationLevel")
    description = row.take("authCodeDescription")
    authenticated = bool(row.take("authorizationCodeValue") or description or level)
    if authenticated:
        if description:
            vendor["authCodeDescription"] = description
        if level:
            vendor["authorizationLevel"] = level_text
    if cmc := row.take("clientMatterCode"):
        vendor["clientMatterCode"] = cmc

    codec = integer(row.get("origMediaCap_payloadCapability"), "origMediaCap_payloadCapability")
    cause, side = clearing(row)
    for name in row.header.media_addresses:  # integer-encoded like the signalling ones
        if name not in row.taken and (ip := int_ip(row.take(name), name)) is not None:
            vendor[name] = ip
    rest = row.rest()
    for name, table in _DECODED.items():
        if name in rest and (code := integer(rest[name], name)) is not None and code in table:
            rest[f"{name}_text"] = table[code]
    time = end or connect or setup
    if time is None:
        raise ParseError("bad_timestamp", "CDR row without a time (dateTimeOrigination is empty or 0)")
    return CdrBody(
        cid, leg if leg != "0" else None, time, setup, connect, end, source_ip, destination_ip,
        caller, e164(caller) if caller else None, callee, e164(callee) if callee else None, login, device,
        duration if connect is not None and duration is not None and duration >= 0 else None,
        authenticated, (CODECS.get(codec, str(codec)) if codec else None), cause, side, _sip_status(cause),
        {**rest, **vendor})


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


def read_cmr(row: Row) -> CmrBody:
    _record_type(row)
    cid = call_id(row)
    leg = row.take("callIdentifier")
    time = epoch(row.take("dateTimeStamp"), "dateTimeStamp")
    device = row.take("deviceName")
    sent = integer(row.take("numberPacketsSent"), "numberPacketsSent")
    received = integer(row.take("numberPacketsReceived"), "numberPacketsReceived")
    lost = integer(row.take("numberPacketsLost"), "numberPacketsLost")
    jitter = integer(row.take("jitter"), "jitter")
    latency = integer(row.take("latency"), "latency")
    duration = integer(row.take("duration"), "duration")
    metrics = vq_metrics(row.take(_VQ))
    vendor = row.rest()
    if device:
        vendor["deviceName"] = device
    for key, metric in metrics.items():
        if metric:
            vendor[f"{_VQ}.{key}"] = metric
    if time is None:
        raise ParseError("bad_timestamp", "CMR row without a time (dateTimeStamp is empty or 0)")
    return CmrBody(
        cid, leg if leg != "0" else None, time, device,
        "audio" if sent is not None or received is not None else None, sent, received, lost,
        None if jitter is None else float(jitter), None if latency is None else float(latency),
        duration if duration is not None and duration >= 0 else None,
        _mos(metrics.get("MLQK")), metrics.get("VoRxCodec") or None, vendor)
