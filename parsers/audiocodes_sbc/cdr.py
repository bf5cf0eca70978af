"""AudioCodes CDRs over syslog: `|`-separated rows read by the header line the device sent first.

The reader of `body.read_cdr`: header detection (`header_family`), column lists, the row by column name
(`Row`) and its media and signalling columns; it reads, `classify.classify_cdr` and
`event.assemble_cdr` do the rest.

The device sends a header row naming the columns (`|SBCReportType |EPTyp |SIPCallId ...`), then one
row per report, every field padded with blanks. The column set is configurable and differs across
firmware (`Durat` vs `Duration`, `SIPMethod` present or not, media fields appended to CALL_END...), so
rows are always read by name: with the latest header of their family seen in the same file
(`ParseContext.headers`), else with the 7.4-era default column list (tag `cdr_default_header`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any, NamedTuple

from ucsiem.parsing import (
    ParseContext,
    ParseError,
    canonical_ip,
    fraction_micro,
    month_number,
    present,
    split_uri_user,
    to_port,
    utc_offset,
)

# Header keys (`ParserSpec.header_key`) name a report family, whatever the header's first column is
# called (`SBCReportType`, `GWReportType`, `MediaReportType`, or `CDRReportType` in 7.4 manuals).
SBC_KEY = "SBCReportType"
GW_KEY = "GWReportType"
MEDIA_KEY = "MediaReportType"

# The 7.4-era default columns (header as captured from a 7.4 SBC, see README.md).
DEFAULT_SBC_HEADER = (
    "SBCReportType|EPTyp|SIPCallId|SessionId|Orig|SourceIp|SourcePort|DestIp|DestPort|TransportType|"
    "SrcURI|SrcURIBeforeMap|DstURI|DstURIBeforeMap|Duration|TrmSd|TrmReason|TrmReasonCategory|SetupTime|"
    "ConnectTime|ReleaseTime|RedirectReason|RedirectURINum|RedirectURINumBeforeMap|TxSigIPDiffServ|"
    "IPGroup (name)|SrdId (name)|SIPInterfaceId (name)|ProxySetId (name)|IpProfileId (name)|"
    "MediaRealmId (name)|DirectMedia|SIPTrmReason|SIPTermDesc|Caller|Callee|Trigger|LegId|VoiceAIConnectorName"
)
DEFAULT_MEDIA_HEADER = (
    "MediaReportType|SIPCallId|SessionId|Cid|MediaType|Coder|Intrv|LocalRtpIp|LocalRtpPort|RemoteRtpIp|"
    "RemoteRtpPort|InPackets|OutPackets|LocalPackLoss|RemotePackLoss|RTPdelay|RTPjitter|TxRTPssrc|RxRTPssrc|"
    "LocalRFactor|RemoteRFactor|LocalMosCQ|RemoteMosCQ|TxRTPIPDiffServ|LatchedRtpIp|LatchedRtpPort|"
    "LatchedT38Ip|LatchedT38Port|CoderTranscoding|LegId"
)

SIGNALLING_REPORTS = {"CALL_START", "CALL_CONNECT", "CALL_END", "DIALOG_START", "DIALOG_END"}
# "UPDATE"/"END" are the media report names printed by 7.2 manuals (later firmware: MEDIA_*).
MEDIA_REPORTS = {"MEDIA_START", "MEDIA_UPDATE", "MEDIA_END", "UPDATE", "END"}
REPORT_TYPES = SIGNALLING_REPORTS | MEDIA_REPORTS
# EPTyp of Gateway CDRs (manuals); SBC CDRs say "SBC".
GW_ENDPOINTS = {"FXO", "FXS", "EANDM", "ISDN", "CAS", "DAA", "IPMEDIA", "NETANN", "STREAMING", "TRANSPARENT",
                "MSCML", "VXML", "IP2IP"}

PLACEHOLDERS = {"", "REASON N/A", "N/A", "UNKN", "UNKNOWN", "-1"}
UNAVAILABLE = {"-1", "4294967295", "N/A"}  # "no value" in counters (0xFFFFFFFF, -1)
MEDIA_UNAVAILABLE = 127  # R-factor and MOS "information unavailable"

_SIDE = {"LCL": "local", "RMT": "remote"}
_ORIG = {"RMT": "inbound", "LCL": "outbound"}
_TRANSPORT = {"UDP": "udp", "TCP": "tcp", "TLS": "tcp", "SCTP": "sctp", "WS": "tcp", "WSS": "tcp"}
_E164 = re.compile(r"\+\d{6,15}")
_CDR_TIME = re.compile(
    r"(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?\s+(?:([A-Za-z]{1,6}|[+-]\d\d:?\d\d)\s+)?"
    r"(?:[A-Z][a-z]{2}\s+)?([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d{4})"
)
_UTC_NAMES = {"UTC", "GMT", "UT", "Z"}
# A header row: nothing but an optional receiver prefix (no brackets, no pipes) and an optional
# `[S=n]` before the `<family>ReportType |` column. The bounded class keeps the match linear.
_HEADER_HEAD = re.compile(r"[^\[\]|]{0,200}?(?:\[S ?= ?\d{1,12}\])?\s*\|?\s*([A-Za-z]{0,16})ReportType\s*\|")
HEADER_SCAN = 400  # the report-type column of a header row is never further into the line

# Canonical (lower-case) column names for the few spellings that differ across firmware.
_ALIASES = {
    "durat": "duration",
    "sigtransporttype": "transporttype",
    "ipg": "ipgroup",
    "ipgroupid": "ipgroup",
    "packetinterval": "intrv",
    "packloss": "localpackloss",
    "srcphonenum": "srcuri",
    "dstphonenum": "dsturi",
    "sigsourceport": "sourceport",
    "sigdestport": "destport",
}


def header_family(text: str) -> str | None:
    """The header key of a CDR header row, None for any other record."""
    idx = text.find("ReportType", 0, HEADER_SCAN)
    if idx < 0:
        return None
    m = _HEADER_HEAD.match(text, 0, min(len(text), idx + HEADER_SCAN))
    if m is None or m.end() < idx:
        return None
    rest = text[m.end():]
    if "SessionId" not in rest and "SIPCallId" not in rest and "Cid" not in rest:
        return None
    name = m.group(1)
    if name == "SBC":
        return SBC_KEY
    if name == "Media":
        return MEDIA_KEY
    if name == "GW":
        return GW_KEY
    if "Coder" in rest and "SourceIp" not in rest and "SrcURI" not in rest:
        return MEDIA_KEY
    if "SrcPhoneNum" in rest or "BChan" in rest:
        return GW_KEY
    if "SrcURI" in rest or "SourceIp" in rest or "EPTyp" in rest:
        return SBC_KEY
    return f"{name}ReportType"


def _canon(name: str) -> tuple[str, str]:
    """(lookup key, vendor key): `IPGroup (name)` -> ("ipgroup", "IPGroup"), `Durat` -> ("duration", "Durat")."""
    display = name.strip()
    if display.endswith("(name)"):
        display = display[:-6].rstrip()
    key = display.lower().replace(" ", "")
    if key.endswith("reporttype"):
        key = "reporttype"
    return _ALIASES.get(key, key), display


@lru_cache(maxsize=64)
def header_columns(text: str) -> tuple[tuple[str, str], ...]:
    """Column names of a header row (pure; memoised because every data row of a file looks them up)."""
    idx = text.find("ReportType", 0, HEADER_SCAN)
    if idx < 0:
        return ()
    start = idx
    while start > 0 and text[start - 1].isalpha():
        start -= 1
    names = [c.strip() for c in text[start:].split("|")]
    while names and not names[-1]:
        names.pop()
    return tuple(_canon(n) for n in names)


DEFAULT_SBC_COLUMNS = header_columns(DEFAULT_SBC_HEADER)
DEFAULT_MEDIA_COLUMNS = header_columns(DEFAULT_MEDIA_HEADER)


def split_row(body: str) -> list[str]:
    """Trimmed fields of a data row (`|CALL_END |SBC |...` or `MEDIA_END |...`)."""
    fields = body.split("|")
    if fields and not fields[0].strip():
        fields = fields[1:]
    return [f.strip() for f in fields]


def _value_at(cols: tuple[tuple[str, str], ...], values: list[str], key: str) -> str | None:
    for i, (name, _) in enumerate(cols):
        if name == key:
            return values[i] if i < len(values) else None
    return None


def pick_columns(report: str, values: list[str], ctx: ParseContext) -> tuple[tuple[tuple[str, str], ...], bool]:
    """Columns for a row: the latest header of its family in this file, else the built-in default."""
    if report in MEDIA_REPORTS:
        keys: tuple[str, ...] = (MEDIA_KEY,)
        default = DEFAULT_MEDIA_COLUMNS
    else:
        keys = (SBC_KEY, GW_KEY)
        default = DEFAULT_SBC_COLUMNS
    found = [(k, cols) for k in keys if (h := ctx.headers.get(k)) and (cols := header_columns(h))]
    if not found:
        return default, True
    if len(found) > 1:
        # Both an SBC and a Gateway header in one file: the endpoint type tells them apart (EPTyp is
        # "SBC" on SBC rows, FXS/ISDN/IP2IP... on Gateway rows), else the header whose width fits.
        for key, cols in found:
            eptyp = _value_at(cols, values, "eptyp")
            if (key == SBC_KEY and eptyp == "SBC") or (key == GW_KEY and eptyp in GW_ENDPOINTS):
                return cols, False
        n = len(values) - 1 if values and not values[-1] else len(values)
        for _, cols in found:
            if len(cols) in (n, len(values)):
                return cols, False
    return found[0][1], False


def _ip(value: str, column: str) -> str | None:
    if not value:
        return None
    address = canonical_ip(value)
    if address is None:
        raise ParseError("bad_field", f"{column} is not an IP address: {value[:48]!r}")
    return address


def _port(value: str, tags: list[str]) -> int | None:
    """A port column: `-1` (and empty) is the device's "no port"; anything else that is not a port is left
    out and tags the event `bad_port` (parsers/README.md, "Ports")."""
    if not value or value == "-1":
        return None
    return to_port(value, tags)


def _count(value: str) -> int | None:
    """Counter or None when unavailable (-1, 0xFFFFFFFF), not a number or beyond 64 bits."""
    if value in UNAVAILABLE or not value.isdecimal() or len(value) > 18:
        return None
    return int(value)


def parse_cdr_time(value: str, column: str, default_tz: tzinfo, tags: list[str]) -> datetime | None:
    """`18:57:52.320  UTC Mon Dec 05 2022` (one or two blanks), empty -> None."""
    if not value:
        return None
    m = _CDR_TIME.fullmatch(value)
    if m is None:
        try:
            ts = datetime.fromisoformat(value)
        except ValueError:
            raise ParseError("bad_timestamp", f"{column} is not a CDR time: {value[:48]!r}") from None
        return ts if ts.tzinfo is not None else ts.replace(tzinfo=default_tz)
    h, mi, s, frac, zone, mon, d, y = m.groups()
    month = month_number(mon)
    if month is None:
        raise ParseError("bad_timestamp", f"{column} has an unknown month: {value[:48]!r}")
    tz: tzinfo
    if zone is None or zone in _UTC_NAMES:
        tz = UTC if zone else default_tz
    elif zone[0] in "+-":
        tz = utc_offset(zone) or default_tz
    else:
        tz = default_tz  # a zone name we cannot resolve: the configured zone, flagged
        if "cdr_time_zone_assumed" not in tags:
            tags.append("cdr_time_zone_assumed")
    try:
        return datetime(int(y), month, int(d), int(h), int(mi), int(s), fraction_micro(frac), tzinfo=tz)
    except ValueError:
        raise ParseError("bad_timestamp", f"{column} is not a valid date: {value[:48]!r}") from None


def _caller(uri: str) -> tuple[str | None, str | None, str | None]:
    """(user, domain, E.164 number) of a CDR URI such as `+33001@10.0.1.11`."""
    user, host = split_uri_user(uri)
    number = user if user is not None and _E164.fullmatch(user) else None
    return user, host, number


def _mos(value: str) -> float | None:
    """AudioCodes reports MOS x10 (10..46), 127 when unavailable; a decimal is taken as is."""
    if "." in value:
        try:
            mos = float(value)
        except ValueError:
            return None
        return mos if 1.0 <= mos <= 5.0 else None
    if not value.isdecimal():
        return None
    n = int(value)
    return n / 10 if 10 <= n <= 50 else None


def _rfactor(value: str) -> float | None:
    if not value.isdecimal():
        return None
    n = int(value)
    return float(n) if n <= 120 else None


class Row:
    """A data row by column name; what is not taken by the mapping ends up in `uc.vendor`."""

    __slots__ = ("names", "values")

    def __init__(self, columns: tuple[tuple[str, str], ...], values: list[str]) -> None:
        self.values: dict[str, str] = {}
        self.names: dict[str, str] = {}
        for (key, display), value in zip(columns, values, strict=False):
            if key in self.values:  # a column named twice (gateway CDRs repeat TON/NPI): keep both
                n = 2
                while f"{key}#{n}" in self.values:
                    n += 1
                key, display = f"{key}#{n}", f"{display}_{n}"
            self.values[key] = value
            self.names[key] = display

    def take(self, key: str) -> str:
        self.names.pop(key, None)
        return self.values.pop(key, "")

    def vendor(self) -> dict[str, Any]:
        return {self.names[k]: v for k, v in self.values.items() if v and k in self.names}


def read_media(row: Row, media: dict[str, Any], tags: list[str]) -> None:
    """Media columns: media CDRs, and CALL_END rows customised to carry them."""
    if (v := row.take("mediatype")):
        media["type"] = v.lower()
    if (v := row.take("coder")) and v not in UNAVAILABLE:
        media["codec"] = v
    for column, field in (("localrtpip", "local_ip"), ("remotertpip", "remote_ip")):
        name = row.names.get(column, column)
        if (ip := _ip(row.take(column), name)) is not None:
            media[field] = ip
    for column, field in (("localrtpport", "local_port"), ("remotertpport", "remote_port")):
        if (port := _port(row.take(column), tags)) is not None:
            media[field] = port
    for column, field in (("inpackets", "packets_in"), ("outpackets", "packets_out"),
                          ("localpackloss", "packets_lost_local"), ("remotepackloss", "packets_lost_remote"),
                          ("rtpdelay", "delay_ms"), ("rtpjitter", "jitter_ms")):
        raw = row.values.get(column)
        if raw is None:
            continue
        n = _count(raw)
        if n is not None or raw in UNAVAILABLE:  # a non-number stays a vendor field
            row.take(column)
        if n is not None:
            media[field] = float(n) if field.endswith("_ms") else n
    if "localmoscq" in row.values:
        raw = row.values["localmoscq"]
        mos = _mos(raw)
        if mos is not None or raw in ("", str(MEDIA_UNAVAILABLE)):
            row.take("localmoscq")
        if mos is not None:
            media["mos"] = mos
    if "localrfactor" in row.values:
        raw = row.values["localrfactor"]
        rf = _rfactor(raw)
        if rf is not None or raw in ("", str(MEDIA_UNAVAILABLE)):
            row.take("localrfactor")
        if rf is not None:
            media["r_factor"] = rf


class Signalling(NamedTuple):
    """What a signalling row says beyond its columns' fields: its time and how the call ended."""

    time: datetime | None  # the report's own time (SetupTime, ConnectTime or ReleaseTime, see README.md)
    duration: int | None  # seconds, *_END rows
    reason: str | None  # SIPTrmReason, *_END rows
    category: str  # TrmReasonCategory, upper case
    status: int | None  # SIPTrmReason when a SIP code
    connected: bool  # ConnectTime present or Duration > 0


def read_signalling(report: str, row: Row, sip: dict[str, Any], call: dict[str, Any], source: dict[str, Any],
                    destination: dict[str, Any], network: dict[str, Any], tz: tzinfo,
                    tags: list[str]) -> Signalling:
    """Signalling columns into `uc.sip`, `uc.call`, `source`, `destination`, `network` members."""
    network["protocol"] = "sip"
    if (v := row.take("orig")):
        if v.upper() in _ORIG:
            call["direction"] = _ORIG[v.upper()]
        elif v not in PLACEHOLDERS:
            row.values["orig"], row.names["orig"] = v, "Orig"
    if (ip := _ip(row.take("sourceip"), "SourceIp")) is not None:
        source["ip"] = ip
    if (port := _port(row.take("sourceport"), tags)) is not None:
        source["port"] = port
    if (ip := _ip(row.take("destip"), "DestIp")) is not None:
        destination["ip"] = ip
    if (port := _port(row.take("destport"), tags)) is not None:
        destination["port"] = port
    if (v := row.take("transporttype")):
        network["transport"] = _TRANSPORT.get(v.upper(), v.lower())
        if v.upper() not in ("UDP", "TCP", "SCTP"):
            row.values["transporttype"], row.names["transporttype"] = v, "TransportType"
    if (v := row.take("srcuri")):
        call["caller"] = v
        user, host, number = _caller(v)
        if user or host:
            source["user"] = present({"name": user, "domain": host})
        if number:
            call["caller_number"] = number
    if (v := row.take("dsturi")):
        call["callee"] = v
        user, host, number = _caller(v)
        if user or host:
            destination["user"] = present({"name": user, "domain": host})
        if number:
            call["callee_number"] = number
    if (v := row.take("ipgroup")):
        call["trunk"] = v[:-2].rstrip() if v.endswith("()") else v
    interface = row.values.get("sipinterfaceid") or row.values.get("srdid")
    if interface:
        call["route"] = interface[:-2].rstrip() if interface.endswith("()") else interface
        if row.values.get("sipinterfaceid"):
            row.take("sipinterfaceid")
        else:
            row.take("srdid")

    setup = parse_cdr_time(row.take("setuptime"), "SetupTime", tz, tags)
    connect = parse_cdr_time(row.take("connecttime"), "ConnectTime", tz, tags)
    release = parse_cdr_time(row.take("releasetime"), "ReleaseTime", tz, tags)
    if setup:
        call["setup_time"] = setup
    if connect:
        call["connect_time"] = connect
    if release:
        call["end_time"] = release

    ending = report.endswith("_END")
    duration_raw = row.take("duration")
    duration: int | None = None
    if ending and duration_raw and duration_raw != "-1":
        if not duration_raw.isdecimal() or len(duration_raw) > 9:
            raise ParseError("bad_field", f"Duration is not a number of seconds: {duration_raw[:32]!r}")
        duration = int(duration_raw)
        call["duration"] = float(duration)

    side, cause, category = row.take("trmsd"), row.take("trmreason"), row.take("trmreasoncategory")
    sip_reason, sip_desc = row.take("siptrmreason"), row.take("siptermdesc")
    status: int | None = None
    reason: str | None = None
    if ending:
        if side in _SIDE:
            call["disconnect_side"] = _SIDE[side]
        elif side not in PLACEHOLDERS:
            call["disconnect_side"] = side.lower()
        if cause not in PLACEHOLDERS:
            call["disconnect_cause"] = cause
        if category not in PLACEHOLDERS:
            call["disconnect_category"] = category
        if sip_reason:
            reason = sip_reason
            if sip_reason.isdecimal() and 100 <= int(sip_reason) <= 699:
                status = int(sip_reason)
                sip["status_code"] = status
        if sip_desc:
            sip["reason_phrase"] = sip_desc
    else:  # placeholders on START/CONNECT rows; anything real is kept as a vendor field
        for key, name, value in (("trmsd", "TrmSd", side), ("trmreason", "TrmReason", cause),
                                 ("trmreasoncategory", "TrmReasonCategory", category),
                                 ("siptrmreason", "SIPTrmReason", sip_reason),
                                 ("siptermdesc", "SIPTermDesc", sip_desc)):
            if value not in PLACEHOLDERS:
                row.values[key], row.names[key] = value, name

    connected = connect is not None or bool(duration)
    if report in ("CALL_START", "DIALOG_START"):
        time = setup
    elif report == "CALL_CONNECT":
        time = connect or setup
    else:  # CALL_END, DIALOG_END
        time = release or connect or setup
    return Signalling(time, duration, reason, category.upper(), status, connected)
