"""`gw-accounting syslog` records: one `%VOIPAAA-5-VOIP_CALL_HISTORY` line per call leg, and
`%VOIPAAA-5-VOIP_FEAT_HISTORY` lines for supplementary services (call forward...).

    CallLegType 1, ConnectionId BA55719E F8C10015 0 1B1E08, SetupTime 11:14:41.683 UTC Mon Jun 18 2001,
    PeerAddress 2887, PeerSubAddress , DisconnectCause 10  , DisconnectText normal call clearing.,
    ConnectTime ..., DisconnectTime ..., CallOrigin 1, ChargedUnits 0, InfoType 2, TransmitPackets 1510, ...
    FEAT_VSA=fn:CFA,ft:12/16/2010 10:14:59.206,frs:0,fid:113897,fcid:CA52...,legID:F3AC,...,fwdto:510,...

Field meanings from Cisco TAC document 14068: ConnectionId is the call's GUID (the same on every leg),
DisconnectCause the Q.850 cause in hexadecimal, the times are null when the gateway has no NTP time.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any

from ucsiem.parsing import ParsedEvent

from .kinds import apply
from .stamps import cdr_time

MAX_FIELDS = 64
_KEY = re.compile(r"([A-Z][A-Za-z0-9_]{0,40})(?: |$)")
_COUNTERS = ("TransmitPackets", "TransmitBytes", "ReceivePackets", "ReceiveBytes", "ChargedUnits")
_NORMAL_Q850 = frozenset((16, 31))
_FORWARD_FEATURES = frozenset(("CFA", "CFB", "CFNA"))


def _pairs(text: str) -> dict[str, str]:
    """`Key value, Key value, ...`: a part that does not start with a key continues the previous value."""
    out: dict[str, str] = {}
    last: str | None = None
    for part in text.split(", ", MAX_FIELDS)[:MAX_FIELDS]:
        m = _KEY.match(part)
        if m is not None and m.group(1) not in out:
            last = m.group(1)
            out[last] = part[m.end():].strip()
        elif last is not None:
            out[last] = f"{out[last]}, {part.strip()}"
    return out


def call_history(text: str, event: ParsedEvent, vendor: dict[str, Any], tz: tzinfo) -> datetime | None:
    """VOIP_CALL_HISTORY -> a `call-end` event; returns the disconnect time (used when the line has no stamp)."""
    pairs = _pairs(text)
    call: dict[str, Any] = event.setdefault("uc", {}).setdefault("call", {})
    if conn := pairs.pop("ConnectionId", ""):
        call["id"] = conn
    times: dict[str, datetime] = {}
    for key, target in (("SetupTime", "setup_time"), ("ConnectTime", "connect_time"), ("DisconnectTime", "end_time")):
        raw = pairs.pop(key, "")
        when = cdr_time(raw, tz) if raw else None
        if when is not None:
            call[target] = when
            times[key] = when
        elif raw:
            vendor[key] = raw
    if "ConnectTime" in times and "DisconnectTime" in times:
        seconds = (times["DisconnectTime"] - times["ConnectTime"]).total_seconds()
        if seconds >= 0:
            call["duration"] = seconds
    cause_hex = pairs.pop("DisconnectCause", "").strip()
    q850: int | None = None
    if cause_hex:
        vendor["DisconnectCause"] = cause_hex
        try:
            q850 = int(cause_hex, 16)
            vendor["q850_cause"] = q850
        except ValueError:
            pass
    text_cause = pairs.pop("DisconnectText", "").strip()
    if text_cause or cause_hex:
        call["disconnect_cause"] = text_cause or cause_hex
    for key in _COUNTERS:
        raw = pairs.pop(key, "")
        if raw.isdecimal():
            vendor[key] = int(raw)
        elif raw:
            vendor[key] = raw
    for key, value in pairs.items():
        if value:
            vendor[key] = value
    # answered and cleared normally: success; never answered or abnormal cause: failure
    connected = "ConnectTime" in times
    outcome: str | None = None
    if connected and (q850 is None or q850 in _NORMAL_Q850):
        outcome = "success"
    elif q850 is not None:
        outcome = "failure"
    apply(event, "call-end", outcome, reason=text_cause or None)
    return times.get("DisconnectTime")


def feature_history(text: str, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """VOIP_FEAT_HISTORY: `FEAT_VSA=fn:<feature>,ft:<time>,...` (comma-separated `key:value`)."""
    body = text.removeprefix("FEAT_VSA=")
    pairs: dict[str, str] = {}
    for item in body.split(",", MAX_FIELDS)[:MAX_FIELDS]:
        key, colon, value = item.partition(":")
        if colon and key.strip():
            pairs.setdefault(key.strip(), value.strip())
    feature = pairs.get("fn", "")
    call: dict[str, Any] = event.setdefault("uc", {}).setdefault("call", {})
    if leg := pairs.pop("legID", ""):
        call["leg_id"] = leg
    for key, value in pairs.items():
        if value:
            vendor[key] = value
    if feature.upper() in _FORWARD_FEATURES:
        apply(event, "call-redirect", reason=feature)
    else:
        apply(event, "call-update", reason=feature or None)
