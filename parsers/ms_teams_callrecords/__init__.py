"""Microsoft Teams call records from Microsoft Graph: callRecords with sessions and segments, Direct
Routing and PSTN call logs."""

from ucsiem.parsing import JSON_FRAMING, ParserSpec

from .parser import parse

PARSER = ParserSpec(
    id="ms_teams_callrecords",
    version="1.0.0",
    description="Microsoft Graph cloud communications call records as saved by an export script or a "
                "webhook receiver (NDJSON, arrays, Graph pages, pretty-printed): callRecord -> call-end or "
                "conference-end plus one media-end per segment with endpoints, user agents, network and "
                "stream quality; getDirectRoutingCalls and getPstnCalls rows -> call-end / call-reject.",
    vendor="Microsoft",
    product="Teams",
    observer_type="conferencing",
    dataset="ms_teams.callrecords",
    framing=JSON_FRAMING,
    parse=parse,
)

__all__ = ["PARSER"]
