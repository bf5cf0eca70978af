"""Reader of the CUCM flat-file rows: one CSV line, then its values by column name."""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

from ucsiem.parsing import ParseError, split_csv_line

if TYPE_CHECKING:
    from .header import Header

SHOWN = 80  # characters of a bad value quoted in error messages


def split_row(text: str) -> list[str]:
    """One CSV line: values may be quoted (with commas inside), quotes doubled."""
    try:
        return split_csv_line(text)
    except csv.Error as exc:
        raise ParseError("bad_field", f"not a valid CSV line ({exc}): {text[:SHOWN]!r}") from None


def read_values(text: str) -> list[str]:
    """The values of a data row, which starts with its record type (a number)."""
    first = text.split(",", 1)[0].strip().strip('"')
    if not first.isascii() or not first.isdecimal():
        raise ParseError("no_match", f"not a CUCM CDR/CMR row (it must start with cdrRecordType): {text[:SHOWN]!r}")
    return split_row(text)


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
        """Columns not mapped, without the empty and zero defaults CUCM writes in unused columns (most of a
        row's ~130: they are passed over before any other test)."""
        out: dict[str, str] = {}
        taken = self.taken
        for name, value in zip(self.header.names, self.values, strict=True):
            if value == "" or value == "0":
                continue
            value = value.strip()
            if value != "" and value != "0" and name and name not in taken and name not in out:
                out[name] = value
        return out
