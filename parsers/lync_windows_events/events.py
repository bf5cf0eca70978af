"""Lync / Skype for Business Server event ids -> action, and the values their messages carry.

Event ids are per provider, so the table is keyed by the provider without its product prefix
(`LS Protocol Stack` and OCS 2007 R2's `OCS Protocol Stack` are both `Protocol Stack`). Sources of each
row are in README.md; where the meaning is inferred, the README says so.
"""

from __future__ import annotations

from typing import NamedTuple

LYNC_PREFIXES = ("LS ", "OCS ")
LYNC_CHANNELS = frozenset(("lync server", "office communications server"))
MAX_LINES = 2000
MAX_ITEMS = 256


class Kind(NamedTuple):
    action: str
    category: tuple[str, ...]
    type: tuple[str, ...]
    outcome: str | None
    kind: str
    meaning: str
    """What the id means, from the documentation (used as event.reason when the message has no text)."""


_IDS = ("network", "intrusion_detection")
TABLE: dict[tuple[str, int], Kind] = {
    ("Protocol Stack", 14428): Kind("tls-handshake", ("network",), ("connection", "error"), "failure", "event",
                                    "TLS outgoing connection failures"),
    ("Protocol Stack", 14501): Kind("service-failure", ("network",), ("connection", "error"), "failure", "event",
                                    "federation routing problem reported by the protocol stack"),
    ("Protocol Stack", 14502): Kind("service-failure", ("network",), ("connection", "error"), "failure", "event",
                                    "federation routing problem reported by the protocol stack"),
    ("Protocol Stack", 14601): Kind("diagnostic", ("network",), ("info",), None, "event",
                                    "discovered federated partners"),
    ("Protocol Stack", 14603): Kind("flood-block", _IDS, ("denied",), "success", "event",
                                    "a discovered federated partner is rate limited"),
    ("Push Notification Service", 22126): Kind("security-alert", ("intrusion_detection",), ("info",), None, "alert",
                                               "potentially malicious behavior has been detected on a domain"),
    ("UserPin Service", 47026): Kind("security-alert", ("intrusion_detection", "authentication"), ("info",), None,
                                     "alert", "there might be a replay attack on a particular user"),
}
UNKNOWN = Kind("diagnostic", (), ("info",), None, "event", "")


def lync_component(provider: str, channel: str) -> str | None:
    """`LS Protocol Stack` -> `Protocol Stack`; a provider of the Lync Server log keeps its name; other
    providers -> None."""
    for prefix in LYNC_PREFIXES:
        if provider.startswith(prefix) and len(provider) > len(prefix):
            return provider[len(prefix):].strip()
    if channel.lower() in LYNC_CHANNELS:
        return provider
    return None


def classify(component: str, event_id: int) -> Kind:
    return TABLE.get((component, event_id), UNKNOWN)


class Extracted(NamedTuple):
    certificate_subject: list[str]
    partner_edges: list[str]
    partner_domains: list[str]


def extract(message: str) -> Extracted:
    """`Certificate Subject: "fqdn,san,..."` (14603) and `Name: <edge>; Domains: <domain>` lines (14601)."""
    subject: list[str] = []
    edges: list[str] = []
    domains: list[str] = []
    for n, raw in enumerate(message.split("\n")):
        if n >= MAX_LINES:
            break
        line = raw.strip()
        start = line.find('Certificate Subject: "')
        if start >= 0 and not subject:
            value = line[start + len('Certificate Subject: "'):]
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
    return Extracted(subject, edges, domains)
