"""The unit of CPU work: a batch of framed records of one file -> serialized events.

Runs in worker processes (see `pool.py`) or inline; the golden-file harness calls the same code, so
what the tests prove is what the agent does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ucsiem.inputs.framing import Frame
from ucsiem.inputs.syslog_record import SyslogBatch
from ucsiem.normalize import Counters, InputFields, Normalizer, RecordMeta
from ucsiem.parsing.contract import ParseContext

if TYPE_CHECKING:
    from ucsiem.correlate.detector import Hit

INVALID_UTF8 = "invalid_utf8"


@dataclass(frozen=True, slots=True)
class BatchJob:
    """Sent to a worker process. Records travel as parallel lists (offsets, bytes) and a sparse map of
    flags: pickling them costs a small fraction of pickling one object per record."""

    input_id: str
    source_key: str
    path: str
    starts: list[int]
    datas: list[bytes]
    flags: dict[int, tuple[str, ...]]
    headers: dict[str, str]
    reference_time: datetime
    ingested: datetime
    record_fields: dict[int, dict[str, Any]] = field(default_factory=dict)  # sparse, by index
    syslog: SyslogBatch | None = None  # the records are syslog messages as received: parsed here, not in the loop

    @classmethod
    def of(cls, input_id: str, source_key: str, path: str, frames: list[Frame], headers: dict[str, str],
           reference_time: datetime, ingested: datetime,
           record_fields: dict[int, dict[str, Any]] | None = None, syslog: SyslogBatch | None = None) -> BatchJob:
        flags = {i: f.flags for i, f in enumerate(frames) if f.flags}
        return cls(input_id, source_key, path, [f.start for f in frames], [f.data for f in frames], flags,
                   headers, reference_time, ingested, record_fields or {}, syslog)


@dataclass(slots=True)
class BatchResult:
    docs: list[bytes]
    counters: Counters = field(default_factory=Counters)
    headers: dict[str, str] = field(default_factory=dict)  # header lines known after the last record
    hits: list[Hit] = field(default_factory=list)  # events the detection rules matched, for the correlator


def decode(data: bytes) -> tuple[str, bool]:
    """UTF-8 text of a record; bad bytes become U+FFFD and the record is flagged."""
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), True


def safe_header_key(header_key: Callable[[bytes], str | None], data: bytes) -> str | None:
    """A plugin's header test that raises on hostile bytes says "not a header" (its parse then says why)."""
    try:
        return header_key(data)
    except Exception:
        return None


def run_batch(normalizer: Normalizer, base_ctx: ParseContext, job: BatchJob) -> BatchResult:
    headers = dict(job.headers)
    ctx = replace(base_ctx, reference_time=job.reference_time, headers=headers)
    header_key = normalizer.spec.header_key
    normalizer.counters = Counters()  # per batch: the pipeline adds them up
    normalizer.hits = []
    if normalizer.enrichment is not None:
        normalizer.enrichment.begin_batch()
    docs: list[bytes] = []
    source_key, path, ingested, all_flags, syslog = job.source_key, job.path, job.ingested, job.flags, job.syslog
    # the lines a syslog daemon would have filed (what the parsers read), with the network's fields
    records = syslog.records(job.datas, all_flags) if syslog is not None else None
    for i, (start, data) in enumerate(zip(job.starts, job.datas, strict=True)):
        flags = all_flags.get(i, ())
        fields: InputFields | None = None
        if records is not None:
            text, flags, fields = records[i]
            if not text:
                continue  # nothing but trailers
            if header_key is not None:
                data = text.encode()
        elif not data:
            continue  # consumed bytes with no record (tail of an oversized line)
        else:
            text, bad = decode(data)
            if bad:
                flags = (*flags, INVALID_UTF8)
            if given := job.record_fields.get(i):  # a webhook's peer
                fields = InputFields.of(given)
        if header_key is not None and (key := safe_header_key(header_key, data)) is not None:
            headers[key] = text
        meta = RecordMeta(source_key, path, start, flags, fields)
        docs.extend(normalizer.process(text, meta, ctx, ingested))
    if normalizer.enrichment is not None:
        normalizer.counters.enrichment = normalizer.enrichment.take_counts()
    return BatchResult(docs, normalizer.counters, headers, normalizer.hits)
