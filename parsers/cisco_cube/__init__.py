"""Cisco Unified Border Element (CUBE) and IOS / IOS-XE voice gateways (CME, SRST): syslog."""

from ucsiem.parsing import Framing, ParserSpec

from .parser import parse

PARSER = ParserSpec(
    id="cisco_cube",
    version="1.0.0",
    description="Cisco CUBE / IOS and IOS-XE voice gateway syslog (also CME, SRST): %FACILITY-SEVERITY-MNEMONIC "
                "messages with voice internal error codes (toll fraud, CAC), SIP trunk and H.323 registration, "
                "call admission control, gw-accounting CDRs, logins, SSH, configuration changes; debug and "
                "VoIP trace lines as diagnostic events.",
    vendor="Cisco",
    product="Unified Border Element",
    observer_type="sbc",
    dataset="cisco.cube",
    framing=Framing(),
    parse=parse,
)

__all__ = ["PARSER"]
