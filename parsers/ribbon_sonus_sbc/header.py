"""The envelope of an accounting record: its record type and its comma-separated fields.

A record is one line of an accounting (`.ACT`) file, or the same text relayed by a collector:
comma-separated, the first field the record type, some fields double-quoted groups of sub-fields
(`"SIP,<call-id>,<from>,<to>,..."`). It is split as the `csv` module reads it (`split_csv_line`).
"""

from __future__ import annotations

import csv
import re
from datetime import datetime
from typing import NamedTuple

from ucsiem.parsing import ParseContext, ParseError, split_csv_line

from .values import LAYOUTS, UNMAPPED_TYPES

SHOWN = 64  # characters of a bad value quoted in an error message
_TYPE = re.compile(r"[A-Z]{3,16}")


class Header(NamedTuple):
    record_type: str  # START, STOP, ATTEMPT, or a documented type this parser does not map
    values: list[str] | None  # the fields (1-based numbers are index + 1); None for an unmapped type
    reference: datetime  # ctx.reference_time: the time stamp of an unmapped record


def read_header(text: str, ctx: ParseContext) -> Header:
    text = text.strip()
    head, sep, _ = text.partition(",")
    if not sep or _TYPE.fullmatch(head) is None:
        raise ParseError("no_match", "not a Ribbon accounting record (RECORDTYPE,<fields>...)")
    if head in UNMAPPED_TYPES:
        return Header(head, None, ctx.reference_time)
    if head not in LAYOUTS:
        raise ParseError("no_match", f"unknown Ribbon record type {head[:SHOWN]!r}")
    try:
        values = split_csv_line(text)
    except csv.Error as exc:
        raise ParseError("bad_field", f"{head} record is not valid CSV: {str(exc)[:SHOWN]}") from None
    return Header(head, values, ctx.reference_time)
