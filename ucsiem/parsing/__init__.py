"""The parser plugin contract, shared helpers and plugin discovery."""

from ucsiem.errors import ParseError
from ucsiem.parsing.contract import Framing, ParseContext, ParsedEvent, ParserSpec, RawRecord

__all__ = ["Framing", "ParseContext", "ParseError", "ParsedEvent", "ParserSpec", "RawRecord"]
