"""3CX Phone System: documented Server status log / Event Log messages (see README.md)."""

from ucsiem.parsing import Framing, ParserSpec

from .parser import parse

PARSER = ParserSpec(
    id="threecx",
    version="1.0.0",
    description="3CX Phone System messages with a published text: extension registration and removal "
                "(CM504001/CM504002), SIP authentication failures (CM102001), trunk registration, service "
                "start/stop, emergency calls and trunk status from the Event Log.",
    vendor="3CX",
    product="3CX Phone System",
    observer_type="pbx",
    dataset="threecx.pbx",
    framing=Framing(),
    parse=parse,
)
