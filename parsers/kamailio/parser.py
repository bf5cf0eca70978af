"""Kamailio lines, parsed by the code shared with the OpenSIPS parser (`ucsiem.parsing.sipproxy`, README.md).

The header and body forms, the message families, the xlog key table and the action table are the
`kamailio` flavour of `parse_sip_proxy_line`; this README documents them.
"""

from __future__ import annotations

from ucsiem.parsing import ParseContext, ParsedEvent, RawRecord, parse_sip_proxy_line

__all__ = ["parse"]


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    return parse_sip_proxy_line(record, ctx, "kamailio")
