"""The parse stream of network messages that no route claims (and no default parser takes).

They must not vanish: this internal parser turns each into a dead letter that says where it came from and
what to configure, shipped and counted like any other parse error.
"""

from __future__ import annotations

from ucsiem.errors import ParseError
from ucsiem.parsing.contract import ParseContext, ParsedEvent, ParserSpec, RawRecord

UNROUTED_PARSER = "syslog_unrouted"


def _refuse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    raise ParseError("no_match", f"no route claims this message ({record.path}); add a route for it or set "
                                 "default_parser on the input")


UNROUTED_SPEC = ParserSpec(
    id=UNROUTED_PARSER, version="1", description="Messages no syslog route claims (dead letters).",
    vendor="ucsiem", product="ucsiem", observer_type="log-receiver", dataset="ucsiem.unrouted", parse=_refuse)
