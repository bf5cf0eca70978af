"""Kamailio SIP server: syslog and `-E` console lines, module/core messages and xlog key=value payloads."""

from ucsiem.parsing import Framing, ParserSpec, XlogOptions

from .parser import parse

PARSER = ParserSpec(
    id="kamailio",
    version="1.1.0",
    description="Kamailio syslog and -E console lines: pike flood blocking, TLS, auth, registrar/usrloc, "
                "core errors, default-cfg script lines and xlog key=value payloads mapped to the schema.",
    vendor="Kamailio",
    product="Kamailio",
    observer_type="proxy",
    dataset="kamailio.log",
    framing=Framing(),
    parse=parse,
    options=XlogOptions,
)

__all__ = ["PARSER"]
