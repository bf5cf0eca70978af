"""OpenSIPS SIP server: syslog and console lines (`LEVEL:module:function: message`), xlog payloads."""

from ucsiem.parsing import Framing, ParserSpec, XlogOptions

from .parser import parse

PARSER = ParserSpec(
    id="opensips",
    version="1.1.0",
    description="OpenSIPS syslog and log_stderror lines: pike flood blocking, TLS, auth, registrar/usrloc, "
                "core and config errors, xlog key=value payloads mapped to the schema.",
    vendor="OpenSIPS",
    product="OpenSIPS",
    observer_type="proxy",
    dataset="opensips.log",
    framing=Framing(),
    parse=parse,
    options=XlogOptions,
)

__all__ = ["PARSER"]
