"""The payload: which Lync component wrote the event, and the values its rendered message carries.

`Certificate Subject: "fqdn,san,..."` (14603) and `Name: <edge>; Domains: <domain>` lines (14601) are
read with plain string searches, bounded in lines and items. Events of other providers (`component`
None) are not read further.
"""

from __future__ import annotations

from typing import NamedTuple

from .header import Header
from .values import MEANINGS

LYNC_PREFIXES = ("LS ", "OCS ")
LYNC_CHANNELS = frozenset(("lync server", "office communications server"))
MAX_LINES = 2000
MAX_ITEMS = 256
MAX_REASON = 512
SUBJECT = 'Certificate Subject: "'


class Body(NamedTuple):
    component: str | None  # the provider without its LS/OCS prefix; None: not a Lync provider
    event_id: int
    reason: str | None  # the message's first line (else the id's documented meaning), for ids in the table
    certificate_subject: list[str]
    partner_edges: list[str]
    partner_domains: list[str]


def lync_component(provider: str, channel: str) -> str | None:
    """`LS Protocol Stack` -> `Protocol Stack`; a provider of the Lync Server log keeps its name; other
    providers -> None."""
    for prefix in LYNC_PREFIXES:
        if provider.startswith(prefix) and len(provider) > len(prefix):
            return provider[len(prefix):].strip()
    if channel.lower() in LYNC_CHANNELS:
        return provider
    return None


def read_body(header: Header) -> Body:
    component = lync_component(header.provider, header.channel)
    if component is None:
        return Body(None, header.event_id, None, [], [], [])
    meaning = MEANINGS.get((component, header.event_id))
    reason = None
    if meaning is not None:
        reason = (header.message.split("\n", 1)[0].strip() or meaning)[:MAX_REASON]
    subject, edges, domains = _message_values(header.message)
    return Body(component, header.event_id, reason, subject, edges, domains)


def _message_values(message: str) -> tuple[list[str], list[str], list[str]]:
    """The certificate subject names, partner edges and partner domains written in the message."""
    subject: list[str] = []
    edges: list[str] = []
    domains: list[str] = []
    for n, raw in enumerate(message.split("\n")):
        if n >= MAX_LINES:
            break
        line = raw.strip()
        start = line.find(SUBJECT)
        if start >= 0 and not subject:
            value = line[start + len(SUBJECT):]
            value = value.split('"', 1)[0]
            subject = [item.strip() for item in value.split(",") if item.strip()][:MAX_ITEMS]
        name_at = line.find("Name: ")
        if name_at >= 0:
            edge, sep, rest = line[name_at + len("Name: "):].partition("; Domains: ")
            domain = rest.split(None, 1)[0].strip(".,;") if rest.strip() else ""
            if sep and edge.strip() and ";" not in edge and domain and "." in domain:
                if len(edges) < MAX_ITEMS and edge.strip() not in edges:
                    edges.append(edge.strip())
                if len(domains) < MAX_ITEMS and domain.lower() not in domains:
                    domains.append(domain.lower())
    return subject, edges, domains
