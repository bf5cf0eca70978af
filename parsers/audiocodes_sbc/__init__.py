"""AudioCodes Mediant SBC: free-text syslog and CDRs over syslog (see README.md for the field mapping)."""

from ucsiem.parsing import Framing, ParserSpec

from .parser import header_key, parse

PARSER = ParserSpec(
    id="audiocodes_sbc",
    version="1.0.0",
    description="AudioCodes Mediant SBC syslog: SIP traces, Activity Log, alarms/diagnostics and "
                "header-driven CDRs (signalling, media, gateway).",
    vendor="AudioCodes",
    product="Mediant SBC",
    observer_type="sbc",
    dataset="audiocodes.sbc",
    framing=Framing(),
    header_key=header_key,
    parse=parse,
)
