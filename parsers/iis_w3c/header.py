"""The W3C envelope: directive lines (`#Software:`, `#Fields:`...) and the columns a data row is read by.

The pipeline keeps the last `#Fields:` line of the file (`header_key`) and hands it to later rows
(`ParseContext.headers["Fields"]`), so a header change in the middle of a file is followed.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from ucsiem.parsing import ParseContext, ParseError

HEADER_KEY = "Fields"
FIELDS_DIRECTIVE = "#Fields:"
MAX_FIELDS = 64
SHOWN = 96
_DIRECTIVES = ("#Software:", "#Version:", "#Date:", "#Start-Date:", "#End-Date:", "#Remark:")


class Header(NamedTuple):
    columns: tuple[str, ...]  # lower-cased column names of the last `#Fields:` line


def header_key(raw: bytes) -> str | None:
    """`Fields` for a `#Fields:` directive (it names the columns of later rows), None otherwise."""
    if raw.startswith(b"#Fields:") or raw.startswith(b"\xef\xbb\xbf#Fields:"):
        return HEADER_KEY
    return None


@lru_cache(maxsize=32)
def header_columns(header: str) -> tuple[str, ...]:
    """Lower-cased column names of a `#Fields:` line (memoised: every row of a file looks them up)."""
    body = header.lstrip("\ufeff")
    if not body.startswith(FIELDS_DIRECTIVE):
        return ()
    names = tuple(n.lower() for n in body[len(FIELDS_DIRECTIVE):].split())
    return names if 0 < len(names) <= MAX_FIELDS else ()


def check_directive(line: str) -> None:
    """A directive line gives no event; ParseError when it is not one W3C defines (or `#Fields:` is empty)."""
    if line.startswith(FIELDS_DIRECTIVE):
        if not header_columns(line):
            raise ParseError("bad_field", f"#Fields: header without columns (or more than 64): {line[:SHOWN]!r}")
        return
    if not line.startswith(_DIRECTIVES):
        raise ParseError("no_match", f"unknown W3C directive: {line[:SHOWN]!r}")


def read_header(line: str, ctx: ParseContext) -> Header:
    """The columns of a data row, from the last `#Fields:` line of its file."""
    if not line.strip():
        raise ParseError("no_match", "empty record")
    header = ctx.headers.get(HEADER_KEY)
    columns = header_columns(header) if header else ()
    if not columns:
        raise ParseError("no_match", "no #Fields: header seen before this line in the file: W3C rows are read by "
                         f"the column names of that header: {line[:SHOWN]!r}")
    return Header(columns)
