"""Lync / Skype for Business Server event ids -> a `Kind` (README "Event table" gives each row's source).

Keyed by the provider without its `LS `/`OCS ` prefix, as `values.MEANINGS`. Category, type and the
default outcome come from the shared table; the rows name what the product says beyond it.
"""

from __future__ import annotations

from ucsiem.parsing import Kind, kind

from .body import Body

_ROUTING = kind("service-failure", "failure", add_type=("error",))
TABLE: dict[tuple[str, int], Kind] = {
    ("Protocol Stack", 14428): kind("tls-handshake", "failure", add_type=("error",)),
    ("Protocol Stack", 14501): _ROUTING,
    ("Protocol Stack", 14502): _ROUTING,
    ("Protocol Stack", 14601): kind("diagnostic", add_category=("network",)),
    ("Protocol Stack", 14603): kind("flood-block"),
    ("Push Notification Service", 22126): kind("security-alert", event_kind="alert"),
    ("UserPin Service", 47026): kind("security-alert", add_category=("authentication",), event_kind="alert"),
}
UNKNOWN = kind("diagnostic")


def classify(body: Body) -> Kind:
    if body.component is None:
        return UNKNOWN
    return TABLE.get((body.component, body.event_id), UNKNOWN)
