"""The first line of a SIPStack trace record, as CLS / OCSLogger (TraceFmt) / Snooper render it.

    TL_INFO(TF_PROTOCOL) [0]06E4.0EB4::01/18/2012-05:00:43.101.00005386
        (SIPStack,SIPAdminLog::TraceProtocolRecord:SIPAdminLog.cpp(125))$$begin_record
    TL_WARN(TF_DIAG) [edge01\\edge01]0584.0A44::03/02/2017-07:10:46.230.0000773E
        (SIPStack,SIPAdminLog::WriteDiagnosticEvent:SIPAdminLog.cpp(830)) [156659184] $$begin_record
    TL_ERROR(TF_COMPONENT) [0]0860.0CDC::01/18/2012-05:07:42.622.000d0b31
        (SIPStack,CSIPRequest::GetNextHopByRouteHeader:SIPRequest.cpp(2440))( 00000000028FDD70 ) Exit - ...
        Result 0xC3E93C5E(SIPPROXY_E_ROUTING)

(one line each, wrapped here). Grammar: `TL_<level>(TF_<flag>) [<cpu or origin>]<pid>.<tid>::<MM/DD/YYYY>-
<hh:mm:ss.mmm>.<sequence> (<component>,<class::function:file>(<line>))<rest>`. The stamp is UTC (README
"Time"). All patterns are anchored with bounded repeats.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import NamedTuple

from ucsiem.parsing import ParseError

SHOWN = 96  # characters of a bad record quoted in an error message

# Where a record starts; every other line continues the record before it.
FIRST_LINE_PATTERN = r"TL_[A-Z]{1,16}\(TF_[A-Z_]{1,32}\) \["

_HEADER = re.compile(
    r"TL_(?P<level>[A-Z]{1,16})\((?P<flag>TF_[A-Z_]{1,32})\) "
    r"\[(?P<origin>[^\]\r\n]{0,128})\]"
    r"(?P<pid>[0-9A-Fa-f]{1,8})\.(?P<tid>[0-9A-Fa-f]{1,8})::"
    r"(?P<month>\d\d)/(?P<day>\d\d)/(?P<year>\d{4})-(?P<hour>\d\d):(?P<minute>\d\d):(?P<second>\d\d)"
    r"\.(?P<milli>\d{3})\.(?P<seq>[0-9A-Fa-f]{1,16}) "
    r"\((?P<component>[A-Za-z0-9_.]{1,64}),(?P<function>[^()\r\n]{1,256})\((?P<line>\d{1,7})\)\)")
# `( 00000000028FDD70 )`: the address of the object that traced; `[156659184]`: a correlation number
_OBJECT = re.compile(r"\( ?(?P<object>[0-9A-Fa-f]{1,16}) ?\) ?")
_CORRELATION = re.compile(r"\[(?P<correlation>\d{1,20})\] ?")
# `... Result 0xC3E93C5E(SIPPROXY_E_ROUTING)` at the end of a one-line trace
_RESULT = re.compile(r"Result (?P<hex>0x[0-9A-Fa-f]{8}) ?\((?P<name>[A-Za-z0-9_]{1,96})\)$")
BEGIN = "$$begin_record"

_LEVELS = {"WARN": "warning", "ERR": "error", "INFO": "info", "ERROR": "error", "VERBOSE": "verbose",
           "FATAL": "fatal", "DEBUG": "debug"}


class Header(NamedTuple):
    level: str
    flag: str
    origin: str
    pid: int
    tid: str
    timestamp: datetime
    sequence: str
    component: str
    function: str
    source_line: int
    begin: bool
    """The line ends with `$$begin_record`: `Name: value` lines follow up to `$$end_record`."""
    correlation: str | None
    object: str | None
    text: str
    result_hex: str | None
    result_name: str | None


def read_header(line: str) -> Header:
    if not line.strip():
        raise ParseError("no_match", "empty record")
    m = _HEADER.match(line)
    if m is None:
        raise ParseError("no_match", f"not a SIPStack trace header 'TL_<level>(TF_<flag>) [..]pid.tid::MM/DD/YYYY-"
                         f"hh:mm:ss.mmm.seq (component,function(line))': {line[:SHOWN]!r}")
    try:
        ts = datetime(int(m["year"]), int(m["month"]), int(m["day"]), int(m["hour"]), int(m["minute"]),
                      int(m["second"]), int(m["milli"]) * 1000, tzinfo=UTC)
    except ValueError as exc:
        raise ParseError("bad_timestamp", f"trace time is not a valid date and time: {exc}") from None
    rest = line[m.end():].strip()
    begin = rest.endswith(BEGIN)
    if begin:
        rest = rest[: -len(BEGIN)].rstrip()
    correlation = obj = None
    if (cm := _CORRELATION.match(rest)) is not None:
        correlation = cm["correlation"]
        rest = rest[cm.end():]
    elif (om := _OBJECT.match(rest)) is not None:
        obj = om["object"]
        rest = rest[om.end():]
    rest = rest.strip()
    result_hex = result_name = None
    if (rm := _RESULT.search(rest[-128:])) is not None:
        result_hex, result_name = rm["hex"].lower(), rm["name"]
    level = m["level"]
    return Header(
        level=_LEVELS.get(level, level.lower()), flag=m["flag"], origin=m["origin"], pid=int(m["pid"], 16),
        tid=m["tid"], timestamp=ts, sequence=m["seq"], component=m["component"], function=m["function"],
        source_line=int(m["line"]), begin=begin, correlation=correlation, object=obj, text=rest,
        result_hex=result_hex, result_name=result_name)
