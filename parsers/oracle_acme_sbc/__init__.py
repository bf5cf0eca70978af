"""Oracle Communications SBC (Acme Packet): syslog security messages and local CDR records (see README.md)."""

from ucsiem.parsing import Framing, ParserSpec

from .parser import parse

PARSER = ParserSpec(
    id="oracle_acme_sbc",
    version="1.0.0",
    description="Oracle Communications Session Border Controller (Acme Packet): syslog (ACLI/console login "
                "failures, IDS_LOG endpoint demotions with the offending SIP headers, other messages as "
                "diagnostics) and accounting CDRs (local CDR CSV rows, RADIUS attribute=value records).",
    vendor="Oracle",
    product="Communications Session Border Controller",
    observer_type="sbc",
    dataset="oracle.sbc",
    framing=Framing(),
    parse=parse,
)
