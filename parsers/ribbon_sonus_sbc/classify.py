"""Record types to a `Kind` (category, type and default outcome from the shared `CATEGORISATION`). Pure."""

from __future__ import annotations

from ucsiem.parsing import Kind, kind

from .body import Body
from .header import Header

# Every ATTEMPT is a failure whatever its cause (unanswered, busy, rejected, unauthorised): those are the
# records toll-fraud and scanning detection look at.
KINDS: dict[str, Kind] = {
    "START": kind("call-start"),  # service established
    "STOP": kind("call-end", "success"),  # end of a connected call
    "ATTEMPT": kind("call-reject"),  # never connected
}
UNMAPPED = kind("diagnostic")


def classify(body: Body) -> Kind:
    return KINDS[body.record_type]


def classify_unmapped(header: Header) -> Kind:
    """A documented record type whose field positions this parser does not read."""
    return UNMAPPED
