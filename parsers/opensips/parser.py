"""OpenSIPS lines, parsed by the code shared with the Kamailio parser (`ucsiem.parsing.sipproxy`, README.md).

The two servers share their ancestry (SER): the same syslog transport, the same module messages (pike,
usrloc, registrar, auth_db) and the same script language. Only the line prefix differs: OpenSIPS writes
`LEVEL:module:function: message` and, on its console, `Mmm dd HH:MM:SS [pid] ...`; the `opensips`
flavour of the shared code reads those.
"""

from __future__ import annotations

from ucsiem.parsing import ParseContext, ParsedEvent, RawRecord, parse_sip_proxy_line

__all__ = ["parse"]


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    return parse_sip_proxy_line(record, ctx, "opensips")
