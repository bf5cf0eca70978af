"""What each Lync event id means, from the documentation (README "Event table" gives the sources).

Event ids are per provider, so the table is keyed by the provider without its product prefix
(`LS Protocol Stack` and OCS 2007 R2's `OCS Protocol Stack` are both `Protocol Stack`); the meaning is
`event.reason` when the message has no text. `classify.py` keys its Kinds the same way.
"""

from __future__ import annotations

MEANINGS: dict[tuple[str, int], str] = {
    ("Protocol Stack", 14428): "TLS outgoing connection failures",
    ("Protocol Stack", 14501): "federation routing problem reported by the protocol stack",
    ("Protocol Stack", 14502): "federation routing problem reported by the protocol stack",
    ("Protocol Stack", 14601): "discovered federated partners",
    ("Protocol Stack", 14603): "a discovered federated partner is rate limited",
    ("Push Notification Service", 22126): "potentially malicious behavior has been detected on a domain",
    ("UserPin Service", 47026): "there might be a replay attack on a particular user",
}
