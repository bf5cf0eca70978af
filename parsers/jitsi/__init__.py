"""Jitsi Meet: Jicofo/JVB component logs and the Prosody XMPP server's log (see README.md)."""

from ucsiem.parsing import Framing, ParserSpec

from .header import FIRST_LINE_PATTERN
from .parser import parse

PARSER = ParserSpec(
    id="jitsi",
    version="1.0.0",
    description="Jitsi Meet: Jicofo/JVB logs (conference start/end, participant join/leave, focus "
                "authentication, XMPP login failures) and Prosody logs in file, console/journald and syslog "
                "form (client sessions, logins and failed logins with mod_log_auth, JWT token failures, TLS).",
    vendor="Jitsi",
    product="Jitsi Meet",
    observer_type="conferencing",
    dataset="jitsi.meet",
    framing=Framing(kind="multiline", first_line_pattern=FIRST_LINE_PATTERN, max_lines=500),
    parse=parse,
)

__all__ = ["PARSER"]
