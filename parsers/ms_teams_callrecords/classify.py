"""Call records and call log rows -> a `Kind`, from the shared CATEGORISATION table.

A callRecord is `conference-end` for a meeting (`groupCall`), else `call-end`; it failed when one of its
legs or sessions has a failureInfo, and succeeded when it had sessions. A leg is `media-end`. A Direct
Routing row that was not established (`successfulCall: false`) is a `call-reject`.
"""

from __future__ import annotations

from ucsiem.parsing import Kind, kind

from .body import Leg, Record, Row

_RECORD: dict[tuple[bool, str | None], Kind] = {
    (conference, outcome): kind("conference-end" if conference else "call-end", outcome)
    for conference in (True, False) for outcome in ("failure", "success", None)
}
LEG_FAILED = kind("media-end", "failure")
LEG_ENDED = kind("media-end", "success")
REJECTED = kind("call-reject")
ENDED = kind("call-end", "success")
ENDED_UNKNOWN = kind("call-end")


def classify(body: Record) -> Kind:
    outcome = "failure" if (body.reason or body.stage) else ("success" if body.sessions else None)
    return _RECORD[(body.type == "groupCall", outcome)]


def classify_leg(body: Leg) -> Kind:
    return LEG_FAILED if (body.reason or body.stage) else LEG_ENDED


def classify_direct_routing(body: Row) -> Kind:
    if body.success is False:
        return REJECTED
    return ENDED if body.success else ENDED_UNKNOWN


def classify_pstn(body: Row) -> Kind:
    return ENDED if body.seconds else ENDED_UNKNOWN
