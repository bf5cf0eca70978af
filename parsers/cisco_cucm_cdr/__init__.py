"""Cisco Unified CM CDR and CMR flat files, read by their header line (see README.md for the mapping)."""

from ucsiem.parsing import Framing, ParserSpec

from .parser import header_key, parse

PARSER = ParserSpec(
    id="cisco_cucm_cdr",
    version="1.0.0",
    description="Cisco Unified Communications Manager CDR and CMR flat files (CSV with a names line and a "
                "types line): call legs as call-end/call-reject/call-attempt, media quality as media-end.",
    vendor="Cisco",
    product="Unified Communications Manager",
    observer_type="pbx",
    dataset="cisco.cucm_cdr",
    framing=Framing(),
    header_key=header_key,
    parse=parse,
)
