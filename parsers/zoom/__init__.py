"""Zoom webhook events: meetings, webinars, participants, sign-ins, user and account management,
Zoom Phone calls and call logs, cloud recordings, chat message metadata."""

from ucsiem.parsing import JSON_FRAMING, ParserSpec

from .parser import parse

PARSER = ParserSpec(
    id="zoom",
    version="1.0.0",
    description="Zoom webhook bodies as a webhook receiver saved them (NDJSON, arrays, pretty-printed): "
                "meeting/webinar start, end, participants and scheduling changes; user sign-in/out; user "
                "and account management with changed settings; Zoom Phone ringing/answer/end/missed and "
                "call logs; recordings; chat message metadata; other events as diagnostic.",
    vendor="Zoom",
    product="Zoom",
    observer_type="conferencing",
    dataset="zoom.webhook",
    framing=JSON_FRAMING,
    parse=parse,
)

__all__ = ["PARSER"]
