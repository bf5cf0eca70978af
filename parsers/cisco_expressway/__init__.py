"""Cisco Expressway / VCS (TelePresence Video Communication Server) event, audit and network logs."""

from ucsiem.parsing import Framing, ParserSpec

from .header import FIRST_LINE_PATTERN
from .parser import parse

PARSER = ParserSpec(
    id="cisco_expressway",
    version="1.0.0",
    description=(
        "Cisco Expressway/VCS syslog: event log (calls, registrations, searches, authentication, "
        "admin sessions, TLS errors), configuration audit, alarms, network/developer log lines and "
        "multi-line SIP message logging (SIPMSG)."
    ),
    vendor="Cisco",
    product="Expressway",
    observer_type="proxy",
    dataset="cisco.expressway",
    framing=Framing(kind="multiline", first_line_pattern=FIRST_LINE_PATTERN, max_lines=500),
    parse=parse,
)
