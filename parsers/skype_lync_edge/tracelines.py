"""The `Name: value` lines of a SIPStack record, between the header and `$$end_record`.

A protocol record (`TF_PROTOCOL`, `SIPAdminLog::TraceProtocolRecord`) holds trace fields
(`Trace-Correlation-Id`, `Instance-Id`, `Direction`, `Peer`, `Message-Type`, `Start-Line`) followed by
the SIP headers as the stack saw them (any case: `To`, `CSeq`, `VIA`, `CONTACT`) and `Message-Body`
(`-` when empty; a body runs on over the next lines, it is not read). A diagnostic record (`TF_DIAG`,
`TF_COMPONENT`) holds `LogType`, `Severity`, `Text`, `Result-Code`, `SIP-Start-Line`, `SIP-Call-ID`,
`SIP-CSeq`, `Peer`, `Data`. Names are matched case-insensitively; values are kept as written.
"""

from __future__ import annotations

from typing import NamedTuple

END = "$$end_record"
MAX_LINES = 1000
MAX_VALUES_PER_NAME = 16

TRACE_FIELDS = frozenset((
    "trace-correlation-id", "instance-id", "direction", "peer", "message-type", "start-line", "message-body",
    "logtype", "severity", "text", "result-code", "sip-start-line", "sip-call-id", "sip-cseq", "data",
))


class TraceLines(NamedTuple):
    fields: dict[str, str]
    """Trace fields (lower-case names), first occurrence."""
    headers: dict[str, list[str]]
    """SIP headers (lower-case names), every occurrence up to a bound, in order."""
    ended: bool
    """`$$end_record` was seen."""
    begun_body: bool
    """A `Message-Body` field was seen (later lines are the body)."""
    used: int
    """How many of the lines belong to the record (up to and including `$$end_record`)."""


def read_trace_lines(lines: list[str]) -> TraceLines:
    fields: dict[str, str] = {}
    headers: dict[str, list[str]] = {}
    ended = in_body = False
    used = len(lines)
    for n, raw in enumerate(lines):
        if n >= MAX_LINES:
            break
        line = raw.rstrip("\r")
        if line.strip() == END:
            ended, used = True, n + 1
            break
        if in_body:
            continue
        name, colon, value = line.partition(":")
        key = name.strip().lower()
        if not colon or not key or " " in key or len(key) > 64:
            continue  # a folded or foreign line: not a field
        value = value.strip()
        if key in TRACE_FIELDS:
            fields.setdefault(key, value)
            if key == "message-body":
                in_body = True
            continue
        values = headers.setdefault(key, [])
        if len(values) < MAX_VALUES_PER_NAME:
            values.append(value)
    return TraceLines(fields, headers, ended, in_body, used)
