"""Lync / Skype for Business Server (Edge) Windows events shipped as JSON by Winlogbeat or NXLog."""

from ucsiem.parsing import JSON_FRAMING, ParserSpec

from .parser import parse

PARSER = ParserSpec(
    id="lync_windows_events",
    version="1.0.0",
    description="Windows events of the \"Lync Server\" / \"Office Communications Server\" log (LS/OCS Protocol "
                "Stack, User Services, Push Notification Service, UserPin Service...) as Winlogbeat (ECS or "
                "6.x) or NXLog im_msvistalog JSON: TLS outgoing failures, rate-limited and discovered "
                "federated partners, potentially malicious domains, PIN replay; other ids and providers "
                "as diagnostic events.",
    vendor="Microsoft",
    product="Skype for Business Server",
    observer_type="proxy",
    dataset="microsoft.sfb_eventlog",
    framing=JSON_FRAMING,
    parse=parse,
)

__all__ = ["PARSER"]
