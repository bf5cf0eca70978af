"""`gw-accounting syslog` records: one `%VOIPAAA-5-VOIP_CALL_HISTORY` line per call leg, and
`%VOIPAAA-5-VOIP_FEAT_HISTORY` lines for supplementary services (call forward...).

    CallLegType 1, ConnectionId BA55719E F8C10015 0 1B1E08, SetupTime 11:14:41.683 UTC Mon Jun 18 2001,
    PeerAddress 2887, PeerSubAddress , DisconnectCause 10  , DisconnectText normal call clearing.,
    ConnectTime ..., DisconnectTime ..., CallOrigin 1, ChargedUnits 0, InfoType 2, TransmitPackets 1510, ...
    FEAT_VSA=fn:CFA,ft:12/16/2010 10:14:59.206,frs:0,fid:113897,fcid:CA52...,legID:F3AC,...,fwdto:510,...

Field meanings from Cisco TAC document 14068: ConnectionId is the call's GUID (the same on every leg),
DisconnectCause the Q.850 cause in hexadecimal, the times are null when the gateway has no NTP time.
CDR times read `hh:mm:ss.mmm ZONE Ddd Mmm dd yyyy` (a leading `*` or `.` marks an unsynchronised clock).
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from ucsiem.parsing import ParseError, build_time, fraction_micro, month_number

from .values import zone_of

if TYPE_CHECKING:
    from .body import Body

MAX_FIELDS = 64
_KEY = re.compile(r"([A-Z][A-Za-z0-9_]{0,40})(?: |$)")
_COUNTERS = ("TransmitPackets", "TransmitBytes", "ReceivePackets", "ReceiveBytes", "ChargedUnits")
# CDR time: `11:14:41.683 UTC Mon Jun 18 2001`
_CDR_TIME = re.compile(r"[*.]?(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? ([A-Za-z][A-Za-z0-9+_-]{0,15}) "
                       r"[A-Z][a-z]{2} ([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{4})")


def cdr_time(text: str, tz: tzinfo) -> datetime | None:
    """A CDR time field, None when empty or unreadable (null when the gateway has no NTP time)."""
    m = _CDR_TIME.fullmatch(text.strip())
    if m is None:
        return None
    h, mi, s, frac, zone, mon, d, y = m.groups()
    month = month_number(mon)
    if month is None:
        return None
    try:
        return build_time(int(y), month, int(d), int(h), int(mi), int(s), fraction_micro(frac), zone_of(zone, tz),
                          "CDR time")
    except ParseError:
        return None


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


def read_call_history(body: Body, tz: tzinfo) -> None:
    """VOIP_CALL_HISTORY: the call's times, cause and counters (`end_time` is also the event's time when
    the line has no stamp)."""
    pairs = _pairs(body.message)
    vendor = body.vendor
    body.call_id = pairs.pop("ConnectionId", "") or None
    for key in ("SetupTime", "ConnectTime", "DisconnectTime"):
        raw = pairs.pop(key, "")
        when = cdr_time(raw, tz) if raw else None
        if when is None:
            if raw:
                vendor[key] = raw
        elif key == "SetupTime":
            body.setup_time = when
        elif key == "ConnectTime":
            body.connect_time = when
        else:
            body.end_time = when
    if body.connect_time is not None and body.end_time is not None:
        seconds = (body.end_time - body.connect_time).total_seconds()
        if seconds >= 0:
            body.duration = seconds
    cause_hex = pairs.pop("DisconnectCause", "").strip()
    if cause_hex:
        vendor["DisconnectCause"] = cause_hex
        try:
            body.q850 = int(cause_hex, 16)
            vendor["q850_cause"] = body.q850
        except ValueError:
            pass
    text_cause = pairs.pop("DisconnectText", "").strip()
    body.disconnect_cause = text_cause or cause_hex or None
    body.reason = text_cause or None
    for key in _COUNTERS:
        raw = pairs.pop(key, "")
        if raw.isdecimal():
            vendor[key] = int(raw)
        elif raw:
            vendor[key] = raw
    for key, value in pairs.items():
        if value:
            vendor[key] = value


def read_feature_history(body: Body, tz: tzinfo) -> None:
    """VOIP_FEAT_HISTORY: `FEAT_VSA=fn:<feature>,ft:<time>,...` (comma-separated `key:value`); `status` is
    the feature name (`fn`)."""
    text = body.message.removeprefix("FEAT_VSA=")
    pairs: dict[str, str] = {}
    for item in text.split(",", MAX_FIELDS)[:MAX_FIELDS]:
        key, colon, value = item.partition(":")
        if colon and key.strip():
            pairs.setdefault(key.strip(), value.strip())
    feature = pairs.get("fn", "")
    body.status = feature
    body.reason = feature or None
    body.leg_id = pairs.pop("legID", "") or None
    for key, value in pairs.items():
        if value:
            body.vendor[key] = value
