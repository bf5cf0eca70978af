"""Ribbon (Sonus) SBC Core / SBC SWe accounting records (see README.md for the field mapping)."""

from ucsiem.parsing import Framing, ParserSpec

from .parser import parse

PARSER = ParserSpec(
    id="ribbon_sonus_sbc",
    version="1.0.0",
    description="Ribbon (Sonus) SBC Core / SBC SWe accounting (.ACT) records: START, STOP and ATTEMPT "
                "CDRs mapped by Ribbon's field numbers; other record types as diagnostic events.",
    vendor="Ribbon Communications",
    product="SBC Core",
    observer_type="sbc",
    dataset="ribbon.sbc",
    framing=Framing(),
    parse=parse,
)
