"""Cisco Webex: Control Hub admin audit and security audit (sign-in/sign-out) events, webhook deliveries."""

from ucsiem.parsing import JSON_FRAMING, ParserSpec

from .parser import parse

PARSER = ParserSpec(
    id="cisco_webex",
    version="1.0.0",
    description="Webex REST API records as a poller or webhook receiver saved them (NDJSON, arrays, "
                "{\"items\": [...]} pages, pretty-printed): admin audit events (logins, settings, users, "
                "licences, integrations), security audit sign-ins/sign-outs, webhooks for meetings, "
                "participants, recordings, Webex Calling calls, messages and memberships.",
    vendor="Cisco",
    product="Webex",
    observer_type="conferencing",
    dataset="cisco.webex",
    framing=JSON_FRAMING,
    parse=parse,
)

__all__ = ["PARSER"]
