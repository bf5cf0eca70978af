"""Entry points: `header_key` (remembers the names line per file) and `parse` (one flat-file line)."""

from __future__ import annotations

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord

from .cdr import map_cdr
from .cmr import map_cmr
from .flatfile import CDR_KEY, CMR_KEY, SHOWN, Header, Row, header_family, is_types_line, parse_header, split_row

_RECORD_TYPES = {CDR_KEY: "1", CMR_KEY: "2"}
_NAMES = {CDR_KEY: "CDR", CMR_KEY: "CMR"}
_MISSING_HEADER = (
    "no CDR/CMR header line seen in this file before this row: a CUCM flat file starts with the column names "
    '("cdrRecordType","globalCallID_callManagerId",...) and the columns are read by those names; '
    "read the file from its start, or keep the header line when copying or splitting files"
)


def header_key(raw: bytes) -> str | None:
    """Key of a names line (`cucm_cdr` or `cucm_cmr`), None for any other record."""
    return header_family(raw)


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    text = record.text.rstrip("\r\n")
    if not text.strip():
        raise ParseError("no_match", "empty line")
    if text.lstrip("\ufeff").startswith(('"cdrRecordType"', "cdrRecordType", '"cmrRecordType"', "cmrRecordType")):
        if header_family(text.encode(errors="replace")) is not None:
            parse_header(text)  # a names line must at least be valid CSV
            return []
        raise ParseError("unsupported_variant",
                         "a names line with neither the CDR (origLegCallIdentifier) nor the CMR "
                         f"(numberPacketsSent, varVQMetrics) columns: {text[:SHOWN]!r}")
    if is_types_line(text):
        return []
    first = text.split(",", 1)[0].strip().strip('"')
    if not first.isascii() or not first.isdecimal():
        raise ParseError("no_match", f"not a CUCM CDR/CMR row (it must start with cdrRecordType): {text[:SHOWN]!r}")
    values = split_row(text)
    header = _pick_header(values, ctx)
    row = Row(header, values)
    kind = row.take("cdrRecordType") or row.take("cmrRecordType")
    event: ParsedEvent = {"event": {"kind": "event", "code": _NAMES[header.family]}}
    if kind == "1":
        map_cdr(row, event)
    else:
        map_cmr(row, event)
    if event.get("@timestamp") is None:
        column = "dateTimeOrigination" if kind == "1" else "dateTimeStamp"
        raise ParseError("bad_timestamp", f"{_NAMES[header.family]} row without a time ({column} is empty or 0)")
    return [event]


def _pick_header(values: list[str], ctx: ParseContext) -> Header:
    """The header whose width and record type fit the row. A file holds CDRs or CMRs, so one header is
    known; the record type column, read by name, must agree with it."""
    known = [parse_header(h) for key in (CDR_KEY, CMR_KEY) if (h := ctx.headers.get(key))]
    if not known:
        raise ParseError("no_match", _MISSING_HEADER)
    problems = []
    for header in known:
        name = _NAMES.get(header.family, "CDR")
        if len(header.names) != len(values):
            problems.append(f"the row has {len(values)} columns but the {name} header line has {len(header.names)}")
            continue
        index = header.positions.get("cdrRecordType", header.positions.get("cmrRecordType"))
        kind = values[index].strip() if index is not None else ""
        if kind == _RECORD_TYPES.get(header.family):
            return header
        if kind == "0":
            raise ParseError("unsupported_variant", "cdrRecordType 0 (start call detail record, not used by CUCM)")
        problems.append(f"cdrRecordType {kind[:SHOWN]!r} does not belong under the {name} header line")
    raise ParseError("bad_field", "; ".join(problems))
