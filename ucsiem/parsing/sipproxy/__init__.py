"""Kamailio and OpenSIPS: one parser for the SIP proxies of the SER family, in two flavours.

Both servers descend from SER: the same syslog transport, the same module messages (pike, usrloc,
registrar, auth_db, tls) and the same script language (`xlog`); only the line prefix differs
(`LEVEL: <module> [file:line]: function(): message` against `LEVEL:module:function: message`, and
each its own console form). The `kamailio` and `opensips` plugins are thin specs over this package,
so neither imports the other; their README files document the formats and the field mapping.

`parse_sip_proxy_line(record, ctx, flavour)` parses one line; `XlogOptions` is the parser options model
both plugins declare (`ParserSpec.options`): the operator's own xlog event words and key names.
"""

from ucsiem.parsing.sipproxy.options import XlogOptions
from ucsiem.parsing.sipproxy.parser import Flavour, parse_sip_proxy_line

__all__ = ["Flavour", "XlogOptions", "parse_sip_proxy_line"]
