"""Office 365 unified audit log (Management Activity API): Microsoft Teams, Azure AD sign-ins, Exchange."""

from ucsiem.parsing import JSON_FRAMING, ParserSpec

from .parser import parse

PARSER = ParserSpec(
    id="o365_audit",
    version="1.0.0",
    description="Office 365 Management Activity API audit records as a collector saved them (NDJSON, the "
                "API's JSON arrays, pretty-printed): Teams sign-ins, team/channel/app configuration, "
                "membership changes with their targets, chat message activity, meeting attendance; Azure AD "
                "STS sign-ins with LogonError; other operations as diagnostic events.",
    vendor="Microsoft",
    product="Office 365",
    observer_type="saas",
    dataset="o365.audit",
    framing=JSON_FRAMING,
    parse=parse,
)

__all__ = ["PARSER"]
