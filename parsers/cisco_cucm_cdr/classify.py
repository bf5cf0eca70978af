"""A row to a `Kind`: CDRs by connect time and clearing cause, CMRs as `media-end`.

Outcome rules (README.md, "Choices"): a leg with a connect time is a `call-end` (success when the
clearing cause is a normal one, failure otherwise); a leg never connected is a `call-reject` when a
party refused or failed it (busy, unallocated number, SIP 4xx-6xx...), else a `call-attempt` with outcome
failure (abandoned or not answered).
"""

from __future__ import annotations

from ucsiem.parsing import Kind, kind

from .body import Body, CdrBody, CmrBody
from .codes import NORMAL_CAUSES, UNANSWERED_CAUSES

CALL_END = kind("call-end", "success")
CALL_END_FAILED = kind("call-end", "failure")
CALL_ATTEMPT = kind("call-attempt", "failure")  # abandoned or not answered
CALL_REJECT = kind("call-reject", "failure")
MEDIA_END = kind("media-end")


def classify(body: Body) -> Kind:
    return classify_cdr(body) if isinstance(body, CdrBody) else classify_cmr(body)


def classify_cdr(body: CdrBody) -> Kind:
    normal = body.cause is None or body.cause in NORMAL_CAUSES
    if body.connect_time is not None:
        return CALL_END if normal else CALL_END_FAILED
    if normal or body.cause in UNANSWERED_CAUSES:
        return CALL_ATTEMPT
    return CALL_REJECT


def classify_cmr(body: CmrBody) -> Kind:
    return MEDIA_END
