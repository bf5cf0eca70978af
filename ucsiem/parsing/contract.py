"""The parser plugin contract.

A plugin module exports one name, `PARSER`, a frozen `ParserSpec`. Its `parse` is pure: no I/O, no
globals, no wall clock. It gets one framed `RawRecord` and a `ParseContext` (timezone, reference
time for year-less stamps, options, header lines seen earlier in the same file) and returns zero or
more events as nested dicts in the shape of `ucsiem.schema.UCEvent`, or raises `ParseError`.
Returning an empty list means "not an event" (a header or banner line) and is acknowledged as done.

The pipeline owns `event.id`, `event.ingested`, `event.dataset`, `event.module`, `related.*`,
`observer.vendor/product/type`, `log.file.path`, `log.offset`, `log.flags` and `agent.*`, and fills
them after `parse`; the dicts are then validated against the schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel

from ucsiem.errors import ParseError

__all__ = [
    "Framing",
    "ParseContext",
    "ParseError",
    "ParsedEvent",
    "ParserSpec",
    "RawRecord",
]

ParsedEvent = dict[str, Any]
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


class RawRecord(NamedTuple):
    """One framed record: a line, or a multi-line record joined with `\\n`. (A tuple: one is made per
    record on the hot path.)"""

    text: str
    offset: int = 0
    path: str = ""
    flags: tuple[str, ...] = ()
    """Framing conditions: `truncated` (cut at max size), `multiline`, `invalid_utf8` (bytes replaced)."""


@dataclass(frozen=True)
class Framing:
    """How the file input cuts the byte stream into records.

    `line`: every line is a record. `multiline`: a record starts at a line matching
    `first_line_pattern` (a regex matched at the start of the line); other lines continue it, up to
    `max_lines`/`max_bytes`; a pending record is emitted after `flush_timeout_secs` without new data.
    """

    kind: Literal["line", "multiline"] = "line"
    first_line_pattern: str | None = None
    max_lines: int = 500
    max_bytes: int = 1_048_576
    flush_timeout_secs: float = 2.0

    def __post_init__(self) -> None:
        if self.kind == "multiline":
            if not self.first_line_pattern:
                raise ValueError("multiline framing needs first_line_pattern")
            re.compile(self.first_line_pattern)


@dataclass(frozen=True)
class ParseContext:
    """What a parser may know besides the record itself."""

    timezone: tzinfo = UTC
    reference_time: datetime = datetime(1970, 1, 1, tzinfo=UTC)
    """Time the pipeline read the record (file mtime in replays): gives the year to year-less stamps."""
    options: BaseModel | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    """Header lines (CSV/CDR column names) seen earlier in the same file, by `ParserSpec.header_key`."""


ParseFunction = Callable[[RawRecord, ParseContext], list[ParsedEvent]]
HeaderKeyFunction = Callable[[bytes], str | None]


@dataclass(frozen=True)
class ParserSpec:
    """Everything the agent needs to know about one log source."""

    id: str
    version: str
    description: str
    vendor: str
    product: str
    observer_type: str
    dataset: str
    parse: ParseFunction
    framing: Framing = Framing()
    options: type[BaseModel] | None = None
    header_key: HeaderKeyFunction | None = None
    """For header-driven formats: given a framed record's bytes, returns a key for a header line (its
    columns name the fields of later lines), None for other lines; it must be cheap, it sees every
    record. The pipeline remembers the last header per key and file,
    persists it with the file's position, and hands it to `parse` in `ParseContext.headers`."""

    def __post_init__(self) -> None:
        problems = []
        if not ID_PATTERN.match(self.id):
            problems.append(f"id {self.id!r} must be lowercase letters, digits and '_', starting with a letter")
        if "." not in self.dataset:
            problems.append(f"dataset {self.dataset!r} must be '<module>.<source>', e.g. cisco.expressway")
        if not self.version:
            problems.append("version must not be empty")
        if problems:
            raise ValueError(f"parser {self.id!r}: " + "; ".join(problems))

    @property
    def module(self) -> str:
        return self.dataset.split(".", 1)[0]
