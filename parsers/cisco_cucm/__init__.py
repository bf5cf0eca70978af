"""Cisco Unified CM / UC-OS syslog: alarms and audit log lines (see README.md for the mapping)."""

from ucsiem.parsing import Framing, ParserSpec

from .parser import parse

PARSER = ParserSpec(
    id="cisco_cucm",
    version="1.0.0",
    description="Cisco Unified Communications Manager and UC-OS (VOS) appliances, remote syslog and the "
                "local CiscoSyslog file: %UC_ alarms with their [key=value] parameters and audit log "
                "lines (administrative logins, configuration changes).",
    vendor="Cisco",
    product="Unified Communications Manager",
    observer_type="pbx",
    dataset="cisco.cucm",
    framing=Framing(),
    parse=parse,
)

__all__ = ["PARSER"]
