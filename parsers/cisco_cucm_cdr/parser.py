"""Entry points: `header_key` (remembers the names line per file) and `parse` (one flat-file line):
names and types lines make no event; a data row is read under its file's names line, as a CDR or a CMR.
"""

from __future__ import annotations

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord

from .body import read_cdr, read_cmr
from .classify import classify_cdr, classify_cmr
from .event import assemble_cdr, assemble_cmr
from .flatfile import Row, read_values
from .header import CDR_KEY, check_names_line, header_family, is_names_line, is_types_line, read_header


def header_key(raw: bytes) -> str | None:
    """Key of a names line (`cucm_cdr` or `cucm_cmr`), None for any other record."""
    return header_family(raw)


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    text = record.text.rstrip("\r\n")
    if not text.strip():
        raise ParseError("no_match", "empty line")
    if is_names_line(text):
        check_names_line(text)
        return []
    if is_types_line(text):
        return []
    values = read_values(text)
    header = read_header(values, ctx)
    row = Row(header, values)
    if header.family == CDR_KEY:
        cdr = read_cdr(row)
        return [assemble_cdr(header, cdr, classify_cdr(cdr))]
    cmr = read_cmr(row)
    return [assemble_cmr(header, cmr, classify_cmr(cmr))]
