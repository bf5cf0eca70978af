"""The unit of CPU work: a batch of framed records of one file -> serialized events.

Runs in worker processes (see `pool.py`) or inline; the golden-file harness calls the same code, so
what the tests prove is what the agent does.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from ucsiem.inputs.framing import Frame
from ucsiem.normalize import Counters, Normalizer, RecordMeta
from ucsiem.parsing.contract import ParseContext

INVALID_UTF8 = "invalid_utf8"


@dataclass(frozen=True, slots=True)
class BatchJob:
    input_id: str
    source_key: str
    path: str
    frames: list[Frame]
    headers: dict[str, str]
    reference_time: datetime
    ingested: datetime


@dataclass(slots=True)
class BatchResult:
    docs: list[bytes]
    counters: Counters = field(default_factory=Counters)


def decode(data: bytes) -> tuple[str, bool]:
    """UTF-8 text of a record; bad bytes become U+FFFD and the record is flagged."""
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), True


def run_batch(normalizer: Normalizer, base_ctx: ParseContext, job: BatchJob) -> BatchResult:
    headers = dict(job.headers)
    ctx = replace(base_ctx, reference_time=job.reference_time, headers=headers)
    header_key = normalizer.spec.header_key
    normalizer.counters = Counters()  # per batch: the pipeline adds them up
    docs: list[bytes] = []
    for frame in job.frames:
        if not frame.data:
            continue  # consumed bytes with no record (tail of an oversized line)
        text, bad = decode(frame.data)
        flags = (*frame.flags, INVALID_UTF8) if bad else frame.flags
        if header_key is not None and (key := header_key(frame.data)) is not None:
            headers[key] = text
        meta = RecordMeta(job.source_key, job.path, frame.start, flags)
        docs.extend(normalizer.process(text, meta, ctx, job.ingested))
    return BatchResult(docs, normalizer.counters)
