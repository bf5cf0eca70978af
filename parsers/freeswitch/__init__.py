"""FreeSWITCH logs: sofia authentication failures/challenges, unknown users, ACL decisions, registrations, calls."""

from ucsiem.parsing import Framing, ParserSpec

from .header import FIRST_LINE_PATTERN
from .parser import parse

PARSER = ParserSpec(
    id="freeswitch",
    version="1.0.0",
    description="FreeSWITCH freeswitch.log and syslog/journald: sofia SIP auth failures and challenges, "
                "unknown users, ACL rejections/approvals, registrations (profile debug), channel "
                "creation/answer/hangup with cause; other lines as diagnostic events.",
    vendor="SignalWire",
    product="FreeSWITCH",
    observer_type="pbx",
    dataset="freeswitch.log",
    framing=Framing(kind="multiline", first_line_pattern=FIRST_LINE_PATTERN, max_lines=500),
    parse=parse,
)

__all__ = ["PARSER"]
