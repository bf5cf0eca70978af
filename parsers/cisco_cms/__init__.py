"""Cisco Meeting Server (CMS, ex-Acano) syslog: Call Bridge, Web Bridge 3 / web app, MMP audit."""

from ucsiem.parsing import Framing, ParserSpec

from .parser import parse

PARSER = ParserSpec(
    id="cisco_cms",
    version="1.0.0",
    description="Cisco Meeting Server syslog (Mmm dd / ISO time, `facility.severity host process:`) and the web "
                "admin event log view: SIP call legs with disconnect reason, space/conference joins and leaves, "
                "guest and web app logins (SSO/SAML, LDAP authp), Web Bridge 3 access lines, MMP CLI audit, "
                "licence shortfalls; other CMS lines as diagnostic events.",
    vendor="Cisco",
    product="Meeting Server",
    observer_type="conferencing",
    dataset="cisco.cms",
    framing=Framing(),
    parse=parse,
)

__all__ = ["PARSER"]
