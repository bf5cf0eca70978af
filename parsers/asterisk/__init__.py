"""Asterisk PBX logs: security events, SIP/PJSIP/IAX2 auth and registration failures, AMI logins, calls."""

from ucsiem.parsing import Framing, ParserSpec

from .header import FIRST_LINE_PATTERN
from .parser import parse

PARSER = ParserSpec(
    id="asterisk",
    version="1.0.0",
    description="Asterisk log files and syslog: res_security_log SecurityEvent lines, chan_sip/PJSIP/IAX2 "
                "authentication and registration failures, AMI (manager) logins, rejected calls, dial "
                "progress; other lines as diagnostic events.",
    vendor="Sangoma",
    product="Asterisk",
    observer_type="pbx",
    dataset="asterisk.log",
    framing=Framing(kind="multiline", first_line_pattern=FIRST_LINE_PATTERN, max_lines=500),
    parse=parse,
)

__all__ = ["PARSER"]
