"""The envelope of a CUCM flat file: its names line (the header rows are read by) and its types line.

Cisco: "Line 1—List of field names in comma separated format. Line 2—List of field types in comma
separated format. Line 3—Data..." (CDR/CMR chapters of the Call Reporting and Billing guide). The
names line is remembered by the pipeline (`header_key`, `ParseContext.headers`) and each data row is
read by column name with the names line of its own file (`read_header`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from ucsiem.parsing import ParseContext, ParseError

from .flatfile import SHOWN, split_row

CDR_KEY = "cucm_cdr"
CMR_KEY = "cucm_cmr"
NAMES = {CDR_KEY: "CDR", CMR_KEY: "CMR"}  # the family as event.code
_RECORD_TYPES = {CDR_KEY: "1", CMR_KEY: "2"}
# The first column of both files; Cisco's CMR chapter prints "cmrRecordType" in its example.
_FIRST_COLUMNS = (b'"cdrRecordType"', b"cdrRecordType", b'"cmrRecordType"', b"cmrRecordType")
_FIRST_TEXT = tuple(c.decode() for c in _FIRST_COLUMNS)
_BOM = b"\xef\xbb\xbf"
_SQL_TYPES = frozenset(("INTEGER", "VARCHAR", "UNIQUEIDENTIFIER", "CHAR", "BIGINT", "SMALLINT", "TEXT", "BOOLEAN"))
_MISSING_HEADER = (
    "no CDR/CMR header line seen in this file before this row: a CUCM flat file starts with the column names "
    '("cdrRecordType","globalCallID_callManagerId",...) and the columns are read by those names; '
    "read the file from its start, or keep the header line when copying or splitting files"
)


class Header(NamedTuple):
    family: str  # CDR_KEY or CMR_KEY
    names: tuple[str, ...]
    positions: dict[str, int]
    media_addresses: tuple[str, ...]  # the media and video address columns, in the line's order


def header_family(raw: bytes) -> str | None:
    """`CDR_KEY`/`CMR_KEY` for a names line, None for any other record. Cheap: sees every record."""
    head = raw[:32]
    if head.startswith(_BOM):
        raw = raw[len(_BOM):]
    if not raw.startswith(_FIRST_COLUMNS):
        return None
    if b"origLegCallIdentifier" in raw:
        return CDR_KEY
    if b"numberPacketsSent" in raw or b"varVQMetrics" in raw:
        return CMR_KEY
    return None


def is_names_line(text: str) -> bool:
    """A line that starts like a names line (whether or not it is a valid one: `check_names_line`)."""
    return text.lstrip("\ufeff").startswith(_FIRST_TEXT)


def check_names_line(text: str) -> None:
    """A names line of a CDR or CMR file, valid CSV; ParseError otherwise."""
    if header_family(text.encode(errors="replace")) is None:
        raise ParseError("unsupported_variant",
                         "a names line with neither the CDR (origLegCallIdentifier) nor the CMR "
                         f"(numberPacketsSent, varVQMetrics) columns: {text[:SHOWN]!r}")
    parse_header(text)  # a names line must at least be valid CSV


def is_types_line(text: str) -> bool:
    """`INTEGER,INTEGER,VARCHAR(50),...,UNIQUEIDENTIFIER`: the second header line."""
    if not text.startswith(("INTEGER", "VARCHAR", "UNIQUEIDENTIFIER")):
        return False
    return _types_line(text)


@lru_cache(maxsize=8)
def _types_line(text: str) -> bool:
    """Every file of a cluster version repeats the same types line (~130 columns): read once."""
    for token in text.split(","):
        name, _, size = token.strip().partition("(")
        if name not in _SQL_TYPES or (size and not (size.endswith(")") and size[:-1].isdecimal())):
            return False
    return True


@lru_cache(maxsize=32)
def parse_header(text: str) -> Header:
    """Column names of a names line (memoised: every row of the file looks them up)."""
    names = tuple(n.strip() for n in split_row(text.removeprefix("\ufeff")))
    family = header_family(text.encode()) or ""
    positions: dict[str, int] = {}
    for i, name in enumerate(names):
        positions.setdefault(name, i)
    return Header(family, names, positions, tuple(name for name in names if "TransportAddress_IP" in name))


def read_header(values: list[str], ctx: ParseContext) -> Header:
    """The header whose width and record type fit the row. A file holds CDRs or CMRs, so one header is
    known; the record type column, read by name, must agree with it."""
    known = [parse_header(h) for key in (CDR_KEY, CMR_KEY) if (h := ctx.headers.get(key))]
    if not known:
        raise ParseError("no_match", _MISSING_HEADER)
    problems = []
    for header in known:
        name = NAMES.get(header.family, "CDR")
        if len(header.names) != len(values):
            problems.append(f"the row has {len(values)} columns but the {name} header line has {len(header.names)}")
            continue
        index = header.positions.get("cdrRecordType", header.positions.get("cmrRecordType"))
        record_type = values[index].strip() if index is not None else ""
        if record_type == _RECORD_TYPES.get(header.family):
            return header
        if record_type == "0":
            raise ParseError("unsupported_variant", "cdrRecordType 0 (start call detail record, not used by CUCM)")
        problems.append(f"cdrRecordType {record_type[:SHOWN]!r} does not belong under the {name} header line")
    raise ParseError("bad_field", "; ".join(problems))
