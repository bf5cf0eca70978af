"""The CUCM flat-file layout: a names line, a types line, then one CSV row per record.

Cisco: "Line 1—List of field names in comma separated format. Line 2—List of field types in comma
separated format. Line 3—Data..." (CDR/CMR chapters of the Call Reporting and Billing guide). The
names line is remembered by the pipeline (`header_key`) and rows are read by column name with it.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from typing import NamedTuple

from ucsiem.parsing import ParseError

CDR_KEY = "cucm_cdr"
CMR_KEY = "cucm_cmr"
# The first column of both files; Cisco's CMR chapter prints "cmrRecordType" in its example.
_FIRST_COLUMNS = (b'"cdrRecordType"', b"cdrRecordType", b'"cmrRecordType"', b"cmrRecordType")
_BOM = b"\xef\xbb\xbf"
_SQL_TYPES = frozenset(("INTEGER", "VARCHAR", "UNIQUEIDENTIFIER", "CHAR", "BIGINT", "SMALLINT", "TEXT", "BOOLEAN"))
SHOWN = 80  # characters of a bad value quoted in error messages


class Header(NamedTuple):
    family: str
    names: tuple[str, ...]
    positions: dict[str, int]


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


def is_types_line(text: str) -> bool:
    """`INTEGER,INTEGER,VARCHAR(50),...,UNIQUEIDENTIFIER`: the second header line."""
    if not text.startswith(("INTEGER", "VARCHAR", "UNIQUEIDENTIFIER")):
        return False
    for token in text.split(","):
        name, _, size = token.strip().partition("(")
        if name not in _SQL_TYPES or (size and not (size.endswith(")") and size[:-1].isdecimal())):
            return False
    return True


def split_row(text: str) -> list[str]:
    """One CSV line: values may be quoted (with commas inside), quotes doubled."""
    try:
        rows = list(csv.reader([text], strict=True))
    except csv.Error as exc:
        raise ParseError("bad_field", f"not a valid CSV line ({exc}): {text[:SHOWN]!r}") from None
    if len(rows) != 1:
        raise ParseError("no_match", f"not one CSV line: {text[:SHOWN]!r}")
    return rows[0]


@lru_cache(maxsize=32)
def parse_header(text: str) -> Header:
    """Column names of a names line (memoised: every row of the file looks them up)."""
    names = tuple(n.strip() for n in split_row(text.removeprefix("\ufeff")))
    family = header_family(text.encode()) or ""
    positions: dict[str, int] = {}
    for i, name in enumerate(names):
        positions.setdefault(name, i)
    return Header(family, names, positions)


class Row:
    """A data row by column name; `take` marks a column as mapped, `rest` gives the others."""

    __slots__ = ("header", "taken", "values")

    def __init__(self, header: Header, values: list[str]) -> None:
        self.header = header
        self.values = values
        self.taken: set[str] = set()

    def get(self, name: str) -> str:
        i = self.header.positions.get(name)
        return self.values[i].strip() if i is not None else ""

    def take(self, name: str) -> str:
        self.taken.add(name)
        return self.get(name)

    def rest(self) -> dict[str, str]:
        """Columns not mapped, without the empty and zero defaults CUCM writes in unused columns."""
        out: dict[str, str] = {}
        for name, value in zip(self.header.names, self.values, strict=True):
            value = value.strip()
            if name and name not in self.taken and value not in ("", "0") and name not in out:
                out[name] = value
        return out
