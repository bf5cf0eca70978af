"""Microsoft IIS W3C extended logs of Skype for Business / Lync and Exchange web services (see README.md)."""

from ucsiem.parsing import Framing, ParserSpec

from .header import header_key
from .parser import parse

PARSER = ParserSpec(
    id="iis_w3c",
    version="1.0.0",
    description="IIS W3C extended logs (u_exYYMMDD.log) read by their #Fields: header: failed and challenged "
                "sign-ins on Lync/SfB and Exchange web services (WebTicket, Autodiscover, UCWA, EWS, OWA, "
                "ActiveSync, Scc/ECP...), IIS IP restrictions, other requests as web access.",
    vendor="Microsoft",
    product="IIS",
    observer_type="web-server",
    dataset="microsoft.iis_w3c",
    framing=Framing(),
    header_key=header_key,
    parse=parse,
)
