"""The message after the header, read by the process that wrote it: the Call Bridge (`host:server`, and
every line of the web admin event log, `callbridge.py`), the web app back end, the Web Bridge 3 front
end, the MMP CLI, LDAP authentication and the streamer (`components.py`). A reader names the vendor
event it recognised in `what` (classify.py maps it to a Kind); a message no reader knows keeps None
and is `diagnostic`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .callbridge import read_call_bridge
from .components import read_authp, read_client_backend, read_mmp_audit, read_streamer, read_web_bridge_access
from .header import Header


@dataclass(slots=True)
class Body:
    """What the message says, as typed values."""

    message: str
    what: str | None = None  # the vendor event recognised (a key of classify.KINDS), None: diagnostic
    reason: str | None = None
    logger: str | None = None
    user_name: str | None = None
    user_full_name: str | None = None
    target_name: str | None = None  # the account acted on
    target_full_name: str | None = None
    source_ip: str | None = None
    source_port: int | None = None
    source_user: tuple[str | None, str | None] | None = None  # (name, domain) of a caller URI
    destination_user: tuple[str | None, str | None] | None = None
    protocol: str | None = None
    direction: str | None = None  # network.direction
    application: str | None = None
    leg_id: str | None = None
    call_direction: str | None = None
    caller: str | None = None
    callee: str | None = None
    disconnect_cause: str | None = None
    disconnect_side: str | None = None
    duration: int | None = None  # seconds
    conference_id: str | None = None
    conference_name: str | None = None
    participant: str | None = None
    sip_call_id: str | None = None
    tls_established: bool | None = None
    command_line: str | None = None
    url: str | None = None  # the request target of a Web Bridge access line
    url_path: str | None = None
    url_query: str | None = None
    http_method: str | None = None
    http_referrer: str | None = None
    http_status: int | None = None
    http_bytes: int | None = None
    http_version: str | None = None
    user_agent: str | None = None
    vendor: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)


def read_body(header: Header) -> Body:
    body = Body(header.message)
    process = header.process
    if process is None or process == "host:server":
        read_call_bridge(body, header.level)
    elif process == "client_backend":
        read_client_backend(body)
    elif process == "wb3_frontend":
        read_web_bridge_access(body)
    elif process == "cli":
        read_mmp_audit(body)
    elif process == "authp":
        read_authp(body)
    elif process.startswith("streamer"):
        read_streamer(body)
    return body
