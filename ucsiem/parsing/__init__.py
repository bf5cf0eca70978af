"""The parser plugin contract, shared helpers and plugin discovery."""

from ucsiem.parsing.contract import Framing, ParseContext, ParsedEvent, ParserSpec, RawRecord
from ucsiem.errors import ParseError

__all__ = ["Framing", "ParseContext", "ParseError", "ParsedEvent", "ParserSpec", "RawRecord"]
